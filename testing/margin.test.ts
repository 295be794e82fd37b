import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  type Address,
  decodeAbiParameters,
  isAddressEqual,
  keccak256,
  parseEventLogs,
  stringToHex,
  type TransactionReceipt,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import {
  AMOUNTS,
  type MarginGasMeasurement,
  marginGoals,
  measureMarginGas,
  SPOKES,
} from '../bench/marginGas.js'
import { type AaveMeasurement, measureAave } from '../bench/peers/aave.js'
import { burnMintERC20Abi } from '../sdk/abi/BurnMintERC20.js'
import { collateralVaultAbi } from '../sdk/abi/CollateralVault.js'
import { inboxAbi } from '../sdk/abi/Inbox.js'
import { marginEngineAbi } from '../sdk/abi/MarginEngine.js'
import { priceFeedAbi } from '../sdk/abi/PriceFeed.js'
import { startTestDevnet, type TestChain, type TestDevnet } from './devnet.js'
import {
  balanceOf,
  contractAddress,
  deliverMessages,
  deliverOnHub,
  fundAndDeposit,
  pushPrice,
  sentMessage,
  tokenUnits,
} from './margin.js'

const RELEASE = [
  { type: 'uint8' },
  {
    type: 'tuple',
    components: [
      { name: 'account', type: 'address' },
      { name: 'token', type: 'address' },
      { name: 'amount', type: 'uint256' },
      { name: 'recipient', type: 'address' },
      { name: 'reason', type: 'uint8' },
    ],
  },
] as const
const REASON_WITHDRAW = 0
const REASON_SEIZE = 1
const WAD = 10n ** 18n

/** The one event `eventName` that `address` emitted in the transaction. */
function eventOf<const abi extends readonly unknown[], name extends string>(
  receipt: TransactionReceipt,
  abi: abi,
  eventName: name,
  address: Address,
) {
  const events = parseEventLogs({
    abi: abi as never,
    eventName: eventName as never,
    logs: receipt.logs.filter((l) => isAddressEqual(l.address, address)),
  }) as unknown as { args: Record<string, unknown> }[]
  assert.equal(events.length, 1, `${eventName} events from ${address} in ${receipt.transactionHash}`)
  return events[0]!.args
}

