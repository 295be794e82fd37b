import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Hex } from 'viem'
import { startTestDevnet, type TestChain, type TestDevnet } from '../../testing/devnet.js'
import { priceFeedAbi, priceFeedBytecode } from '../abi/PriceFeed.js'
import { observationDigest, signObservation, toReport } from './observation.js'

/** TypeScript-signed observations against the real contract on anvil: both sides must agree. */
describe('signed observations for PriceFeed', () => {
  let devnet: TestDevnet
  let hub: TestChain
  let feed: Hex

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub'], deploy: false })
    hub = devnet.chain('hub')
    const hash = await hub.wallet.deployContract({
      abi: priceFeedAbi,
      bytecode: priceFeedBytecode,
      args: [hub.accounts[0]!.address, 8, 'ETH / USD', 300],
    })
    feed = (await hub.public.waitForTransactionReceipt({ hash })).contractAddress!
    const oracles = hub.accounts.slice(4, 8).map((a) => a.address)
    const setHash = await hub.wallet.writeContract({
      address: feed,
      abi: priceFeedAbi,
      functionName: 'setOracles',
      args: [oracles, 1],
    })
    await hub.public.waitForTransactionReceipt({ hash: setHash })
  })
  after(() => devnet.stop())

  it('computes the same digest as the contract', async () => {
    const onChain = await hub.public.readContract({
      address: feed,
      abi: priceFeedAbi,
      functionName: 'observationDigest',
      args: [3_000n * 10n ** 8n, 1_700_000_000],
    })
    assert.equal(observationDigest(hub.entry.chainId, feed, 3_000n * 10n ** 8n, 1_700_000_000), onChain)
  })

  it('a report of 3 of 4 signed observations becomes the median round', async () => {
    const now = Number((await hub.public.getBlock()).timestamp)
    const signed = await Promise.all(
      [3_010n, 2_990n, 3_000n].map((price, i) =>
        signObservation(hub.accounts[4 + i]!, hub.entry.chainId, feed, price * 10n ** 8n, now),
      ),
    )
    const hash = await hub.wallet.writeContract({
      address: feed,
      abi: priceFeedAbi,
      functionName: 'transmit',
      args: [toReport(signed)],
    })
    assert.equal((await hub.public.waitForTransactionReceipt({ hash })).status, 'success')
    const [roundId, answer, , updatedAt] = await hub.public.readContract({
      address: feed,
      abi: priceFeedAbi,
      functionName: 'latestRoundData',
    })
    assert.deepEqual([roundId, answer, updatedAt], [1n, 3_000n * 10n ** 8n, BigInt(now)])
  })

  it('refuses two observations from one oracle in a report', async () => {
    const signed = await signObservation(hub.accounts[4]!, hub.entry.chainId, feed, 1n, 1)
    assert.throws(() => toReport([signed, signed]), /one observation per oracle/)
  })
})
