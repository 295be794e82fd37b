import { basename, join, resolve } from 'node:path'
import type { Address, Hex, LocalAccount } from 'viem'
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'
import { DEVNET_MNEMONIC, DEVNET_ROLES } from '../../devnet/topology.js'
import type { Manifest } from '../../sdk/manifest.js'
import { createLogger } from '../../services/core/logger.js'
import { type OracleFeed, startOracleNodes } from '../../services/oracle/oracle.js'
import { constantReserves, DEFAULT_RESERVES } from '../../services/oracle/reserves.js'
import { bundledHistory, DEFAULT_ASSETS, type SourceSpec } from '../../services/oracle/sources.js'
import { accountFromEnv, loadManifest, runUntilStopped, serviceDataDir } from '../service.js'
import { parseFlags, parsePositiveInt, UsageError } from '../usage.js'

export const help = `isthmus oracle: oracle nodes: observe prices and reserves, sign them, push feed rounds,
report reserve status to the hub

  --manifest <path>       deployment manifest (default .isthmus/devnet.json)
  --index <i[,j…]>        devnet only: oracle key(s) number i (the manifest's oracles.nodes[i],
                          else mnemonic index ${DEVNET_ROLES.oracles.join('/')}); several = several nodes in one process
  --data <dir>            where their SQLite state lives (default .isthmus/data/<network>): oracle-<address>.db
  --source <walk|replay>  prices from a seeded random walk (default) or a replayed history
  --seed <n>              the random walk's seed (default 1)
  --speed <x>             market seconds per wall-clock second (default: walk 1, replay 60)
  --history <dir>         replay: folder of <asset>-usd.csv files (default: services/oracle/history)
  --deviation <percent>   a round when the median moves this much from the on-chain answer (default 0.5)
  --heartbeat <seconds>   a round when the on-chain answer is this old (default 60)
  --peers <urls>          comma-separated URLs of oracle nodes in other processes
                          (default: the manifest's oracle-* services)
  --chain <name>          only the feeds of this manifest chain (its PriceFeed.<SYMBOL> and ReserveFeed.<SYMBOL>)
  --reserves <SYM=n,…>    what the custodian reports, in whole tokens (default ${Object.entries(
    DEFAULT_RESERVES,
  )
    .map(([asset, n]) => `${asset}=${n}`)
    .join(',')})
  --port <n>              HTTP port, one node only (default: any free port)

Feeds: every PriceFeed.<SYMBOL> contract of the hub and every ReserveFeed.<SYMBOL> (proof of
reserve, on its token's chain) in the manifest. For a reserve feed the nodes also call the chain's
ReserveReporter.report(<SYMBOL>) when the token's backing changed or the reporter's heartbeat passed.
Walk parameters per symbol:
${Object.entries(DEFAULT_ASSETS)
  .map(([asset, a]) => `${asset} ${a.initialPrice} USD σ ${a.sigma}`)
  .join(', ')}. The walk and the replay start at the manifest's createdAt, so every process agrees.
The key comes from ISTHMUS_ORACLE_KEY unless --index is given. On a devnet manifest, POST /shock
{"asset":"WETH","factor":0.6} multiplies an asset's price from then on, and POST /reserves
{"asset":"TBILL","amount":1000} sets what the custodian reports (services/oracle/README.md).`

/**
 * Devnet oracle key number `index`: from the manifest's oracles section when it has one (as the
 * validators' keys come from its messaging section), else mnemonic index DEVNET_ROLES.oracles[index].
 */
export function devnetOracleKey(manifest: Manifest, index: number): LocalAccount {
  const nodes = manifest.oracles?.nodes
  const count = nodes?.length ?? DEVNET_ROLES.oracles.length
  if (!Number.isInteger(index) || index < 0 || index >= count)
    throw new UsageError(`--index ${index}: the devnet has oracle keys 0–${count - 1}`)
  if (nodes) {
    const key = nodes[index]!.privateKey
    if (!key) throw new UsageError(`--index ${index}: the manifest has no key for that oracle`)
    return privateKeyToAccount(key as Hex)
  }
  return mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: DEVNET_ROLES.oracles[index]! })
}

const FEED_PREFIX = 'PriceFeed.'
const RESERVE_PREFIX = 'ReserveFeed.'
const PRICE_CHAIN = 'hub'

/** The contracts of `chain` named `<prefix><SYMBOL>`, as [symbol, address]. */
const named = (chain: Manifest['chains'][number], prefix: string) =>
  Object.entries(chain.contracts)
    .filter(([name]) => name.startsWith(prefix) && name.length > prefix.length)
    .map(([name, address]) => [name.slice(prefix.length), address as Address] as const)

/**
 * The feeds the nodes serve: without `chainName`, every `PriceFeed.<SYMBOL>` of the hub and every
 * `ReserveFeed.<SYMBOL>` of any chain (with its token `<SYMBOL>` and the chain's `ReserveReporter`,
 * when deployed); with `chainName`, both kinds on that chain only.
 */
