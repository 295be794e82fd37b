/**
 * The relayer as its own process (`bin/isthmus relayer`) beside five in-process validators, for the
 * tests that SIGKILL it mid-delivery and restart it on the same journal.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { writeManifest } from '../sdk/manifest.js'
import type { RunningValidator } from '../services/validator/validator.js'
import type { TestDevnet } from './devnet.js'
import { startTestValidator, tempDir } from './messaging.js'

const VALIDATORS = 5
const READY_TIMEOUT_MS = 30_000

export type RelayerHarness = {
  /** The relayer's data folder (its journal, relayer.db) and the validators'. */
  dir: string
  /** Spawns a relayer on the same journal; resolves once it logged its ready line. */
  start(): Promise<ChildProcess>
  /** SIGKILLs `child` (unless it already exited) and waits for it to exit. */
  kill(child: ChildProcess): Promise<void>
  /** Batches the journal records as sent, across every life of the relayer. */
  batchesSent(): number
  /** Kills the last relayer started and stops the validators. */
  stop(): Promise<void>
}

/** Starts the validators and writes the manifest the relayer processes read; `name` names the temp folder. */
export async function startRelayerHarness(devnet: TestDevnet, name: string): Promise<RelayerHarness> {
  const dir = tempDir(name)
  const manifestPath = join(dir, 'manifest.json')
  const validators: RunningValidator[] = []
  for (let i = 0; i < VALIDATORS; i++) validators.push(await startTestValidator(devnet, i, dir))
  await writeManifest(manifestPath, devnet.manifest)
  let last: ChildProcess | undefined

  const kill = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGKILL')
    await exited
  }
  const start = () => {
    const args = ['relayer', '--manifest', manifestPath, '--data', dir]
    const child = spawn('bin/isthmus', [...args, '--validators', validators.map((v) => v.url).join(',')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ISTHMUS_LOG_LEVEL: 'error' },
    })
    last = child
    return new Promise<ChildProcess>((resolve, reject) => {
      let output: string | undefined = ''
      const timer = setTimeout(
        () => reject(new Error(`relayer not ready in ${READY_TIMEOUT_MS / 1000} s`)),
        READY_TIMEOUT_MS,
      )
      // Read stdout for the whole life of the process, so a full pipe never blocks it.
      child.stdout?.on('data', (chunk: Buffer) => {
        if (output === undefined) return
        output += chunk.toString()
        if (/ ready /.test(output)) {
          output = undefined
          clearTimeout(timer)
          resolve(child)
        }
      })
    })
  }
  const batchesSent = () => {
    const journal = new Database(join(dir, 'relayer.db'), { readonly: true })
    try {
      return journal.prepare('SELECT COUNT(*) FROM batches').pluck().get() as number
    } finally {
      journal.close()
    }
  }
  const stop = async () => {
    if (last) await kill(last)
    await Promise.all(validators.map((v) => v.stop()))
  }
  return { dir, start, kill, batchesSent, stop }
}

/** A fixed-seed random number generator in [0, 1): kill times a CI run can reproduce. */
export function seededRandom(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    return state / 2 ** 31
  }
}
