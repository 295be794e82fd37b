import { join } from 'node:path'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { Manifest } from '../../sdk/manifest.js'
import { createLogger } from '../../services/core/logger.js'
import { startValidator } from '../../services/validator/validator.js'
import { accountFromEnv, loadManifest, runUntilStopped, serviceDataDir } from '../service.js'
import { parseFlags, parsePositiveInt, UsageError } from '../usage.js'

export const help = `isthmus validator: follow every chain, sign final batches, serve signatures over HTTP

  --manifest <path>   deployment manifest (default .isthmus/devnet.json)
  --index <i[,j…]>    devnet only: the manifest's validator key(s) number i (several = one process each)
  --port <n>          HTTP port (default: any free port)
  --data <dir>        where its SQLite state lives (default .isthmus/data/<network>): validator-<address>.db

The key comes from ISTHMUS_VALIDATOR_KEY unless --index is given.`

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('validator', argv, {
    manifest: { type: 'string' },
    index: { type: 'string' },
    port: { type: 'string' },
    data: { type: 'string' },
  })
  const manifest = await loadManifest(flags.manifest)
  const accounts =
    flags.index !== undefined ? devnetKeys(manifest, flags.index) : [accountFromEnv('ISTHMUS_VALIDATOR_KEY')]
  if (!accounts[0]) throw new UsageError('no key: set ISTHMUS_VALIDATOR_KEY or pass --index on a devnet')
  const validators = await Promise.all(
    accounts.map((account) =>
      startValidator({
        manifest,
        account: account!,
        dbPath: join(flags.data ?? serviceDataDir(manifest), `validator-${account!.address}.db`),
        port: flags.port && accounts.length === 1 ? parsePositiveInt('--port', flags.port) : 0,
        logger: createLogger(`validator-${account!.address.slice(0, 8)}`),
      }),
    ),
  )
  for (const validator of validators) console.log(`validator ${validator.address} ready ${validator.url}`)
  await runUntilStopped(() => Promise.all(validators.map((v) => v.stop())).then(() => undefined))
}

function devnetKeys(manifest: Manifest, list: string) {
  return list.split(',').map((index) => {
    const key = manifest.messaging?.validators[Number(index)]?.privateKey
    if (!key) throw new UsageError(`--index ${index}: the manifest has no key for that validator`)
    return privateKeyToAccount(key as Hex)
  })
}
