import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Hex } from 'viem'
import { startTestDevnet, type TestDevnet } from '../../testing/devnet.js'
import { deliveries, eventually, type Sent, sendMessage } from '../../testing/messaging.js'
import { type RelayerHarness, seededRandom, startRelayerHarness } from '../../testing/relayer.js'

/** Kills in this run; the soak script (npm run soak:relayer) raises it. */
const KILLS = Number(process.env.SOAK_KILLS ?? 20)
/** A fixed seed keeps CI runs comparable; SOAK_SEED explores others. */
const random = seededRandom(Number(process.env.SOAK_SEED ?? 7))

describe(`relayer killed with SIGKILL ${KILLS} times`, () => {
  let devnet: TestDevnet
  let relayer: RelayerHarness

  before(async () => {
    devnet = await startTestDevnet({ chains: ['l1', 'hub'], blockTimeMs: 100 })
    relayer = await startRelayerHarness(devnet, 'crash')
  })
  after(async () => {
    await relayer?.stop()
    await devnet?.stop()
  })

  it('delivers every message exactly once', async () => {
    const l1 = devnet.chain('l1')
    const hub = devnet.chain('hub')
    const sent: { message: Sent; dest: typeof hub }[] = []
    for (let kill_ = 0; kill_ < KILLS; kill_++) {
      // Ready before the random delay, so every kill lands while it runs: on a loaded machine its
      // start-up alone can outlast the delay, and then nothing would be tested.
      const child = await relayer.start()
      // Messages keep arriving while the relayer lives and dies: some become final mid-delivery.
      sent.push({ message: await sendMessage(l1, hub, `m${kill_}`), dest: hub })
      sent.push({ message: await sendMessage(hub, l1, `m${kill_}`), dest: l1 })
      await new Promise((r) => setTimeout(r, 600 + random() * 2_000))
      await relayer.kill(child)
    }
    // The kills must have landed among deliveries, not only during start-ups.
    const batches = relayer.batchesSent()
    assert.ok(batches >= KILLS / 4, `only ${batches} batches were sent while the relayer was being killed`)
    const child = await relayer.start()
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
    await relayer.kill(child)
    assert.equal(new Set(sent.map((s) => s.message.id as Hex)).size, KILLS * 2)
  })
})
