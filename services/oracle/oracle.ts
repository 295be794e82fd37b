import type { IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { type Address, formatUnits, isAddress, type LocalAccount } from 'viem'
import { priceFeedAbi } from '../../sdk/abi/PriceFeed.js'
import { createChainClients } from '../../sdk/client.js'
import { BaseError } from '../../sdk/errors.js'
import type { Manifest } from '../../sdk/manifest.js'
import { HttpError, type Route, serveJson } from '../core/http.js'
import type { Logger } from '../core/logger.js'
import { backoffMs, sleep } from '../core/sleep.js'
import { openStore } from '../core/store.js'
import { type Clock, type FeedSettings, type FeedView, OracleNode } from './node.js'
import { oracleMigrations } from './schema.js'
import { buildSource, type PriceSource, type SourceSpec } from './sources.js'

/** One feed the nodes serve. */
export type OracleFeed = {
  /** The PriceFeed contract. */
  address: Address
  /** The asset symbol: what the price source and POST /shock call it (e.g. WETH). */
  asset: string
  /** The feed's decimals; read from the contract when omitted (and checked against it when given). */
  decimals?: number
  /** Random walk only: annualized volatility (default: DEFAULT_ASSETS of sources.ts). */
  sigma?: number
  /** Random walk only: the price at the walk's origin (default: DEFAULT_ASSETS of sources.ts). */
  initialPrice?: number
  /** Relative move of the median against the on-chain answer that triggers a round (default 0.005). */
  deviation?: number
  /** Seconds of chain time after which a round is due even if the price did not move (default 60). */
  heartbeatSeconds?: number
}

/** One node (one key) hosted by this process. */
export type OracleNodeOptions = {
  /** Signs observations; its address must be in the feeds' oracle sets. */
  account: LocalAccount
  /** Pays for `transmit` (default: `account`); needs funds on the feeds' chain. */
  transmitter?: LocalAccount
  /** HTTP port (default 0: any free port). */
  port?: number
  /** Default: `<dataDir>/oracle-<address>.db`. */
  dbPath?: string
  /** This node's own price source instead of the shared one (tests: a faulty node). */
  source?: PriceSource
}

export type OracleNodesOptions = {
  manifest: Manifest
  /** The manifest chain the feeds live on (default "hub"). */
  chain?: string
  feeds: readonly OracleFeed[]
  nodes: readonly OracleNodeOptions[]
  /** Where prices come from: a random walk, a replayed history, or any PriceSource. */
  source: SourceSpec
  /** URLs of oracle nodes in other processes (the ones started here are known already). */
  peers?: readonly string[]
  dataDir: string
  logger: Logger
  /** Devnet only: enables POST /shock. */
  devnet?: boolean
  /** How often each node looks at the chain and its price (default 500 ms). */
  tickMs?: number
  /** How long a responsible transmitter may leave a due round before the next node takes over (default 5 s). */
  fallbackMs?: number
  /** Aborting stops the nodes (like `stop()`). */
  signal?: AbortSignal
  /** Wall clock in ms (tests). */
  now?: () => number
  host?: string
}

export type RunningOracleNode = { address: Address; url: string; stop(): Promise<void> }

export type RunningOracleNodes = {
  nodes: RunningOracleNode[]
  stop(): Promise<void>
}

export class OracleConfigError extends BaseError {
  override name = 'OracleConfigError'
}

/** How often the feeds' oracle sets and observation age limits are read again. */
const CONFIG_TTL_MS = 10_000

/**
 * Oracle nodes (services/oracle/README.md): each observes prices from the source, signs them for
 * every feed and serves its latest signed observation over HTTP; the node whose turn it is
 * collects ≥ 2f+1 of them from its peers and transmits a report when the median moved more than
 * the feed's deviation from the on-chain answer, or when the answer is older than the heartbeat.
 * Several nodes may share a process (each with its own key, database and port).
 */
export async function startOracleNodes(options: OracleNodesOptions): Promise<RunningOracleNodes> {
  const { manifest, logger } = options
  const chainName = options.chain ?? 'hub'
  const entry = manifest.chains.find((c) => c.name === chainName)
  if (!entry) throw new OracleConfigError(`the manifest has no chain named "${chainName}"`)
  if (!options.nodes.length) throw new OracleConfigError('no oracle nodes to start')
  if (!options.feeds.length) throw new OracleConfigError('no feeds to serve')
  const tickMs = options.tickMs ?? 500
  const fallbackMs = options.fallbackMs ?? 5_000
  const now = options.now ?? Date.now
  const reader = createChainClients(entry, options.nodes[0]!.account)

  const feeds = await Promise.all(options.feeds.map((feed) => settingsOf(feed)))
  const assets = new Map(feeds.map((f) => [f.asset.toLowerCase(), f.asset]))
  const shared = buildSource(options.source, options.feeds)

  let latestBlockTime = 0
  const readBlockTime = async () => {
    const block = await reader.public.getBlock({ blockTag: 'latest' })
    latestBlockTime = Number(block.timestamp)
  }
  const clock: Clock = {
    now,
    // The next block's time is at least the wall clock (anvil, and any chain whose validators keep
    // time) and at least the latest block's: a stamp of the larger is never "from the future".
    stamp: () => Math.max(Math.floor(now() / 1_000), latestBlockTime),
    freshStamp: async () => {
      await readBlockTime().catch(() => undefined)
      return clock.stamp()
    },
  }

  const views = new Map<string, FeedView & { configAt: number }>()
  const nodes: { node: OracleNode; url: string; close(): Promise<void> }[] = []
  const remotePeers = [...(options.peers ?? [])].map((u) => u.replace(/\/+$/, ''))

  const routes = (node: OracleNode): Route[] => [
    async (url, request) => {
      if (url.pathname !== '/health' || request.method !== 'GET') return undefined
      return { status: 200, body: { ok: true, address: node.address } }
    },
    async (url, request) => {
      if (url.pathname !== '/observation' || request.method !== 'GET') return undefined
      const settings = feedFromQuery(url)
      const observation = await node.observe(settings)
      return {
        status: 200,
        body: {
          oracle: node.address,
          feed: settings.address,
          chainId: entry.chainId,
          asset: settings.asset,
          value: observation.value.toString(),
          observedAt: observation.observedAt,
          signature: observation.signature,
          price: observation.price,
        },
      }
    },
    async (url, request) => {
      if (url.pathname !== '/status' || request.method !== 'GET') return undefined
      return { status: 200, body: status(node) }
    },
    async (url, request) => {
      if (url.pathname !== '/shock') return undefined
      if (request.method !== 'POST') throw new HttpError(405, 'POST /shock {"asset":"WETH","factor":0.6}')
      if (!options.devnet) throw new HttpError(403, 'price shocks are for devnets only')
      const raw = await readJson(request)
      const body = (raw && typeof raw === 'object' ? raw : {}) as {
        asset?: unknown
        factor?: unknown
        reset?: unknown
      }
      const asset = typeof body.asset === 'string' ? assets.get(body.asset.toLowerCase()) : undefined
      if (!asset)
        throw new HttpError(400, `unknown asset ${JSON.stringify(body.asset)}`, {
          assets: [...assets.values()],
        })
      const reset = body.reset === true
      const factor = body.factor ?? (reset ? 1 : undefined)
      if (typeof factor !== 'number' || !Number.isFinite(factor) || factor <= 0)
        throw new HttpError(400, 'factor must be a positive number')
      // A shock is the market's, not one node's: every node of this process sees it.
      let total = factor
      for (const { node: n } of nodes) if (!n.stopped) total = n.applyShock(asset, factor, reset)
      return {
        status: 200,
        body: {
          asset,
          factor: total,
          nodes: nodes.filter((n) => !n.node.stopped).map((n) => n.node.address),
        },
      }
    },
  ]

  function feedFromQuery(url: URL): FeedSettings {
    const feed = url.searchParams.get('feed')
    if (!feed || !isAddress(feed)) throw new HttpError(400, 'query parameter feed must be an address')
    const settings = feeds.find((f) => f.address.toLowerCase() === feed.toLowerCase())
    if (!settings) throw new HttpError(404, `this node does not serve feed ${feed}`)
    return settings
  }

  function status(node: OracleNode) {
    return {
      address: node.address,
      chain: entry!.name,
      feeds: feeds.map((settings) => {
        const view = views.get(settings.address.toLowerCase())
        const observation = node.lastObservation(settings.address)
        const last = node.lastTransmit(settings.address)
        let sourcePrice: number | null = null
        try {
          sourcePrice = node.sourcePrice(settings.asset)
        } catch {
          // a source that cannot price this asset shows null
        }
        return {
          feed: settings.address,
          asset: settings.asset,
          decimals: settings.decimals,
          sourcePrice,
          shock: node.shock(settings.asset),
          position: view ? node.position(view) : null,
          observation: observation
            ? {
                value: observation.value.toString(),
                price: observation.price,
                observedAt: observation.observedAt,
              }
            : null,
          onChain: view?.round
            ? {
                roundId: view.round.id.toString(),
                answer: view.round.answer.toString(),
                price: Number(formatUnits(view.round.answer, settings.decimals)),
                updatedAt: view.round.updatedAt,
              }
            : null,
          lastTransmit: last
            ? {
                status: last.status,
                txHash: last.tx_hash,
                roundId: last.round_id,
                answer: last.answer,
                observations: last.observations,
                reason: last.reason,
                at: new Date(last.created_at).toISOString(),
              }
            : null,
        }
      }),
    }
  }

  async function settingsOf(feed: OracleFeed): Promise<FeedSettings> {
    if (!isAddress(feed.address))
      throw new OracleConfigError(`feed ${feed.asset}: bad address ${feed.address}`)
    let decimals: number
    try {
      decimals = await reader.public.readContract({
        address: feed.address,
        abi: priceFeedAbi,
        functionName: 'decimals',
      })
    } catch (cause) {
      throw new OracleConfigError(`feed ${feed.asset} at ${feed.address}: not a PriceFeed on ${chainName}`, {
        cause,
      })
    }
    if (feed.decimals !== undefined && feed.decimals !== decimals)
      throw new OracleConfigError(
        `feed ${feed.asset}: configured decimals ${feed.decimals}, on chain ${decimals}`,
      )
    return {
      address: feed.address,
      asset: feed.asset,
      decimals,
      deviation: feed.deviation ?? 0.005,
      heartbeatSeconds: feed.heartbeatSeconds ?? 60,
    }
  }

  async function refresh(settings: FeedSettings): Promise<FeedView> {
    const key = settings.address.toLowerCase()
    const address = settings.address
    let view = views.get(key)
    if (!view || now() - view.configAt > CONFIG_TTL_MS) {
      const read = <const F extends 'oracles' | 'faulty' | 'maxObservationAge'>(functionName: F) =>
        reader.public.readContract({ address, abi: priceFeedAbi, functionName })
      const [oracles, faulty, maxObservationAge] = await Promise.all([
        read('oracles'),
        read('faulty'),
        read('maxObservationAge'),
      ])
      view = {
        settings,
        oracles: [...oracles],
        faulty,
        maxObservationAge,
        round: view?.round,
        configAt: now(),
      }
      views.set(key, view)
    }
    const [roundId, answer, , updatedAt] = await reader.public
      .readContract({ address, abi: priceFeedAbi, functionName: 'latestRoundData' })
      .catch((error: unknown) => {
        if ((error as Error).message?.includes('PriceFeedNoData')) return undefined
        throw error
      })
      .then((r) => r ?? [0n, 0n, 0n, 0n])
    view.round = roundId ? { id: roundId, answer, updatedAt: Number(updatedAt) } : undefined
    return view
  }

  // The nodes and their servers.
  try {
    for (const spec of options.nodes) {
      const { account } = spec
      const db = openStore(
        spec.dbPath ?? join(options.dataDir, `oracle-${account.address}.db`),
        oracleMigrations,
      )
      const nodeLogger = logger.child({ oracle: account.address })
      const wallet = createChainClients(entry, spec.transmitter ?? account).wallet
      const node: OracleNode = new OracleNode(
        account,
        wallet,
        db,
        {
          chainId: entry.chainId,
          clients: reader,
          clock,
          source: spec.source ?? shared,
          logger: nodeLogger,
          fallbackMs,
          peerUrls: () => [...nodes.filter((n) => n.node !== node).map((n) => n.url), ...remotePeers],
        },
        nodeLogger,
      )
      let server: Awaited<ReturnType<typeof serveJson>>
      try {
        server = await serveJson(routes(node), {
          port: spec.port ?? 0,
          host: options.host,
          logger: nodeLogger,
        })
      } catch (error) {
        db.close()
        throw error
      }
      nodes.push({
        node,
        url: server.url,
        async close() {
          if (node.stopped) return
          node.stopped = true
          await server.close()
          await node.settle()
          db.close()
        },
      })
    }
  } catch (error) {
    await Promise.all(nodes.map((n) => n.close()))
    throw error
  }

  // Funds are needed to transmit: say so at once rather than on the first due round.
  for (const spec of options.nodes) {
    const payer = (spec.transmitter ?? spec.account).address
    reader.public
      .getBalance({ address: payer })
      .then((balance) => {
        if (balance === 0n)
          logger.warn({ payer, chain: chainName }, 'transmitter has no funds: it cannot transmit')
      })
      .catch(() => undefined)
  }

  const controller = new AbortController()
  const signal = controller.signal
  const loop = (async () => {
    let failures = 0
    while (!signal.aborted) {
      const started = now()
      try {
        await readBlockTime()
        const current = await Promise.all(feeds.map(refresh))
        await Promise.all(
          nodes
            .filter((n) => !n.node.stopped)
            .flatMap(({ node }) =>
              current.map((view) =>
                node
                  .step(view)
                  .catch((error: unknown) => node.logger.error({ err: error }, 'oracle step failed')),
              ),
            ),
        )
        failures = 0
      } catch (error) {
        logger.warn({ err: error }, 'reading the feeds failed: retrying')
        await sleep(backoffMs(failures++, tickMs, 10_000), signal)
      }
      await sleep(Math.max(0, tickMs - (now() - started)), signal)
    }
  })()

  for (const { node, url } of nodes)
    logger.info({ url, address: node.address, feeds: feeds.length }, 'oracle node started')

  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      controller.abort()
      await Promise.all(nodes.map((n) => n.close()))
      await loop
    })()
    return stopping
  }
  options.signal?.addEventListener('abort', () => void stop(), { once: true })
  if (options.signal?.aborted) await stop()

  return {
    nodes: nodes.map((n) => ({ address: n.node.address, url: n.url, stop: () => n.close() })),
    stop,
  }
}

/** A JSON request body (at most 16 KiB). */
async function readJson(request: IncomingMessage): Promise<unknown> {
  let text = ''
  for await (const chunk of request) {
    text += chunk
    if (text.length > 16_384) throw new HttpError(413, 'request body too large')
  }
  try {
    return JSON.parse(text || '{}')
  } catch {
    throw new HttpError(400, 'request body must be JSON')
  }
}
