import { join } from 'node:path'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { DEVNET_ROLES } from '../../devnet/topology.js'
import { createLogger } from '../../services/core/logger.js'
import { startRelayer } from '../../services/relayer/relayer.js'
import { accountFromEnv, loadManifest, runUntilStopped, serviceDataDir } from '../service.js'
import { parseFlags, parsePositiveInt, UsageError } from '../usage.js'

export const help = `isthmus relayer: index every Outbox, collect validator signatures, deliver, retry

  --manifest <path>     deployment manifest (default .isthmus/devnet.json)
  --validators <urls>   comma-separated validator URLs (default: the manifest's validator-* services)
  --port <n>            HTTP port for the message API (default: any free port)
  --data <dir>          where its SQLite state lives (default .isthmus/data/<network>): relayer.db
  --max-batch <n>       messages per delivery transaction (default 32)

The key comes from ISTHMUS_RELAYER_KEY; on a devnet it defaults to the devnet relayer account.`

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('relayer', argv, {
    manifest: { type: 'string' },
    validators: { type: 'string' },
    port: { type: 'string' },
    data: { type: 'string' },
    'max-batch': { type: 'string' },
  })
  const manifest = await loadManifest(flags.manifest)
  const devnetKey =
    manifest.network === 'devnet' ? manifest.accounts[DEVNET_ROLES.relayer]?.privateKey : undefined
  const account =
    accountFromEnv('ISTHMUS_RELAYER_KEY') ?? (devnetKey ? privateKeyToAccount(devnetKey as Hex) : undefined)
  if (!account) throw new UsageError('no key: set ISTHMUS_RELAYER_KEY')
  const validatorUrls =
    flags.validators?.split(',').filter(Boolean) ??
    Object.entries(manifest.services)
      .filter(([name]) => name.startsWith('validator-'))
      .map(([, url]) => url)
  if (!validatorUrls.length) throw new UsageError('no validators: pass --validators or start them first')
  const relayer = await startRelayer({
    manifest,
    account,
    validatorUrls,
    dbPath: join(flags.data ?? serviceDataDir(manifest), 'relayer.db'),
    port: flags.port ? parsePositiveInt('--port', flags.port) : 0,
    maxBatch: flags['max-batch'] ? parsePositiveInt('--max-batch', flags['max-batch']) : undefined,
    logger: createLogger('relayer'),
  })
  console.log(`relayer ${account.address} ready ${relayer.url}`)
  await runUntilStopped(relayer.stop)
}
