import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Hex } from 'viem'
import { startTestDevnet, type TestChain, type TestDevnet } from '../../testing/devnet.js'
import { deliveries, eventually, sendMessage, startTestValidator, tempDir } from '../../testing/messaging.js'
import { createLogger } from '../core/logger.js'
import type { RunningValidator } from '../validator/validator.js'
import { type RunningRelayer, startRelayer } from './relayer.js'

type View = {
  status: string
  reason: string | null
  signers: string[]
  latencyMs: { finalToSent: number | null }
}

describe('relayer', () => {
  let devnet: TestDevnet
  let l1: TestChain
  let hub: TestChain
  let relayer: RunningRelayer
  const validators: (RunningValidator | undefined)[] = []
  const dir = tempDir('relayer')

  const view = async (id: Hex) => {
    const response = await fetch(`${relayer.url}/v1/messages/${id}`)
    return response.ok ? ((await response.json()) as View) : undefined
  }
  const settled = (id: Hex) =>
    eventually(`message ${id} settled`, async () => {
      const v = await view(id)
      return v && (v.status === 'success' || v.status === 'failure') ? v : undefined
    })

  before(async () => {
    devnet = await startTestDevnet({ chains: ['l1', 'hub'], blockTimeMs: 100 })
    l1 = devnet.chain('l1')
    hub = devnet.chain('hub')
    for (let i = 0; i < 5; i++) validators[i] = await startTestValidator(devnet, i, dir)
    relayer = await startRelayer({
      manifest: devnet.manifest,
      account: l1.accounts[1]!,
      dbPath: `${dir}/relayer.db`,
      port: 0,
      validatorUrls: validators.map((v) => v!.url),
      logger: createLogger('relayer'),
    })
  })
  after(async () => {
    await relayer.stop()
    await Promise.all(validators.map((v) => v?.stop()))
    await devnet.stop()
  })

  it('delivers messages both ways once they are final, each exactly once, with 3-of-5 signatures', async () => {
    const sent = await Promise.all([sendMessage(l1, hub, 'one'), sendMessage(hub, l1, 'two')])
    const [there, back] = sent
    for (const [message, dest] of [
      [there!, hub],
      [back!, l1],
    ] as const) {
      const v = await settled(message.id)
      assert.equal(v.status, 'success')
      assert.equal(v.signers.length, 3)
      assert.ok(v.latencyMs.finalToSent !== null && v.latencyMs.finalToSent >= 0)
      assert.equal(await deliveries(dest, message.id), 1n)
    }
  })

  it('batches a burst of messages into few transactions', async () => {
    const burst = []
    for (let i = 0; i < 12; i++) burst.push(await sendMessage(l1, hub, `burst-${i}`))
    for (const m of burst) assert.equal((await settled(m.id)).status, 'success')
    for (const m of burst) assert.equal(await deliveries(hub, m.id), 1n)
  })

  it('records a receiver failure with its reason, and does not retry it on its own', async () => {
    const refused = await sendMessage(l1, hub, 'revert')
    const v = await settled(refused.id)
    assert.equal(v.status, 'failure')
    assert.equal(v.reason, `the receiver reverted with DevnetReceiverRefused(${refused.id})`)
    assert.equal(await deliveries(hub, refused.id), 0n)
  })

  /** Stops validator i; returns a function that restarts it on the same port with the same database. */
  const takeDown = async (i: number) => {
    const port = Number(new URL(validators[i]!.url).port)
    await validators[i]!.stop()
    validators[i] = undefined
    return async () => {
      validators[i] = await startTestValidator(devnet, i, dir, port)
    }
  }

  it('still delivers with one validator down', async () => {
    const restart = await takeDown(4)
    const m = await sendMessage(l1, hub, 'four of five')
    assert.equal((await settled(m.id)).status, 'success')
    await restart()
  })

  it('waits below the threshold, and delivers when validators come back', async () => {
    const restarts = [await takeDown(2), await takeDown(3), await takeDown(4)]
    const m = await sendMessage(l1, hub, 'two of five')
    const waiting = await eventually('a quorum failure to be recorded', async () => {
      const v = await view(m.id)
      return v?.status === 'retrying' ? v : undefined
    })
    assert.match(
      waiting.reason!,
      /^2 of 3 signatures for \d+\.\.\d+\n\nDetails: http:\/\/127\.0\.0\.1:\d+: unreachable \(ECONNREFUSED\); .+; .+$/,
    )
    assert.equal(await deliveries(hub, m.id), 0n)
    // Restarted with the same databases: they resume where they stopped.
    for (const restart of restarts) await restart()
    assert.equal((await settled(m.id)).status, 'success')
    assert.equal(await deliveries(hub, m.id), 1n)
  })
})