describe('margin gas (bench/marginGas.ts) on a 4-chain devnet', () => {
  let devnet: TestDevnet
  let hub: TestChain
  let l1: TestChain
  let base: TestChain
  let engine: Address
  let gas: MarginGasMeasurement
  let aave: AaveMeasurement

  before(async () => {
    devnet = await startTestDevnet({ chains: ['l1', 'hub', 'base', 'bank'] })
    hub = devnet.chain('hub')
    l1 = devnet.chain(SPOKES.weth)
    base = devnet.chain(SPOKES.wsteth)
    engine = contractAddress(hub, 'MarginEngine')
    gas = await measureMarginGas(devnet)
    // The credit's goal is Aave's supply on the same chain, so Aave is measured here too.
    const key = (name: string) => privateKeyToAccount(keccak256(stringToHex(`isthmus bench ${name}`)))
    aave = await measureAave(hub, {
      supplier: key('aave supplier'),
      borrower: key('aave borrower'),
      liquidator: key('aave liquidator'),
    })
  })
  after(() => devnet?.stop())

  it('meets the goals: credits ≤ Aave supply, borrows (on the hub or to a spoke) ≤ 200,000, liquidation ≤ 300,000', () => {
    const goals = marginGoals(aave)
    for (const step of ['creditFirst', 'credit', 'borrow', 'borrowToSpoke', 'liquidate'] as const) {
      assert.ok(gas.gas[step] <= goals[step]!, `${step}: ${gas.gas[step]} gas, goal ${goals[step]}`)
    }
  })

  it('deposits lock WETH in the l1 vault and send a Credit to the engine', () => {
    const vault = contractAddress(l1, 'CollateralVault')
    for (const step of ['depositFirst', 'deposit'] as const) {
      const receipt = gas.receipts[step]
      const deposited = eventOf(receipt, collateralVaultAbi, 'Deposited', vault)
      assert.ok(isAddressEqual(deposited.account as Address, gas.actors.borrower))
      assert.equal(deposited.received, AMOUNTS.weth)
      const { message, id } = sentMessage(l1, receipt)
      assert.equal(deposited.messageId, id)
      assert.equal(message.destChainId, BigInt(hub.entry.chainId))
      assert.ok(isAddressEqual(message.receiver, engine))
    }
  })

  it('the first credit creates the position, the top-up adds to it', async () => {
    const weth = contractAddress(l1, 'WETH')
    const position = (receipt: TransactionReceipt, before = 0n) =>
      hub.public.readContract({
        address: engine,
        abi: marginEngineAbi,
        functionName: 'positionOf',
        args: [gas.actors.borrower, BigInt(l1.entry.chainId), weth],
        blockNumber: receipt.blockNumber - before,
      })
    const first = gas.receipts.creditFirst
    assert.equal((await position(first, 1n)).amount, 0n)
    assert.equal((await position(first)).amount, AMOUNTS.weth)
    assert.equal((await position(gas.receipts.credit)).amount, 2n * AMOUNTS.weth)
    for (const step of ['creditFirst', 'credit'] as const) {
      const receipt = gas.receipts[step]
      const credited = eventOf(receipt, marginEngineAbi, 'Credited', engine)
      assert.ok(isAddressEqual(credited.account as Address, gas.actors.borrower))
      assert.ok(isAddressEqual(credited.token as Address, weth))
      assert.equal(credited.amount, AMOUNTS.weth)
      assert.equal(
        eventOf(receipt, inboxAbi, 'ExecutionStateChanged', contractAddress(hub, 'Inbox')).state,
        1,
      )
    }
  })

  it('the price report stores a new round at the list price', () => {
    const round = eventOf(
      gas.receipts.priceReport,
      priceFeedAbi,
      'AnswerUpdated',
      contractAddress(hub, 'PriceFeed.WETH'),
    )
    assert.equal(round.current, 3_000n * 10n ** 8n)
  })

  it('the borrows pay USDC on the hub and, through a token message, on base', async () => {
    const hubBorrow = eventOf(gas.receipts.borrow, marginEngineAbi, 'Borrowed', engine)
    assert.equal(hubBorrow.amount, gas.borrowed.hub)
    assert.equal(hubBorrow.chainId, BigInt(hub.entry.chainId))
    const paid = eventOf(gas.receipts.borrow, burnMintERC20Abi, 'Transfer', contractAddress(hub, 'USDC'))
    assert.ok(isAddressEqual(paid.to as Address, gas.actors.borrower))
    assert.equal(paid.value, gas.borrowed.hub)

    const toSpoke = eventOf(gas.receipts.borrowToSpoke, marginEngineAbi, 'Borrowed', engine)
    const { message, id } = gas.messages.borrowToSpoke
    assert.equal(toSpoke.messageId, id)
    assert.equal(message.destChainId, BigInt(base.entry.chainId))
    assert.ok(isAddressEqual(message.receiver, gas.actors.borrower))
    assert.deepEqual(
      message.tokens.map((t) => [t.token.toLowerCase(), t.amount, t.mode]),
      [[contractAddress(hub, 'USDC').toLowerCase(), gas.borrowed.spoke, 'burn']],
    )
    const minted = eventOf(
      gas.receipts.borrowDelivery,
      burnMintERC20Abi,
      'Transfer',
      contractAddress(base, 'USDC'),
    )
    assert.ok(isAddressEqual(minted.to as Address, gas.actors.borrower))
    assert.equal(await balanceOf(base, 'USDC', gas.actors.borrower), gas.borrowed.spoke)
    const debt = await hub.public.readContract({
      address: engine,
      abi: marginEngineAbi,
      functionName: 'debtOf',
      args: [gas.actors.borrower],
      blockNumber: gas.receipts.borrowToSpoke.blockNumber,
    })
    assert.ok(debt >= gas.borrowed.hub + gas.borrowed.spoke, `debt ${debt}`)
  })

  it('the withdrawal debits on the hub and the Release pays the borrower on base', () => {
    const wsteth = contractAddress(base, 'wstETH')
    const withdrawn = eventOf(gas.receipts.withdraw, marginEngineAbi, 'Withdrawn', engine)
    assert.equal(withdrawn.amount, AMOUNTS.withdraw)
    const { message, id } = gas.messages.withdraw
    assert.equal(withdrawn.messageId, id)
    assert.ok(isAddressEqual(message.receiver, contractAddress(base, 'CollateralVault')))
    const [, release] = decodeAbiParameters(RELEASE, message.payload)
    assert.ok(isAddressEqual(release.token, wsteth))
    assert.equal(release.amount, AMOUNTS.withdraw)
    assert.equal(release.reason, REASON_WITHDRAW)
    const released = eventOf(
      gas.receipts.withdrawRelease,
      collateralVaultAbi,
      'Released',
      contractAddress(base, 'CollateralVault'),
    )
    assert.ok(isAddressEqual(released.recipient as Address, gas.actors.borrower))
    assert.equal(released.amount, AMOUNTS.withdraw)
    assert.equal(released.messageId, id)
  })

  it('the liquidation emits Liquidated and a seize message to the l1 vault, whose release pays the liquidator', async () => {
    const weth = contractAddress(l1, 'WETH')
    const vault = contractAddress(l1, 'CollateralVault')
    const liquidated = eventOf(gas.receipts.liquidate, marginEngineAbi, 'Liquidated', engine)
    assert.ok(isAddressEqual(liquidated.account as Address, gas.actors.borrower))
    assert.ok(isAddressEqual(liquidated.liquidator as Address, gas.actors.liquidator))
    assert.equal(liquidated.chainId, BigInt(l1.entry.chainId))
    assert.equal(liquidated.repaid, AMOUNTS.repay)
    const lhfBefore = liquidated.lhfBefore as bigint
    assert.ok(lhfBefore < WAD && lhfBefore > (95n * WAD) / 100n, `LHF before ${lhfBefore}`)
    assert.ok((liquidated.lhfAfter as bigint) >= lhfBefore, 'the liquidation lowered the LHF')
    const seized = liquidated.seized as bigint
    assert.ok(seized > 0n && seized < 2n * AMOUNTS.weth)

    const { message, id } = gas.messages.seize
    assert.equal(liquidated.messageId, id)
    assert.equal(message.destChainId, BigInt(l1.entry.chainId))
    assert.ok(isAddressEqual(message.receiver, vault))
    const [, release] = decodeAbiParameters(RELEASE, message.payload)
    assert.deepEqual(
      [release.account, release.token, release.amount, release.recipient, release.reason].map(String),
      [gas.actors.borrower, weth, seized, gas.actors.liquidator, REASON_SEIZE].map(String),
    )
    const released = eventOf(gas.receipts.seizeRelease, collateralVaultAbi, 'Released', vault)
    assert.equal(released.amount, seized)
    assert.equal(await balanceOf(l1, 'WETH', gas.actors.liquidator), seized)
  })

  describe('helpers (testing/margin.ts)', () => {
    it('pushPrice moves a feed twice back to back', async () => {
      const first = await pushPrice(devnet, 'WBTC', 61_000)
      const second = await pushPrice(devnet, 'WBTC', '61000.5')
      assert.equal(second.roundId, first.roundId + 1n)
      assert.ok(second.updatedAt > first.updatedAt)
      const [, answer] = await hub.public.readContract({
        address: contractAddress(hub, 'PriceFeed.WBTC'),
        abi: priceFeedAbi,
        functionName: 'latestRoundData',
      })
      assert.equal(answer, 6_100_050_000_000n)
    })

    it('deliverOnHub credits two deposits in one batch', async () => {
      const user = hub.accounts[8]!
      const amount = tokenUnits('WBTC', '0.1')
      const a = await fundAndDeposit(l1, { account: user, token: 'WBTC', amount, mint: 2n * amount })
      const b = await fundAndDeposit(l1, { account: user, token: 'WBTC', amount })
      const { states, receipt } = await deliverOnHub(devnet, SPOKES.weth, [a.message, b.message])
      assert.deepEqual(states, ['success', 'success'])
      const credits = parseEventLogs({ abi: marginEngineAbi, eventName: 'Credited', logs: receipt.logs })
      assert.equal(credits.length, 2)
      const position = await hub.public.readContract({
        address: engine,
        abi: marginEngineAbi,
        functionName: 'positionOf',
        args: [user.address, BigInt(l1.entry.chainId), contractAddress(l1, 'WBTC')],
      })
      assert.equal(position.amount, 2n * amount)
    })

    it('deliverMessages refuses a message of another lane', async () => {
      const { message } = await fundAndDeposit(base, {
        account: hub.accounts[8]!,
        token: 'WETH',
        amount: tokenUnits('WETH', 1),
      })
      await assert.rejects(deliverMessages(devnet, SPOKES.weth, 'hub', [message]), /not on the lane l1 → hub/)
    })
  })
})
