import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { encodeFunctionData, parseEventLogs, stringToHex } from 'viem'
import { chainProbeAbi } from '../sdk/abi/ChainProbe.js'
import {
  reorg,
  revert,
  snapshot,
  startTestDevnet,
  type TestChain,
  type TestDevnet,
  timeTravel,
} from './devnet.js'

describe('test devnet helpers', () => {
  let devnet: TestDevnet
  let l1: TestChain
  let probe: `0x${string}`

  before(async () => {
    devnet = await startTestDevnet({ chains: ['l1'] })
    l1 = devnet.chain('l1')
    probe = l1.entry.contracts.ChainProbe as `0x${string}`
  })
  after(() => devnet.stop())

  const ping = async (tag: string) => {
    const hash = await l1.wallet.writeContract({
      address: probe,
      abi: chainProbeAbi,
      functionName: 'ping',
      args: [stringToHex(tag, { size: 32 })],
    })
    return l1.public.waitForTransactionReceipt({ hash })
  }
  const pingLogs = () =>
    l1.public.getContractEvents({ address: probe, abi: chainProbeAbi, eventName: 'Pinged', fromBlock: 0n })

  it('reorg: a log seen before the reorg is gone after it, and the new blocks hold the new transactions', async () => {
    const receipt = await ping('before-reorg')
    const [seen] = parseEventLogs({ abi: chainProbeAbi, logs: receipt.logs })
    assert.equal(seen?.args.tag, stringToHex('before-reorg', { size: 32 }))
    await l1.test.mine({ blocks: 2 })
    const headBefore = await l1.public.getBlock()
    assert.ok((await pingLogs()).some((log) => log.transactionHash === receipt.transactionHash))

    const replacement = {
      from: l1.accounts[1]!.address,
      to: probe,
      data: encodeFunctionData({
        abi: chainProbeAbi,
        functionName: 'ping',
        args: [stringToHex('after', { size: 32 })],
      }),
    }
    const result = await reorg(l1, 3, [{ request: replacement, blockOffset: 1 }])

    assert.equal(result.head.number, headBefore.number, 'a reorg keeps the height')
    assert.notEqual(result.head.hash, headBefore.hash, 'but not the hash')
    assert.equal(result.forkBlock, receipt.blockNumber - 1n)
    const logs = await pingLogs()
    assert.ok(!logs.some((log) => log.transactionHash === receipt.transactionHash), 'the dropped log is gone')
    assert.deepEqual(
      logs
        .filter((log) => log.blockNumber > result.forkBlock)
        .map((log) => [log.args.sender, log.blockNumber]),
      [[l1.accounts[1]!.address, result.forkBlock + 2n]],
    )
    await assert.rejects(
      l1.public.getTransactionReceipt({ hash: receipt.transactionHash }),
      /could not be found/,
    )
  })

  it('reorg: refuses a depth beyond the chain and offsets outside the new blocks', async () => {
    await assert.rejects(reorg(l1, 1_000_000), /cannot reorg 1000000 blocks/)
    await assert.rejects(
      reorg(l1, 2, [{ request: { from: l1.accounts[0]!.address }, blockOffset: 2 }]),
      /outside 0\.\.1/,
    )
  })

  it('timeTravel moves block time forward', async () => {
    const before = await l1.public.getBlock()
    await timeTravel(l1, 3_600)
    const after = await l1.public.getBlock()
    assert.ok(after.timestamp - before.timestamp >= 3_600n)
  })

  it('snapshot and revert restore contract state', async () => {
    const pings = () => l1.public.readContract({ address: probe, abi: chainProbeAbi, functionName: 'pings' })
    const id = await snapshot(l1)
    const count = await pings()
    await ping('undone')
    assert.equal(await pings(), count + 1n)
    await revert(l1, id)
    assert.equal(await pings(), count)
  })
})
