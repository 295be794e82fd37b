import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { encodeFunctionData, type Hex, stringToHex } from 'viem'
import { outboxAbi } from '../../sdk/abi/Outbox.js'
import { batchRoot } from '../../sdk/messaging/batch.js'
import { laneBatchDigest } from '../../sdk/messaging/delivery.js'
import { recoverBatchSigner } from '../../sdk/messaging/digest.js'
import { reorg, startTestDevnet, type TestChain, type TestDevnet } from '../../testing/devnet.js'
import { sendMessage, startTestValidator, tempDir, validatorAccounts } from '../../testing/messaging.js'
import type { RunningValidator } from './validator.js'

type Answer = {
  validator: Hex
  epoch: number
  root: Hex
  leafCount: number
  signature: Hex
  messageIds: Hex[]
  error?: string
}

async function ask(validator: RunningValidator, query: Record<string, number | string | bigint>) {
  const params = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))
  const response = await fetch(`${validator.url}/v1/batch?${params}`)
  return { status: response.status, body: (await response.json()) as Answer }
}

/** Mines until everything sent so far on `chain` is final under its rule. */
const finalize = (chain: TestChain) =>
  chain.test.mine({
    blocks: chain.entry.finality.kind === 'depth' ? chain.entry.finality.confirmations + 1 : 1,
  })

describe('validator', () => {
  let devnet: TestDevnet
  let validator: RunningValidator
  let l1: TestChain
  let hub: TestChain
  const lane = () => ({ source: l1.entry.chainId, dest: hub.entry.chainId })

  before(async () => {
    devnet = await startTestDevnet({ chains: ['l1', 'hub'] }) // a block per transaction: finality moves only when we mine
    l1 = devnet.chain('l1')
    hub = devnet.chain('hub')
    validator = await startTestValidator(devnet, 0, tempDir('validator'))
  })
  after(async () => {
    await validator.stop()
    await devnet.stop()
  })

  it('signs a final batch: the root of the ids, over the lane digest, with its own key', async () => {
    const a = await sendMessage(l1, hub, 'a')
    const b = await sendMessage(l1, hub, 'b')
    await finalize(l1)
    const { status, body } = await ask(validator, { ...lane(), from: a.nonce, to: b.nonce })
    assert.equal(status, 200, body.error)
    assert.deepEqual(body.messageIds, [a.id, b.id])
    assert.equal(body.root, batchRoot([a.id, b.id]))
    assert.equal(body.epoch, 1)
    const digest = laneBatchDigest(l1.entry, hub.entry, { epoch: 1, root: body.root, leafCount: 2 })
    assert.equal(await recoverBatchSigner(digest, body.signature), validatorAccounts(devnet)[0]!.address)
    assert.equal(body.validator, validatorAccounts(devnet)[0]!.address)
  })

  it('refuses messages that are not final yet (409), then signs once they are', async () => {
    const c = await sendMessage(l1, hub, 'c')
    const early = await ask(validator, { ...lane(), from: c.nonce, to: c.nonce })
    assert.equal(early.status, 409)
    assert.match(early.body.error!, new RegExp(`nonces ${c.nonce}..${c.nonce} from l1 are not all final yet`))
    await finalize(l1)
    const later = await ask(validator, { ...lane(), from: c.nonce, to: c.nonce })
    assert.equal(later.status, 200)
    assert.equal(later.body.root, c.id, 'a batch of one has the id as its root')
  })

  it('never signs a message that a reorg shallower than the finality rule removed', async () => {
    const doomed = await sendMessage(l1, hub, 'doomed')
    await l1.test.mine({ blocks: 2 }) // 3 confirmations of 6: not final
    const unfinal = await ask(validator, { ...lane(), from: doomed.nonce, to: doomed.nonce })
    assert.equal(unfinal.status, 409, 'not signed while it could still be reorged away')
    const replacement = {
      from: l1.accounts[4]!.address,
      to: l1.entry.contracts.Outbox as Hex,
      data: encodeFunctionData({
        abi: outboxAbi,
        functionName: 'send',
        args: [
          BigInt(hub.entry.chainId),
          hub.entry.contracts.DevnetReceiver as Hex,
          stringToHex('instead'),
          200_000,
        ],
      }),
    }
    await reorg(l1, 3, [{ request: replacement, blockOffset: 1 }])
    await finalize(l1)
    const { status, body } = await ask(validator, { ...lane(), from: doomed.nonce, to: doomed.nonce })
    assert.equal(status, 200, body.error)
    assert.notEqual(body.messageIds[0], doomed.id, 'the removed message is not what got signed')
    assert.equal(body.root, body.messageIds[0])
  })

  it('answers bad requests with 400 and unknown lanes with 404', async () => {
    assert.equal((await ask(validator, { ...lane(), from: 'x', to: 1 })).status, 400)
    const reversed = await ask(validator, { ...lane(), from: 2, to: 1 })
    assert.equal(reversed.status, 400)
    assert.equal(reversed.body.error, 'to (1) is below from (2)')
    assert.equal(
      (await ask(validator, { ...lane(), from: 0, to: 300 })).body.error,
      'at most 256 messages per batch',
    )
    const unknown = await ask(validator, { source: 999, dest: hub.entry.chainId, from: 0, to: 0 })
    assert.equal(unknown.status, 404)
    assert.equal(unknown.body.error, 'unknown chain id 999')
  })

  it('halts on a reorg deeper than the finality rule and stops signing for that chain', async () => {
    const before = await sendMessage(l1, hub, 'before-deep-reorg')
    await finalize(l1)
    assert.equal((await ask(validator, { ...lane(), from: before.nonce, to: before.nonce })).status, 200)
    await reorg(l1, 10) // deeper than the 6-block rule: blocks the validator treated as final change
    await l1.test.mine({ blocks: 1 })
    const health = async () =>
      (await (await fetch(`${validator.url}/health`)).json()) as {
        chains: Record<string, { halted: string | null }>
      }
    const deadline = Date.now() + 10_000
    while (!(await health()).chains.l1?.halted && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    assert.match(
      (await health()).chains.l1!.halted!,
      /^deep-reorg: block \d+ was final as 0x[0-9a-f]{64} and is now 0x/,
    )
    const refused = await ask(validator, { ...lane(), from: before.nonce, to: before.nonce })
    assert.equal(refused.status, 503)
    assert.match(refused.body.error!, /^not signing for l1: deep-reorg/)
  })
})
