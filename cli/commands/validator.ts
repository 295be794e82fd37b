import { join } from 'node:path'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createLogger } from '../../services/core/logger.js'
import { startValidator } from '../../services/validator/validator.js'
import { accountFromEnv, loadManifest, runUntilStopped, serviceDataDir } from '../service.js'
import { parseFlags, parsePositiveInt, UsageError } from '../usage.js'

export const help = `isthmus validator: follow every chain, sign final batches, serve signatures over HTTP

  --manifest <path>   deployment manifest (default .isthmus/devnet.json)
  --index <i>         devnet only: use the manifest's validator key number i
  --port <n>          HTTP port (default: any free port)
  --db <path>         SQLite state (default .isthmus/data/<network>/validator-<address>.db)

The key comes from ISTHMUS_VALIDATOR_KEY unless --index is given.`

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('validator', argv, {
    manifest: { type: 'string' },
    index: { type: 'string' },
    port: { type: 'string' },
    db: { type: 'string' },
  })
  const manifest = await loadManifest(flags.manifest)
  let account = accountFromEnv('ISTHMUS_VALIDATOR_KEY')
  if (flags.index !== undefined) {
    const key = manifest.messaging?.validators[Number(flags.index)]?.privateKey
    if (!key) throw new UsageError(`--index ${flags.index}: the manifest has no key for that validator`)
    account = privateKeyToAccount(key as Hex)
  }
  if (!account) throw new UsageError('no key: set ISTHMUS_VALIDATOR_KEY or pass --index on a devnet')
  const validator = await startValidator({
    manifest,
    account,
    dbPath: flags.db ?? join(serviceDataDir(manifest), `validator-${account.address}.db`),
    port: flags.port ? parsePositiveInt('--port', flags.port) : 0,
    logger: createLogger(`validator-${account.address.slice(0, 8)}`),
  })
  console.log(`validator ${validator.address} ready ${validator.url}`)
  await runUntilStopped(validator.stop)
}
