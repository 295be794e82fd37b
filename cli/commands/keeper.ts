import { join } from 'node:path'
import type { Hex, LocalAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { DEVNET_ROLES } from '../../devnet/topology.js'
import type { Manifest } from '../../sdk/manifest.js'
import { createLogger } from '../../services/core/logger.js'
import { startKeeper } from '../../services/keeper/keeper.js'
import { accountFromEnv, loadManifest, runUntilStopped, serviceDataDir } from '../service.js'
import { parseFlags, parsePositiveInt, UsageError } from '../usage.js'

export const help = `isthmus keeper: watch every margin account, make margin calls, liquidate

  --manifest <path>     deployment manifest (default .isthmus/devnet.json)
  --data <dir>          where its SQLite state lives (default .isthmus/data/<network>): keeper.db
  --port <n>            HTTP port for the keeper API (default: any free port)
  --webhook <url>       POST every margin call to this URL as JSON (retried until accepted)
  --min-profit <usd>    skip liquidations expected to earn less, gas included (default 0)

The key comes from ISTHMUS_KEEPER_KEY; on a devnet it defaults to the devnet keeper account
(it holds USDC on the hub to repay the debt it liquidates). API: GET /status, /accounts,
/accounts/<address>, /margin-calls, /liquidations.`

/** The keeper's key: ISTHMUS_KEEPER_KEY, or on a devnet manifest the devnet keeper account. */
export function keeperAccount(manifest: Manifest): LocalAccount {
  const devnetKey =
    manifest.network === 'devnet' ? manifest.accounts[DEVNET_ROLES.keeper]?.privateKey : undefined
  const account =
    accountFromEnv('ISTHMUS_KEEPER_KEY') ?? (devnetKey ? privateKeyToAccount(devnetKey as Hex) : undefined)
  if (!account) throw new UsageError('no key: set ISTHMUS_KEEPER_KEY')
  return account
}

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('keeper', argv, {
    manifest: { type: 'string' },
    data: { type: 'string' },
    port: { type: 'string' },
    webhook: { type: 'string' },
    'min-profit': { type: 'string' },
  })
  const manifest = await loadManifest(flags.manifest)
  const account = keeperAccount(manifest)
  if (flags.webhook !== undefined && !URL.canParse(flags.webhook))
    throw new UsageError(`--webhook expects a URL, got "${flags.webhook}"`)
  const minProfit = flags['min-profit'] === undefined ? 0 : Number(flags['min-profit'])
  if (!Number.isFinite(minProfit) || minProfit < 0)
    throw new UsageError(`--min-profit expects a number of USD ≥ 0, got "${flags['min-profit']}"`)
  const keeper = await startKeeper({
    manifest,
    account,
    dbPath: join(flags.data ?? serviceDataDir(manifest), 'keeper.db'),
    port: flags.port ? parsePositiveInt('--port', flags.port) : 0,
    webhookUrl: flags.webhook,
    minProfitUsd: minProfit,
    logger: createLogger('keeper'),
  })
  console.log(`keeper ${account.address} ready ${keeper.url}`)
  await runUntilStopped(keeper.stop)
}
