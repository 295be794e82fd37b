import { join } from 'node:path'
import type { Hex, LocalAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { Manifest } from '../sdk/manifest.js'
import { readManifest } from '../sdk/manifest.js'
import { UsageError } from './usage.js'

/** Where a network's service databases live unless --db says otherwise. */
export const serviceDataDir = (manifest: Manifest) => join('.isthmus', 'data', manifest.network)

export async function loadManifest(path: string | undefined): Promise<Manifest> {
  return readManifest(path ?? '.isthmus/devnet.json')
}

/** A signing key from an environment variable (real networks) — never from a flag, which leaks into `ps`. */
export function accountFromEnv(variable: string): LocalAccount | undefined {
  const key = process.env[variable]
  if (!key) return undefined
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) throw new UsageError(`${variable} must be a 32-byte hex private key`)
  return privateKeyToAccount(key as Hex)
}

/** How long a graceful stop may take before the process exits anyway. */
const STOP_DEADLINE_MS = 4_000

/**
 * Runs a started service until SIGINT/SIGTERM — or, under a supervisor (ISTHMUS_SUPERVISED=1),
 * until its stdin closes, so it never outlives the devnet that started it. A stop that hangs (a
 * loop waiting on an RPC whose chain is gone) is cut short: every service's state is a crash-safe
 * SQLite journal, so exiting mid-step loses nothing.
 */
export function runUntilStopped(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false
    const shutdown = () => {
      if (stopping) return
      stopping = true
      setTimeout(() => {
        process.stderr.write(`graceful stop took over ${STOP_DEADLINE_MS} ms: exiting\n`)
        process.exit(1)
      }, STOP_DEADLINE_MS).unref()
      stop().then(resolve, reject)
    }
    process.once('SIGINT', shutdown)
    process.once('SIGTERM', shutdown)
    if (process.env.ISTHMUS_SUPERVISED === '1') {
      process.stdin.on('end', shutdown)
      process.stdin.resume()
    }
  })
}
