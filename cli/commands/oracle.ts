import { basename, join, resolve } from 'node:path'
import type { Address, Hex, LocalAccount } from 'viem'
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'
import { DEVNET_MNEMONIC, DEVNET_ROLES } from '../../devnet/topology.js'
import type { Manifest } from '../../sdk/manifest.js'
import { createLogger } from '../../services/core/logger.js'
import { type OracleFeed, startOracleNodes } from '../../services/oracle/oracle.js'
import { bundledHistory, DEFAULT_ASSETS, type SourceSpec } from '../../services/oracle/sources.js'
import { accountFromEnv, loadManifest, runUntilStopped, serviceDataDir } from '../service.js'
import { parseFlags, parsePositiveInt, UsageError } from '../usage.js'

export const help = `isthmus oracle: oracle nodes: observe prices, sign them, push PriceFeed rounds

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
  --chain <name>          the manifest chain of the feeds (default hub)
  --port <n>              HTTP port, one node only (default: any free port)

Feeds: every PriceFeed.<SYMBOL> contract of the chain in the manifest; walk parameters per symbol:
${Object.entries(DEFAULT_ASSETS)
  .map(([asset, a]) => `${asset} ${a.initialPrice} USD σ ${a.sigma}`)
  .join(', ')}. The walk and the replay start at the manifest's createdAt, so every process agrees.
The key comes from ISTHMUS_ORACLE_KEY unless --index is given. On a devnet manifest, POST /shock
{"asset":"WETH","factor":0.6} multiplies an asset's price from then on (services/oracle/README.md).`

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

/** Every `PriceFeed.<SYMBOL>` contract of the chain, with the defaults of its symbol. */
export function feedsFromManifest(
  manifest: Manifest,
  chainName: string,
  settings: { deviation?: number; heartbeatSeconds?: number } = {},
): OracleFeed[] {
  const chain = manifest.chains.find((c) => c.name === chainName)
  if (!chain) throw new UsageError(`the manifest has no chain named "${chainName}"`)
  const feeds = Object.entries(chain.contracts)
    .filter(([name]) => name.startsWith(FEED_PREFIX) && name.length > FEED_PREFIX.length)
    .map(([name, address]) => ({
      address: address as Address,
      asset: name.slice(FEED_PREFIX.length),
      ...settings,
    }))
  if (!feeds.length)
    throw new UsageError(`no ${FEED_PREFIX}<SYMBOL> contracts on ${chainName} in the manifest`)
  return feeds
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
  const chainName = flags.chain ?? 'hub'
  const feeds = feedsFromManifest(manifest, chainName, {
    deviation: flags.deviation ? parsePositiveNumber('--deviation', flags.deviation) / 100 : undefined,
    heartbeatSeconds: flags.heartbeat ? parsePositiveInt('--heartbeat', flags.heartbeat) : undefined,
  })
  const originMs = Date.parse(manifest.createdAt)
  const speed = flags.speed ? parsePositiveNumber('--speed', flags.speed) : undefined
  let source: SourceSpec
  switch (flags.source ?? 'walk') {
    case 'walk': {
      const unknown = feeds.filter((f) => !DEFAULT_ASSETS[f.asset])
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
        feeds.map((f) => [
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
    chain: chainName,
    feeds,
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
