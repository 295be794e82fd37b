import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type Address,
  encodeFunctionData,
  type Hex,
  type PrivateKeyAccount,
  parseEventLogs,
  parseUnits,
} from 'viem'
import { DEVNET_ROLES } from '../../devnet/topology.js'
import { startTestDevnet, type TestChain, type TestDevnet, timeTravel } from '../../testing/devnet.js'
import {
  approveMax,
  balanceOf,
  contractAddress,
  deliverMessages,
  faucet,
  sentMessage,
} from '../../testing/margin.js'
import { latestTimestamp, openUsdcIntent } from '../../testing/settlement.js'
import { destinationSettlerAbi } from '../abi/DestinationSettler.js'
import { originSettlerAbi } from '../abi/OriginSettler.js'
import {
  decodeOrder,
  encodeOrder,
  fillCalldata,
  fillIntent,
  type IntentOrderData,
  onchainOrder,
  orderIdOf,
  readIntent,
  refundIntent,
} from './intents.js'
import { revertOf } from './tx.js'

const usdc = (value: string) => parseUnits(value, 6)

/** The contract error a refused action threw, by name (decoded against the settlers' errors). */
const refusedWith = (name: string) => (error: unknown) => {
  assert.equal(revertOf(error)?.name, name, String(error))
  return true
}