export function feedsFromManifest(
  manifest: Manifest,
  chainName: string | undefined,
  settings: { deviation?: number; heartbeatSeconds?: number } = {},
): OracleFeed[] {
  if (chainName !== undefined && !manifest.chains.some((c) => c.name === chainName))
    throw new UsageError(`the manifest has no chain named "${chainName}"`)
  const feeds: OracleFeed[] = []
  for (const chain of manifest.chains) {
    if (chainName !== undefined && chain.name !== chainName) continue
    if (chainName !== undefined || chain.name === PRICE_CHAIN)
      for (const [asset, address] of named(chain, FEED_PREFIX))
        feeds.push({ address, asset, chain: chain.name, ...settings })
    for (const [asset, address] of named(chain, RESERVE_PREFIX)) {
      const token = chain.contracts[asset] as Address | undefined
      if (!token)
        throw new UsageError(`${RESERVE_PREFIX}${asset} on ${chain.name} has no token ${asset} there`)
      const reporter = chain.contracts.ReserveReporter as Address | undefined
      feeds.push({ address, asset, chain: chain.name, kind: 'reserve', token, reporter, ...settings })
    }
  }
  if (!feeds.length)
    throw new UsageError(
      `no ${FEED_PREFIX}<SYMBOL> or ${RESERVE_PREFIX}<SYMBOL> contracts on ${chainName ?? 'the manifest chains'}`,
    )
  return feeds
}

/** `--reserves TBILL=50000000,…` over the defaults. */
function parseReserves(value: string | undefined): Record<string, number> {
  const levels: Record<string, number> = { ...DEFAULT_RESERVES }
  for (const pair of value?.split(',').filter(Boolean) ?? []) {
    const [asset, amount] = pair.split('=')
    if (!asset || amount === undefined)
      throw new UsageError(`--reserves expects SYMBOL=amount, got "${pair}"`)
    levels[asset.trim()] = parsePositiveNumber('--reserves', amount.trim())
  }
  return levels
}

function parsePositiveNumber(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} expects a positive number, got "${value}"`)
  return n
}

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('oracle', argv, {
    manifest: { type: 'string' },
    index: { type: 'string' },
    data: { type: 'string' },
    source: { type: 'string' },
    seed: { type: 'string' },
    speed: { type: 'string' },
    history: { type: 'string' },
    deviation: { type: 'string' },
    heartbeat: { type: 'string' },
    peers: { type: 'string' },
    chain: { type: 'string' },
    reserves: { type: 'string' },
    port: { type: 'string' },
  })
  const manifest = await loadManifest(flags.manifest)
  const devnet = manifest.network === 'devnet'
  let accounts: LocalAccount[]
  if (flags.index !== undefined) {
    if (!devnet) throw new UsageError('--index is for devnets: set ISTHMUS_ORACLE_KEY')
    accounts = flags.index
      .split(',')
      .map((i) => devnetOracleKey(manifest, i.trim() === '' ? Number.NaN : Number(i)))
  } else {
    const account = accountFromEnv('ISTHMUS_ORACLE_KEY')
    if (!account) throw new UsageError('no key: set ISTHMUS_ORACLE_KEY or pass --index on a devnet')
    accounts = [account]
  }
  const feeds = feedsFromManifest(manifest, flags.chain, {
    deviation: flags.deviation ? parsePositiveNumber('--deviation', flags.deviation) / 100 : undefined,
    heartbeatSeconds: flags.heartbeat ? parsePositiveInt('--heartbeat', flags.heartbeat) : undefined,
  })
  const priceFeeds = feeds.filter((f) => f.kind !== 'reserve')
  const reserves = parseReserves(flags.reserves)
  const unknownReserves = feeds.filter((f) => f.kind === 'reserve' && reserves[f.asset] === undefined)
  if (unknownReserves.length)
    throw new UsageError(
      `no reserve level for ${unknownReserves.map((f) => f.asset).join(', ')}: pass --reserves ${unknownReserves[0]!.asset}=<tokens>`,
    )
  const originMs = Date.parse(manifest.createdAt)
  const speed = flags.speed ? parsePositiveNumber('--speed', flags.speed) : undefined
  let source: SourceSpec
  switch (flags.source ?? 'walk') {
    case 'walk': {
      const unknown = priceFeeds.filter((f) => !DEFAULT_ASSETS[f.asset])
      if (unknown.length)
        throw new UsageError(
          `no walk parameters for ${unknown.map((f) => f.asset).join(', ')} (known: ${Object.keys(DEFAULT_ASSETS).join(', ')})`,
        )
      source = { kind: 'walk', seed: flags.seed ?? '1', originMs, speed }
      break
    }
    case 'replay': {
      const dir = flags.history ? resolve(flags.history) : undefined
      const histories = Object.fromEntries(
        priceFeeds.map((f) => [
          f.asset,
          dir ? join(dir, basename(bundledHistory(f.asset).pathname)) : bundledHistory(f.asset),
        ]),
      )
      source = { kind: 'replay', originMs, speed: speed ?? 60, histories }
      break
    }
    default:
      throw new UsageError(`--source expects walk or replay, got "${flags.source}"`)
  }
  const peers =
    flags.peers?.split(',').filter(Boolean) ??
    Object.entries(manifest.services)
      .filter(([name]) => name.startsWith('oracle-'))
      .map(([, url]) => url)
  if (flags.port && accounts.length > 1) throw new UsageError('--port is for one node only')
  const running = await startOracleNodes({
    manifest,
    feeds,
    reserveSource: constantReserves(reserves),
    nodes: accounts.map((account) => ({
      account,
      port: flags.port ? parsePositiveInt('--port', flags.port) : 0,
    })),
    source,
    peers,
    dataDir: flags.data ?? serviceDataDir(manifest),
    logger: createLogger('oracle'),
    devnet,
  })
  for (const node of running.nodes) console.log(`oracle ${node.address} ready ${node.url}`)
  await runUntilStopped(running.stop)
}
