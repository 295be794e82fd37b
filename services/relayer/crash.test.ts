import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { writeManifest } from '../../sdk/manifest.js'
import { startTestDevnet, type TestDevnet } from '../../testing/devnet.js'
import {
  deliveries,
  eventually,
  type Sent,
  sendMessage,
  startTestValidator,
  tempDir,
} from '../../testing/messaging.js'
import type { RunningValidator } from '../validator/validator.js'

/** Kills in this run; the soak script (npm run soak:relayer) raises it. */
const KILLS = Number(process.env.SOAK_KILLS ?? 20)
/** A fixed seed keeps CI runs comparable; SOAK_SEED explores others. */
let seed = Number(process.env.SOAK_SEED ?? 7)
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}

describe(`relayer killed with SIGKILL ${KILLS} times`, () => {
  let devnet: TestDevnet
  const validators: RunningValidator[] = []
  const dir = tempDir('crash')
  const manifestPath = join(dir, 'manifest.json')
  let relayer: ChildProcess | undefined

  const startRelayer = () => {
    const child = spawn(
      'bin/isthmus',
      [
        'relayer',
        '--manifest',
        manifestPath,
        '--data',
        dir,
        '--validators',
        validators.map((v) => v.url).join(','),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ISTHMUS_LOG_LEVEL: 'error' } },
    )
    relayer = child
    return child
  }
  /**
   * Waits for the relayer's ready line before the random delay, so every kill lands while it runs:
   * on a loaded machine its start-up alone can outlast the delay, and then nothing would be tested.
   */
  const started = (child: ChildProcess) =>
    new Promise<void>((resolve, reject) => {
      let output = ''
      const timer = setTimeout(() => reject(new Error('relayer not ready in 30 s')), 30_000)
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (/ ready /.test(output)) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
  const kill = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGKILL')
    await exited
  }

  before(async () => {
    devnet = await startTestDevnet({ chains: ['l1', 'hub'], blockTimeMs: 100 })
    for (let i = 0; i < 5; i++) validators.push(await startTestValidator(devnet, i, dir))
    await writeManifest(manifestPath, devnet.manifest)
  })
  after(async () => {
    if (relayer) await kill(relayer)
    await Promise.all(validators.map((v) => v.stop()))
    await devnet.stop()
  })

  it('delivers every message exactly once', async () => {
    const l1 = devnet.chain('l1')
    const hub = devnet.chain('hub')
    const sent: { message: Sent; dest: typeof hub }[] = []
    for (let kill_ = 0; kill_ < KILLS; kill_++) {
      const child = startRelayer()
      await started(child)
      // Messages keep arriving while the relayer lives and dies: some become final mid-delivery.
      sent.push({ message: await sendMessage(l1, hub, `m${kill_}`), dest: hub })
      sent.push({ message: await sendMessage(hub, l1, `m${kill_}`), dest: l1 })
      await new Promise((r) => setTimeout(r, 600 + random() * 2_000))
      await kill(child)
    }
    // The kills must have landed among deliveries, not only during start-ups.
    const journal = new Database(join(dir, 'relayer.db'), { readonly: true })
    const batches = journal.prepare('SELECT COUNT(*) FROM batches').pluck().get() as number
    journal.close()
    assert.ok(batches >= KILLS / 4, `only ${batches} batches were sent while the relayer was being killed`)
    const child = startRelayer()
    for (const { message, dest } of sent) {
      await eventually(
        `delivery of ${message.id}`,
        async () => ((await deliveries(dest, message.id)) > 0n ? true : undefined),
        60_000,
      )
    }
    // Give a duplicate every chance to show up before counting.
    await new Promise((r) => setTimeout(r, 1_000))
    const counts = await Promise.all(sent.map(({ message, dest }) => deliveries(dest, message.id)))
    assert.deepEqual(
      counts.filter((c) => c !== 1n),
      [],
      'each message delivered exactly once',
    )
    await kill(child)
    assert.equal(new Set(sent.map((s) => s.message.id as Hex)).size, KILLS * 2)
  })
})
