import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type Address, type Hex, parseEventLogs, type TransactionReceipt, zeroHash } from 'viem'
import { startTestDevnet, type TestChain, type TestDevnet, timeTravel } from '../../testing/devnet.js'
import { deliverMessages, faucet, mined, sentMessages } from '../../testing/margin.js'
import { relayAll, type UsdcSwap, usdcSwap } from '../../testing/settlement.js'
import { dvPCoordinatorAbi } from '../abi/DvPCoordinator.js'
import { outboxAbi } from '../abi/Outbox.js'
import { settlementEscrowAbi } from '../abi/SettlementEscrow.js'
import {
  abortExpired,
  dealIdOf,
  encodeDecision,
  encodeLegEscrowed,
  escrowLeg,
  openDeal,
  readDeal,
  readLeg,
} from './dvp.js'
import { contractOn, revertOf } from './tx.js'

/**
 * DvP on real chains (hub and bank, a block per transaction). Messages are delivered with real
 * committee proofs by the test (testing/margin.ts deliverMessages), one hop at a time, so each case
 * controls exactly what reached which chain and when.
 */
describe('DvP across hub and bank', () => {
  let devnet: TestDevnet
  let hub: TestChain
  let bank: TestChain
  // Alice delivers USDC on bank; Bob pays USDC on the hub.
  let alice: TestChain['accounts'][number]
  let bob: TestChain['accounts'][number]
  let swap: UsdcSwap
  const BANK_AMOUNT = 100_000_000n
  const HUB_AMOUNT = 250_000_000n

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub', 'bank'], blockTimeMs: 0 })
    hub = devnet.chain('hub')
    bank = devnet.chain('bank')
    alice = hub.accounts[3]!
    bob = hub.accounts[4]!
    swap = usdcSwap(hub, bank, {
      alice: alice.address,
      bob: bob.address,
      bankAmount: BANK_AMOUNT,
      hubAmount: HUB_AMOUNT,
    })
    await faucet(bank, 'USDC', alice.address, 10n * BANK_AMOUNT)
    await faucet(hub, 'USDC', bob.address, 10n * HUB_AMOUNT)
  })
  after(() => devnet?.stop())

  const now = async (chain: TestChain) => (await chain.public.getBlock({ blockTag: 'latest' })).timestamp

  let deals = 0
  /** A fresh deal (its deadline makes the id unique), opened on the coordinator. */
  const newDeal = async (secondsToDeadline = 3_600) => {
    deals++
    const { legA, legB } = swap
    const deadline = (await now(hub)) + BigInt(secondsToDeadline + deals)
    const { dealId } = await openDeal(hub, { legA, legB, deadline })
    return { dealId, legA, legB, deadline }
  }
  type NewDeal = Awaited<ReturnType<typeof newDeal>>

  const escrowA = (d: NewDeal) =>
    escrowLeg(bank, { dealId: d.dealId, leg: d.legA, deadline: d.deadline, account: alice })
  const escrowB = (d: NewDeal) =>
    escrowLeg(hub, { dealId: d.dealId, leg: d.legB, deadline: d.deadline, account: bob })

  /** Delivers every message `receipt` sent from `source`, to wherever each goes. */
  const relay = (source: TestChain, receipt: TransactionReceipt) => relayAll(devnet, source, receipt)

  const outcomes = async (chain: TestChain, dealId: Hex, eventName: 'LegSettled' | 'LegRefunded') =>
    chain.public.getContractEvents({
      address: contractOn(chain.entry, 'SettlementEscrow'),
      abi: settlementEscrowAbi,
      eventName,
      args: { dealId },
      fromBlock: 0n,
    })

  it('computes the deal id as the coordinator does', async () => {
    const d = await newDeal()
    const onChain = await hub.public.readContract({
      address: contractOn(hub.entry, 'DvPCoordinator'),
      abi: dvPCoordinatorAbi,
      functionName: 'dealIdOf',
      args: [d.legA, d.legB, d.deadline],
    })
    assert.equal(dealIdOf(hub.entry, d.legA, d.legB, d.deadline), onChain)
    assert.equal(onChain, d.dealId)
    assert.equal((await readDeal(hub, d.dealId)).status, 'Open')
  })

  it('settles both legs once both reports reach the hub in time', async () => {
    const before_ = await swap.balances()
    const d = await newDeal()
    const a = await escrowA(d)
    const b = await escrowB(d)
    assert.equal((await readLeg(bank, d.dealId, alice.address)).state, 'Escrowed')

    await relay(bank, a.receipt)
    const half = await readDeal(hub, d.dealId)
    assert.deepEqual([half.status, half.legAReported, half.legBReported], ['Open', true, false])
    const [decided] = await relay(hub, b.receipt)
    const [decision] = parseEventLogs({
      abi: dvPCoordinatorAbi,
      eventName: 'DealDecided',
      logs: decided!.logs,
    })
    assert.equal(decision?.args.settle, true)
    assert.equal((await readDeal(hub, d.dealId)).status, 'Settled')

    await relay(hub, decided!)
    assert.equal((await readLeg(bank, d.dealId, alice.address)).state, 'Settled')
    assert.equal((await readLeg(hub, d.dealId, bob.address)).state, 'Settled')
    const after_ = await swap.balances()
    assert.deepEqual(after_, {
      aliceBank: before_.aliceBank - BANK_AMOUNT,
      bobBank: before_.bobBank + BANK_AMOUNT,
      aliceHub: before_.aliceHub + HUB_AMOUNT,
      bobHub: before_.bobHub - HUB_AMOUNT,
    })
    assert.equal((await outcomes(bank, d.dealId, 'LegSettled')).length, 1)
    assert.equal((await outcomes(hub, d.dealId, 'LegSettled')).length, 1)
  })

  it('aborts a deal with a missing leg after its deadline: the escrowed leg is refunded, a late leg refused', async () => {
    const before_ = await swap.balances()
    const d = await newDeal(60)
    const b = await escrowB(d)
    await relay(hub, b.receipt)
    assert.equal(
      revertOf(await abortExpired(hub, { dealId: d.dealId }).catch((e) => e))?.name,
      'DvPNotExpired',
    )

    // Only the hub's clock moves: bank still lies before the deadline, so only the abort stops Alice.
    await timeTravel(hub, Number(d.deadline - (await now(hub))) + 1)
    const aborted = await abortExpired(hub, { dealId: d.dealId, account: hub.accounts[9]! })
    assert.equal((await readDeal(hub, d.dealId)).status, 'Aborted')
    await relay(hub, aborted.receipt)

    assert.equal((await readLeg(hub, d.dealId, bob.address)).state, 'Refunded')
    assert.equal((await readLeg(bank, d.dealId, alice.address)).state, 'Aborted')
    assert.ok((await now(bank)) <= d.deadline, 'bank is still before the deadline')
    const late = await escrowA(d).catch((e: unknown) => e)
    assert.deepEqual(revertOf(late), { name: 'EscrowLegExists', args: [d.dealId, alice.address, 4] })
    assert.deepEqual(await swap.balances(), before_)
    assert.equal((await outcomes(hub, d.dealId, 'LegRefunded')).length, 1)
  })

  it('pays a settle decided before the deadline but delivered long after it', async () => {
    const before_ = await swap.balances()
    const d = await newDeal(120)
    const a = await escrowA(d)
    const b = await escrowB(d)
    await relay(bank, a.receipt)
    const [decided] = await relay(hub, b.receipt)
    assert.equal((await readDeal(hub, d.dealId)).status, 'Settled')

    for (const chain of [hub, bank]) await timeTravel(chain, Number(d.deadline - (await now(chain))) + 86_400)
    assert.ok((await now(bank)) > d.deadline && (await now(hub)) > d.deadline)
    await relay(hub, decided!)

    assert.equal((await readLeg(bank, d.dealId, alice.address)).state, 'Settled')
    assert.equal((await readLeg(hub, d.dealId, bob.address)).state, 'Settled')
    const after_ = await swap.balances()
    assert.equal(after_.bobBank - before_.bobBank, BANK_AMOUNT)
    assert.equal(after_.aliceHub - before_.aliceHub, HUB_AMOUNT)
  })

  it('refuses forged settles and leg reports; nothing moves, and the real deal still settles once', async () => {
    const d = await newDeal()
    const a = await escrowA(d)
    const b = await escrowB(d)
    const held = await swap.balances()
    const mallory = hub.accounts[9]!
    const settleAlice = encodeDecision({ dealId: d.dealId, depositor: alice.address, settle: true })

    // 1. Straight to the escrow, not through the Inbox.
    const direct = await bank.public
      .simulateContract({
        address: contractOn(bank.entry, 'SettlementEscrow'),
        abi: settlementEscrowAbi,
        functionName: 'receiveMessage',
        args: [
          {
            messageId: zeroHash,
            sourceChainId: BigInt(hub.entry.chainId),
            sender: contractOn(hub.entry, 'DvPCoordinator'),
            tokens: [],
            payload: settleAlice,
          },
        ],
        account: mallory,
      })
      .catch((e: unknown) => e)
    assert.deepEqual(revertOf(direct), { name: 'EscrowUnauthorizedCaller', args: [mallory.address] })

    // 2. A verified message from the hub, but from Mallory rather than the coordinator.
    const forgedSettle = await send(
      hub,
      mallory,
      bank,
      contractOn(bank.entry, 'SettlementEscrow'),
      settleAlice,
    )
    const settleRun = await deliverMessages(devnet, 'hub', 'bank', sentMessages(hub, forgedSettle), {
      allowFailure: true,
    })
    assert.deepEqual(settleRun.states, ['failure'])

    // 3. A forged leg report to the coordinator: Bob's leg "escrowed", from Mallory on bank.
    const forgedReport = encodeLegEscrowed({
      dealId: d.dealId,
      token: d.legB.token,
      amount: d.legB.amount,
      depositor: bob.address,
      counterparty: alice.address,
      deadline: d.deadline,
    })
    const reported = await send(bank, mallory, hub, contractOn(hub.entry, 'DvPCoordinator'), forgedReport)
    const reportRun = await deliverMessages(devnet, 'bank', 'hub', sentMessages(bank, reported), {
      allowFailure: true,
    })
    assert.deepEqual(reportRun.states, ['failure'])

    assert.equal((await readLeg(bank, d.dealId, alice.address)).state, 'Escrowed')
    assert.equal((await readDeal(hub, d.dealId)).legBReported, false)
    assert.deepEqual(await swap.balances(), held)

    await relay(bank, a.receipt)
    const [decided] = await relay(hub, b.receipt)
    await relay(hub, decided!)
    const after_ = await swap.balances()
    assert.equal(after_.bobBank - held.bobBank, BANK_AMOUNT)
    assert.equal(after_.aliceHub - held.aliceHub, HUB_AMOUNT)
    assert.equal((await outcomes(bank, d.dealId, 'LegSettled')).length, 1)
  })

  it('refuses to escrow a leg for someone else and names the depositor', async () => {
    const d = await newDeal()
    await assert.rejects(
      escrowLeg(bank, { dealId: d.dealId, leg: d.legA, deadline: d.deadline, account: bob }),
      /is not the leg's depositor/,
    )
  })
})

/** Sends `payload` through `source`'s Outbox to `receiver` on `dest`, from `from` (anyone may send). */
async function send(
  source: TestChain,
  from: TestChain['accounts'][number],
  dest: TestChain,
  receiver: Address,
  payload: Hex,
): Promise<TransactionReceipt> {
  const hash = await source.wallet.writeContract({
    account: from,
    address: contractOn(source.entry, 'Outbox'),
    abi: outboxAbi,
    functionName: 'send',
    args: [BigInt(dest.entry.chainId), receiver, payload, 500_000],
  })
  return mined(source, hash, 'sending a forged message')
}
