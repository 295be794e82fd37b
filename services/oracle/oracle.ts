import type { IncomingMessage } from 'node:http'
import { join } from 'node:path'
import { type Address, erc20Abi, formatUnits, isAddress, type LocalAccount } from 'viem'
import { priceFeedAbi } from '../../sdk/abi/PriceFeed.js'
import { reserveReporterAbi } from '../../sdk/abi/ReserveReporter.js'
import { type ChainClients, createChainClients } from '../../sdk/client.js'
import { BaseError } from '../../sdk/errors.js'
import type { ChainEntry, Manifest } from '../../sdk/manifest.js'
import { HttpError, type Route, serveJson } from '../core/http.js'
import type { Logger } from '../core/logger.js'
import { backoffMs, sleep } from '../core/sleep.js'
import { openStore } from '../core/store.js'
import { type Clock, type FeedSettings, type FeedView, type NodeChain, OracleNode } from './node.js'
import type { ReserveView } from './reporter.js'
import { constantReserves, DEFAULT_RESERVES, parseReserveChange, type ReserveSource } from './reserves.js'
import { oracleMigrations } from './schema.js'
import { buildSource, type PriceSource, type SourceSpec } from './sources.js'

/** One feed the nodes serve. */
export type OracleFeed = {
  /** The PriceFeed contract. */
  address: Address
  /** The asset symbol: what the price source, POST /shock and POST /reserves call it (e.g. WETH). */
  asset: string
  /** The manifest chain the feed lives on (default: the options' `chain`, else hub). */
  chain?: string
  /**
   * `price` (default): USD per token from the price source. `reserve`: a proof-of-reserve feed,
   * the whole tokens the custodian holds (reserve source, POST /reserves).
   */
  kind?: 'price' | 'reserve'
  /** Reserve feeds: the token they back (on the feed's chain). */
  token?: Address
  /** Reserve feeds: the ReserveReporter the nodes call when a report is due (none: no reports). */
  reporter?: Address
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
  /** The manifest chain of feeds that do not name theirs (default "hub"). */
  chain?: string
  feeds: readonly OracleFeed[]
  nodes: readonly OracleNodeOptions[]
  /** Where prices come from: a random walk, a replayed history, or any PriceSource. */
  source: SourceSpec
  /** What custodians report for reserve feeds (default: constant, DEFAULT_RESERVES of reserves.ts). */
  reserveSource?: ReserveSource
  /** URLs of oracle nodes in other processes (the ones started here are known already). */
  peers?: readonly string[]
  dataDir: string
  logger: Logger
  /** Devnet only: enables POST /shock and POST /reserves. */
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

/** A chain the process's feeds live on: its manifest entry, read clients and clock. */
type ProcessChain = NodeChain & { name: string; entry: ChainEntry; readBlockTime(): Promise<void> }

/**
 * Oracle nodes (services/oracle/README.md): each observes prices from the source (and reserves
 * from the custodian, for reserve feeds), signs them for every feed and serves its latest signed
 * observation over HTTP; the node whose turn it is collects ≥ 2f+1 of them from its peers and
 * transmits a report when the median moved more than the feed's deviation from the on-chain
 * answer, or when the answer is older than the heartbeat. Feeds may live on several chains. For a
 * reserve feed with a ReserveReporter, the node whose turn it is also calls `report(token)` when
 * the token's backing changed, was never reported, or the reporter's heartbeat passed. Several
 * nodes may share a process (each with its own key, database and port).
 */
export async function startOracleNodes(options: OracleNodesOptions): Promise<RunningOracleNodes> {
  const { manifest, logger } = options
  const defaultChain = options.chain ?? 'hub'
  if (!options.nodes.length) throw new OracleConfigError('no oracle nodes to start')
  if (!options.feeds.length) throw new OracleConfigError('no feeds to serve')
  const tickMs = options.tickMs ?? 500
  const fallbackMs = options.fallbackMs ?? 5_000
  const now = options.now ?? Date.now

  const chains = new Map<string, ProcessChain>()
  for (const name of new Set(options.feeds.map((f) => f.chain ?? defaultChain))) {
    const entry = manifest.chains.find((c) => c.name === name)
    if (!entry) throw new OracleConfigError(`the manifest has no chain named "${name}"`)
    chains.set(name, processChain(entry, createChainClients(entry, options.nodes[0]!.account), now))
  }
  const chainOf = (feed: { chain?: string }) => chains.get(feed.chain ?? defaultChain)!

  const feeds = await Promise.all(options.feeds.map((feed) => settingsOf(feed)))
  const priceAssets = new Map(
    feeds.filter((f) => f.kind === 'price').map((f) => [f.asset.toLowerCase(), f.asset]),
  )
  const reserveAssets = new Map(
    feeds.filter((f) => f.kind === 'reserve').map((f) => [f.asset.toLowerCase(), f.asset]),
  )
  const priceFeeds = options.feeds.filter((f) => (f.kind ?? 'price') === 'price')
  const shared: PriceSource = priceFeeds.length
    ? buildSource(options.source, priceFeeds)
    : {
        kind: 'none',
        price: (asset) => {
          throw new OracleConfigError(`no price feed for ${asset} in this process`)
        },
      }
  const reserveSource = options.reserveSource ?? constantReserves(DEFAULT_RESERVES)

  const views = new Map<string, FeedView & { configAt: number; reporterConfig?: ReporterConfig }>()
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
          chainId: settings.chainId,
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
      const asset = typeof body.asset === 'string' ? priceAssets.get(body.asset.toLowerCase()) : undefined
      if (!asset)
        throw new HttpError(400, `unknown asset ${JSON.stringify(body.asset)}`, {
          assets: [...priceAssets.values()],
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
    async (url, request) => {
      if (url.pathname !== '/reserves') return undefined
      if (request.method !== 'POST')
        throw new HttpError(
          405,
          'POST /reserves {"asset":"TBILL","amount":40000000} (or "factor", or "reset":true)',
        )
      if (!options.devnet) throw new HttpError(403, 'setting reserves is for devnets only')
      const raw = await readJson(request)
      const body = (raw && typeof raw === 'object' ? raw : {}) as {
        asset?: unknown
        amount?: unknown
        factor?: unknown
        reset?: unknown
      }
      const asset = typeof body.asset === 'string' ? reserveAssets.get(body.asset.toLowerCase()) : undefined
      if (!asset)
        throw new HttpError(400, `no reserve feed for asset ${JSON.stringify(body.asset)}`, {
          assets: [...reserveAssets.values()],
        })
      const change = parseReserveChange(body)
      if (typeof change === 'string') throw new HttpError(400, change)
      // The custodian is one for the process, like the market: every node of this process sees the
      // change. A factor applies once, to what the custodian reports now.
      const live = nodes.filter((n) => !n.node.stopped)
      const base = live[0]?.node.reserves(asset)
      const absolute = 'factor' in change && base !== undefined ? { amount: base * change.factor } : change
      let reserves = base
      for (const { node: n } of live) reserves = n.setReserves(asset, absolute)
      return {
        status: 200,
        body: {
          asset,
          reserves,
          override: live[0]?.node.reserveOverride(asset) ?? null,
          nodes: live.map((n) => n.node.address),
        },
      }
    },
  ]

  function feedFromQuery(url: URL): FeedSettings {
    const feed = url.searchParams.get('feed')
    if (!feed || !isAddress(feed)) throw new HttpError(400, 'query parameter feed must be an address')
    const chainId = url.searchParams.get('chainId')
    const settings = feeds.find(
      (f) =>
        f.address.toLowerCase() === feed.toLowerCase() && (chainId === null || String(f.chainId) === chainId),
    )
    if (!settings) throw new HttpError(404, `this node does not serve feed ${feed}`)
    return settings
  }

  function status(node: OracleNode) {
    return {
      address: node.address,
      chains: [...chains.values()].map((c) => ({ name: c.name, chainId: c.chainId })),
      feeds: feeds.map((settings) => {
        const view = views.get(settings.key)
        const observation = node.lastObservation(settings.key)
        const last = node.lastTransmit(settings.key)
        let sourcePrice: number | null = null
        try {
          sourcePrice = node.sourceValue(settings)
        } catch {
          // a source that cannot price this asset shows null
        }
        return {
          feed: settings.address,
          chain: settings.chain,
          kind: settings.kind,
          asset: settings.asset,
          decimals: settings.decimals,
          sourcePrice,
          ...(settings.kind === 'price'
            ? { shock: node.shock(settings.asset) }
            : {
                reserveOverride: node.reserveOverride(settings.asset) ?? null,
                reserve: reserveStatus(node, settings, view?.reserve),
              }),
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

  function reserveStatus(node: OracleNode, settings: FeedSettings, reserve: ReserveView | undefined) {
    const last = node.lastReport(settings.key)
    return {
      token: settings.reserve?.token ?? null,
      reporter: settings.reserve?.reporter ?? null,
      onChain: reserve
        ? {
            supply: formatUnits(reserve.supply, reserve.tokenDecimals),
            reserves: formatUnits(reserve.reserves, reserve.tokenDecimals),
            backed: reserve.backed,
            lastReport: reserve.last.sent ? reserve.last : null,
          }
        : null,
      lastReportAttempt: last
        ? {
            status: last.status,
            reason: last.reason,
            backed: last.backed === null ? null : last.backed === 1,
            txHash: last.tx_hash,
            detail: last.detail,
            at: new Date(last.created_at).toISOString(),
          }
        : null,
    }
  }

  async function settingsOf(feed: OracleFeed): Promise<FeedSettings> {
    if (!isAddress(feed.address))
      throw new OracleConfigError(`feed ${feed.asset}: bad address ${feed.address}`)
    const chain = chainOf(feed)
    const kind = feed.kind ?? 'price'
    if (kind === 'reserve' && (!feed.token || !isAddress(feed.token)))
      throw new OracleConfigError(`reserve feed ${feed.asset}: needs the token's address`)
    let decimals: number
    try {
      decimals = await chain.clients.public.readContract({
        address: feed.address,
        abi: priceFeedAbi,
        functionName: 'decimals',
      })
    } catch (cause) {
      throw new OracleConfigError(`feed ${feed.asset} at ${feed.address}: not a PriceFeed on ${chain.name}`, {
        cause,
      })
    }
    if (feed.decimals !== undefined && feed.decimals !== decimals)
      throw new OracleConfigError(
        `feed ${feed.asset}: configured decimals ${feed.decimals}, on chain ${decimals}`,
      )
    return {
      key: `${chain.chainId}:${feed.address.toLowerCase()}`,
      chain: chain.name,
      chainId: chain.chainId,
      address: feed.address,
      asset: feed.asset,
      kind,
      ...(kind === 'reserve' ? { reserve: { token: feed.token!, reporter: feed.reporter } } : {}),
      decimals,
      deviation: feed.deviation ?? 0.005,
      heartbeatSeconds: feed.heartbeatSeconds ?? 60,
    }
  }

  async function refresh(settings: FeedSettings): Promise<FeedView> {
    const { key, address } = settings
    const reader = chainOf(settings).clients
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
        reserve: view?.reserve,
        configAt: now(),
        reporterConfig: await reporterConfig(settings, reader),
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
    if (view.reporterConfig) view.reserve = await readReserve(reader, view.reporterConfig)
    return view
  }

  /** The reporter's heartbeat and the token's decimals (they do not change), for reserve feeds with a reporter. */
  async function reporterConfig(
    settings: FeedSettings,
    reader: ChainClients,
  ): Promise<ReporterConfig | undefined> {
    const reporter = settings.reserve?.reporter
    if (!reporter) return undefined
    const token = settings.reserve!.token
    const [minInterval, tokenDecimals] = await Promise.all([
      reader.public.readContract({ address: reporter, abi: reserveReporterAbi, functionName: 'minInterval' }),
      reader.public.readContract({ address: token, abi: erc20Abi, functionName: 'decimals' }),
    ])
    return { token, reporter, minInterval: Number(minInterval), tokenDecimals }
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
      const wallets = new Map(
        [...chains.values()].map((c) => [
          c.name,
          createChainClients(c.entry, spec.transmitter ?? account).wallet,
        ]),
      )
      const node: OracleNode = new OracleNode(
        account,
        wallets,
        db,
        {
          chains,
          now,
          source: spec.source ?? shared,
          reserveSource,
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
    for (const chain of chains.values())
      chain.clients.public
        .getBalance({ address: payer })
        .then((balance) => {
          if (balance === 0n)
            logger.warn({ payer, chain: chain.name }, 'transmitter has no funds: it cannot transmit')
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
        await Promise.all([...chains.values()].map((c) => c.readBlockTime()))
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

type ReporterConfig = Pick<ReserveView, 'token' | 'reporter' | 'minInterval' | 'tokenDecimals'>

/** A chain's read clients and clock: stamps are `max(wall-clock second, latest block time)`. */
function processChain(entry: ChainEntry, clients: ChainClients, now: () => number): ProcessChain {
  let latestBlockTime = 0
  const readBlockTime = async () => {
    const block = await clients.public.getBlock({ blockTag: 'latest' })
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
  return { name: entry.name, entry, chainId: entry.chainId, clients, clock, readBlockTime }
}

/** The token's status through its reporter's `preview`, and the reporter's last report of it. */
async function readReserve(reader: ChainClients, config: ReporterConfig): Promise<ReserveView> {
  const contract = { address: config.reporter, abi: reserveReporterAbi } as const
  const [preview, [sentAt, backed, sent]] = await Promise.all([
    reader.public.readContract({ ...contract, functionName: 'preview', args: [config.token] }),
    reader.public.readContract({ ...contract, functionName: 'lastReport', args: [config.token] }),
  ])
  return {
    ...config,
    supply: preview.supply,
    reserves: preview.reserves,
    backed: preview.backed,
    last: { sentAt: Number(sentAt), backed, sent },
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