describe('intents SDK on real chains (base → hub)', () => {
  let devnet: TestDevnet
  let base: TestChain
  let hub: TestChain
  let user: PrivateKeyAccount
  let filler: PrivateKeyAccount
  let recipient: Address

  const now = () => latestTimestamp(base, hub)
  const open = (input: string, output: string, deadlineIn = 600) =>
    openUsdcIntent(devnet, { origin: 'base', destination: 'hub', input, output, deadlineIn, recipient, user })
  /** The one message a fill or refund sent, delivered to the origin with committee signatures. */
  const deliverToOrigin = async (receipt: Parameters<typeof sentMessage>[1]) =>
    deliverMessages(devnet, 'hub', 'base', [sentMessage(hub, receipt)])

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub', 'base'] })
    base = devnet.chain('base')
    hub = devnet.chain('hub')
    user = base.accounts[DEVNET_ROLES.firstUser]!
    filler = hub.accounts[DEVNET_ROLES.solver]!
    recipient = hub.accounts[DEVNET_ROLES.firstUser + 1]!.address
    await faucet(base, 'USDC', user.address, usdc('100000'))
  })
  after(() => devnet?.stop())

  it('encodes orders as the settler does: resolve() gives the same id and origin data', async () => {
    const data: IntentOrderData = {
      inputToken: contractAddress(base, 'USDC'),
      inputAmount: usdc('10'),
      destinationChainId: BigInt(hub.entry.chainId),
      outputToken: contractAddress(hub, 'USDC'),
      outputAmount: usdc('9.99'),
      recipient,
    }
    const fillDeadline = (await now()) + 600
    const originSettler = contractAddress(base, 'OriginSettler')
    const resolved = await base.public.readContract({
      address: originSettler,
      abi: originSettlerAbi,
      functionName: 'resolve',
      args: [onchainOrder(fillDeadline, data)],
      account: user.address,
    })
    const nonce = await base.public.readContract({
      address: originSettler,
      abi: originSettlerAbi,
      functionName: 'nonces',
      args: [user.address],
    })
    const order = {
      originChainId: BigInt(base.entry.chainId),
      originSettler,
      user: user.address,
      nonce,
      fillDeadline,
      data,
    }
    const originData = encodeOrder(order)
    assert.equal(resolved.fillInstructions[0]!.originData, originData)
    assert.equal(resolved.orderId, orderIdOf(order))
    assert.deepEqual(decodeOrder(originData), order)
  })

  it('opens (escrow on base), fills once on hub, repays the filler on base after the Filled message', async () => {
    const userBefore = await balanceOf(base, 'USDC', user.address)
    const opened = await open('1000', '998')
    assert.equal(opened.order.user, user.address)
    assert.equal(opened.order.data.outputAmount, usdc('998'))
    assert.equal(opened.destinationSettler, contractAddress(hub, 'DestinationSettler'))
    assert.equal(await balanceOf(base, 'USDC', user.address), userBefore - usdc('1000'))
    let state = await readIntent(devnet.manifest, opened.originData)
    assert.equal(state.origin.status, 'open')
    assert.equal(state.origin.amount, usdc('1000'))
    assert.equal(state.destination.status, 'none')

    // A forged origin data (the output lowered) under the real id is refused: the id commits to it.
    const forged = encodeOrder({ ...opened.order, data: { ...opened.order.data, outputAmount: usdc('1') } })
    await assert.rejects(
      fillIntent(devnet.manifest, { orderId: opened.orderId, originData: forged }, filler),
      refusedWith('IntentOrderIdMismatch'),
    )

    const recipientBefore = await balanceOf(hub, 'USDC', recipient)
    const fillerOnBase = await balanceOf(base, 'USDC', filler.address)
    const filled = await fillIntent(devnet.manifest, opened, filler)
    assert.equal(await balanceOf(hub, 'USDC', recipient), recipientBefore + usdc('998'))
    state = await readIntent(devnet.manifest, opened.originData)
    assert.equal(state.destination.status, 'filled')
    assert.equal(state.destination.solver, filler.address)

    // A second fill of the same order, by anyone, is refused.
    const rival = hub.accounts[DEVNET_ROLES.firstUser + 2]!
    await faucet(hub, 'USDC', rival.address, usdc('2000'))
    await assert.rejects(fillIntent(devnet.manifest, opened, rival), refusedWith('IntentAlreadySettled'))

    const delivered = await deliverToOrigin(filled.receipt)
    const [settled] = parseEventLogs({
      abi: originSettlerAbi,
      eventName: 'Settled',
      logs: delivered.receipt.logs,
    })
    assert.equal(settled?.args.solver, filler.address)
    assert.equal(settled?.args.messageId, filled.messageId)
    assert.equal(await balanceOf(base, 'USDC', filler.address), fillerOnBase + usdc('1000'))
    state = await readIntent(devnet.manifest, opened.originData)
    assert.equal(state.origin.status, 'settled')
  })

  it('refuses refund before the deadline and fill after it; refunds the user once', async () => {
    const opened = await open('50', '60', 30)
    await assert.rejects(
      refundIntent(devnet.manifest, opened, filler),
      refusedWith('IntentFillDeadlineNotPassed'),
    )
    await timeTravel(hub, 31 + (opened.order.fillDeadline - Number((await hub.public.getBlock()).timestamp)))
    await assert.rejects(fillIntent(devnet.manifest, opened, filler), refusedWith('IntentFillDeadlinePassed'))

    const userBefore = await balanceOf(base, 'USDC', user.address)
    const refunded = await refundIntent(devnet.manifest, opened, filler)
    // Decided once on the destination: neither a fill nor a second refund gets through now.
    await assert.rejects(fillIntent(devnet.manifest, opened, filler), refusedWith('IntentAlreadySettled'))
    await assert.rejects(refundIntent(devnet.manifest, opened, filler), refusedWith('IntentAlreadySettled'))
    const delivered = await deliverToOrigin(refunded.receipt)
    const [event] = parseEventLogs({
      abi: originSettlerAbi,
      eventName: 'Refunded',
      logs: delivered.receipt.logs,
    })
    assert.equal(event?.args.amount, usdc('50'))
    assert.equal(await balanceOf(base, 'USDC', user.address), userBefore + usdc('50'))
    const state = await readIntent(devnet.manifest, opened.originData)
    assert.deepEqual([state.origin.status, state.destination.status], ['refunded', 'refunded'])
  })

  /**
   * A fill and a refund sent into the same destination block: exactly one gets in, decided by that
   * block's time against the deadline, and the origin pays exactly one side.
   */
  for (const [when, winner] of [
    ['at the deadline', 'fill'],
    ['one second after it', 'refund'],
  ] as const) {
    it(`a fill and a refund racing in one block ${when}: only the ${winner} succeeds, paid once`, async () => {
      const opened = await open('20', '19', 40)
      await approveMax(hub, filler, 'USDC', contractAddress(hub, 'DestinationSettler'))
      const settlerAddress = contractAddress(hub, 'DestinationSettler')
      const refundData = encodeFunctionData({
        abi: destinationSettlerAbi,
        functionName: 'refund',
        args: [opened.orderId, opened.originData],
      })
      const fillerBefore = await balanceOf(base, 'USDC', filler.address)
      const userBefore = await balanceOf(base, 'USDC', user.address)
      await hub.test.setAutomine(false)
      let hashes: Hex[]
      try {
        await hub.test.setNextBlockTimestamp({
          timestamp: BigInt(opened.order.fillDeadline + (winner === 'fill' ? 0 : 1)),
        })
        // Raw transactions with fixed gas: no simulation stands between them and the block.
        hashes = [
          await hub.wallet.sendTransaction({
            account: filler,
            to: settlerAddress,
            data: fillCalldata(opened.orderId, opened.originData),
            gas: 600_000n,
          }),
          await hub.wallet.sendTransaction({ to: settlerAddress, data: refundData, gas: 600_000n }),
        ]
        await hub.test.mine({ blocks: 1 })
      } finally {
        await hub.test.setAutomine(true)
      }
      const [fill, refund] = await Promise.all(
        hashes.map((hash) => hub.public.waitForTransactionReceipt({ hash })),
      )
      assert.equal(fill!.blockNumber, refund!.blockNumber)
      assert.deepEqual(
        [fill!.status, refund!.status],
        winner === 'fill' ? ['success', 'reverted'] : ['reverted', 'success'],
      )
      const won = winner === 'fill' ? fill! : refund!
      await deliverToOrigin(won)
      const state = await readIntent(devnet.manifest, opened.originData)
      if (winner === 'fill') {
        assert.deepEqual([state.origin.status, state.destination.status], ['settled', 'filled'])
        assert.equal(await balanceOf(base, 'USDC', filler.address), fillerBefore + usdc('20'))
        assert.equal(await balanceOf(base, 'USDC', user.address), userBefore)
      } else {
        assert.deepEqual([state.origin.status, state.destination.status], ['refunded', 'refunded'])
        assert.equal(await balanceOf(base, 'USDC', filler.address), fillerBefore)
        assert.equal(await balanceOf(base, 'USDC', user.address), userBefore + usdc('20'))
      }
    })
  }
})
