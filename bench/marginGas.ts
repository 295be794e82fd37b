/**
 * Isthmus's half of the side-by-side margin gas benchmark: the margin stack as the devnet deploys it
 * (deploy/margin.ts), driven through real transactions on the devnet's chains; every figure is a
 * receipt's `gasUsed`. No service runs: prices are reports signed with the devnet oracle keys, and
 * every message is delivered with a 3-of-5 committee proof signed with the devnet validator keys,
 * as the relayer builds it (testing/margin.ts). Verification is part of every delivery figure.
 *
 * The scenario (amounts in tokens; prices are the devnet's list prices until the drop):
 * 1. A live market first, not measured: another account (`market`) deposits WETH on l1, wstETH on
 *    base and WBTC on bank and gets them credited, borrows USDC on the hub and to base, and
 *    withdraws WETH on l1, each message delivered. So every one-time cost of the deployment is paid
 *    before anything is measured, as on a chain in use: each asset's total collateral and the pool's
 *    debt are non-zero, every lane has carried a message (Inbox state words exist), and the engine
 *    has approved the USDC pool. What stays fresh is the measured account's own storage.
 * 2. The borrower deposits 5 WETH on l1 (spoke `deposit`) and the hub credits it: its first position
 *    (account, position and position key written from zero). Then a 5 WETH top-up: the steady state.
 *    Then 8 wstETH on base and 0.5 WBTC on bank, credited (not measured): collateral on 3 chains.
 * 3. Fresh prices for the three assets (one report each; the WETH one is measured), then the
 *    borrower borrows on the hub, paid on the hub (first debt of the account; all 3 positions
 *    valued with their λ), 97% of its borrowing power less 5,000 USDC, and 5,000 USDC delivered to
 *    base (a programmable token transfer: USDC burnt on the hub, minted on base, both measured).
 * 4. It withdraws 0.25 wstETH on base: debit and health check on the hub, then the Release
 *    message; the release on base is measured too.
 * 5. WETH drops (one new report) so that the borrower's LHF is 0.98: liquidatable, the 50% close
 *    factor applies. A liquidator repays 10,000 USDC and seizes WETH on l1 (the seize message is
 *    part of the `liquidate` figure); the release to the liquidator on l1 is measured too.
 *
 * Every measured transaction lands at least one second after its chain's latest block (the clock is
 * moved with `evm_increaseTime`): on the hub so that interest accrues in each, as in a live pool (a
 * block at the same second skips the accrual); on l1 so that the top-up is later than the first
 * deposit and the hub moves the position's source time, as for any later deposit. The chains' block
 * times and finality depths do not matter: a committee proof is signatures over the batch root,
 * which the verifier checks without regard to finality (validators wait for it before signing; here
 * the keys sign at once). With 100 ms blocks instead of one per transaction the figures were the
 * same but for the calldata noise (zero bytes in signatures and ids).
 *
 * Every measured message goes into its Outbox at a leaf that is not a power of two: leaf 2^k is the
 * first to write tree level k (a fresh slot, +17,100 gas), which a live Outbox pays once per
 * doubling; filler messages skip such leaves. The
 * accounts a transfer pays get their first balance of that token where Aave's measurement does too
 * (borrowed USDC, seized collateral): a fresh balance slot in both.
 */
import {
  type Address,
  isAddressEqual,
  type LocalAccount,
  parseEventLogs,
  type TransactionReceipt,
} from 'viem'
import { assetId, HUB_CHAIN, MARGIN_ASSETS, priceFeedName } from '../deploy/margin.js'
import { DEVNET_ROLES } from '../devnet/topology.js'
import { collateralVaultAbi } from '../sdk/abi/CollateralVault.js'
import { marginEngineAbi } from '../sdk/abi/MarginEngine.js'
import { outboxAbi } from '../sdk/abi/Outbox.js'
import { priceFeedAbi } from '../sdk/abi/PriceFeed.js'
import { BaseError } from '../sdk/errors.js'
import type { TestChain, TestDevnet } from '../testing/devnet.js'
import {
  approveMax,
  balanceOf,
  contractAddress,
  type Delivered,
  deliverOnHub,
  deliverOnSpoke,
  deposit,
  faucet,
  fundAndDeposit,
  mined,
  type OutgoingMessage,
  pushPrice,
  sentMessage,
  tokenUnits,
} from '../testing/margin.js'
import { sendMessage } from '../testing/messaging.js'
import type { ResultRow } from './lib/results.js'

export const SYSTEM = 'Isthmus'

export class MarginBenchError extends BaseError {
  override name = 'MarginBenchError'
}

const WAD = 10n ** 18n
/** The LHF the price drop aims at: below 1, above FULL_CLOSE_LHF (0.95), so the close factor is 50%. */
const TARGET_LHF = (98n * WAD) / 100n
/** Share of its borrowing power the borrower borrows. */
const BORROW_SHARE = 97n

export const AMOUNTS = {
  market: { weth: tokenUnits('WETH', 10), wsteth: tokenUnits('wstETH', 10), wbtc: tokenUnits('WBTC', 1) },
  marketBorrow: tokenUnits('USDC', 20_000),
  marketBorrowToSpoke: tokenUnits('USDC', 1_000),
  marketWithdraw: tokenUnits('WETH', 1),
  /** Each of the borrower's two WETH deposits on l1. */
  weth: tokenUnits('WETH', 5),
  wsteth: tokenUnits('wstETH', 8),
  wbtc: tokenUnits('WBTC', '0.5'),
  borrowToSpoke: tokenUnits('USDC', 5_000),
  withdraw: tokenUnits('wstETH', '0.25'),
  repay: tokenUnits('USDC', 10_000),
  liquidatorUsdc: tokenUnits('USDC', 20_000),
} as const

/** The spoke chains of the scenario: where each of the borrower's positions lives. */
export const SPOKES = { weth: 'l1', wsteth: 'base', wbtc: 'bank' } as const
/** Where the spoke borrow, the withdrawal and the seizure go. */
const BORROW_SPOKE = SPOKES.wsteth
const SEIZE_SPOKE = SPOKES.weth

export type MarginGasStep =
  | 'depositFirst'
  | 'deposit'
  | 'creditFirst'
  | 'credit'
  | 'priceReport'
  | 'borrow'
  | 'borrowToSpoke'
  | 'borrowDelivery'
  | 'withdraw'
  | 'withdrawRelease'
  | 'liquidate'
  | 'seizeRelease'

export type MarginActors = {
  /** Makes the market live before anything is measured (see the header). */
  market: LocalAccount
  borrower: LocalAccount
  liquidator: LocalAccount
}

export type MarginGasMeasurement = {
  gas: Record<MarginGasStep, bigint>
  receipts: Record<MarginGasStep, TransactionReceipt>
  actors: { market: Address; borrower: Address; liquidator: Address }
  /** USDC the borrower borrowed on the hub and had delivered to the spoke. */
  borrowed: { hub: bigint; spoke: bigint }
  /** The messages the measured hub transactions sent. */
  messages: { borrowToSpoke: OutgoingMessage; withdraw: OutgoingMessage; seize: OutgoingMessage }
  liquidation: {
    /** WETH's feed answer (8 decimals) before and after the drop. */
    priceBefore: bigint
    priceAfter: bigint
    /** The borrower's LHF (WAD) once the drop was reported. */
    lhfBefore: bigint
  }
}

/** Devnet users 4, 5 and 6 (index 3 is the messaging bench's sender). */
export function defaultMarginActors(devnet: TestDevnet): MarginActors {
  const hub = devnet.chain(HUB_CHAIN)
  const user = (offset: number) => hub.accounts[DEVNET_ROLES.firstUser + offset]!
  return { market: user(1), borrower: user(2), liquidator: user(3) }
}

/**
 * Goals of the margin gas figures: the hub's credit of a deposit (verification included) at most
 * what Aave's local supply costs on the same chain (first against first, top-up against top-up),
 * a borrow at most 200,000, a liquidation with its seize message at most 300,000. Steps without a
 * goal are reported for information.
 */
export function marginGoals(aave: {
  supply: bigint
  supplyFirst: bigint
}): Partial<Record<MarginGasStep, bigint>> {
  return {
    creditFirst: aave.supplyFirst,
    credit: aave.supply,
    borrow: 200_000n,
    borrowToSpoke: 200_000n,
    liquidate: 300_000n,
  }
}

/** What each step is, for the results table. */
export const MARGIN_OPERATIONS: Record<MarginGasStep, string> = {
  depositFirst: `${SPOKES.weth}: CollateralVault.deposit, lock + Credit message (account's first)`,
  deposit: `${SPOKES.weth}: CollateralVault.deposit (top-up)`,
  creditFirst: "hub: credit a deposit, Inbox.execute 3-of-5 + MarginEngine (account's first position)",
  credit: 'hub: credit a deposit, Inbox.execute 3-of-5 + MarginEngine (top-up)',
  priceReport: 'hub: price report, PriceFeed.transmit of 3 signed observations',
  borrow: `hub: borrow paid on the hub, collateral on ${SPOKES.weth}, ${SPOKES.wsteth}, ${SPOKES.wbtc} (account's first debt)`,
  borrowToSpoke: `hub: borrow delivered to ${BORROW_SPOKE} (USDC burn + token message)`,
  borrowDelivery: `${BORROW_SPOKE}: borrowed USDC arrives, Inbox.execute 3-of-5 + mint`,
  withdraw: 'hub: withdraw, debit + health check + Release message',
  withdrawRelease: `${BORROW_SPOKE}: withdrawal released, Inbox.execute 3-of-5 + vault transfer`,
  liquidate: `hub: liquidate, incl. the seize message to ${SEIZE_SPOKE}`,
  seizeRelease: `${SEIZE_SPOKE}: seizure released to the liquidator, Inbox.execute 3-of-5 + vault transfer`,
}

/** The figures as benchmark rows, in MARGIN_OPERATIONS order (goals and verdicts are added by bench/margin.ts). */
export function marginGasRows(measurement: MarginGasMeasurement): ResultRow[] {
  return (Object.keys(MARGIN_OPERATIONS) as MarginGasStep[]).map((step) => ({
    system: SYSTEM,
    operation: MARGIN_OPERATIONS[step],
    value: Number(measurement.gas[step]),
    unit: 'gas',
  }))
}

/** Runs the scenario of the header on `devnet` (chains l1, hub, base and bank, margin stack deployed). */
export async function measureMarginGas(
  devnet: TestDevnet,
  actors: MarginActors = defaultMarginActors(devnet),
): Promise<MarginGasMeasurement> {
  const hub = devnet.chain(HUB_CHAIN)
  const spoke = (name: string) => devnet.chain(name)
  const engine = contractAddress(hub, 'MarginEngine')
  const chainId = (name: string) => BigInt(devnet.chain(name).entry.chainId)
  const { market, borrower, liquidator } = actors
  const receipts: Partial<Record<MarginGasStep, TransactionReceipt>> = {}
  const borrow = async (account: LocalAccount, amount: bigint, to: string, what: string) =>
    mined(
      hub,
      await hub.wallet.writeContract({
        account,
        address: engine,
        abi: marginEngineAbi,
        functionName: 'borrow',
        args: [amount, chainId(to), account.address],
      }),
      what,
    )
  const withdraw = async (account: LocalAccount, from: string, token: string, amount: bigint, what: string) =>
    mined(
      hub,
      await hub.wallet.writeContract({
        account,
        address: engine,
        abi: marginEngineAbi,
        functionName: 'withdraw',
        args: [chainId(from), contractAddress(spoke(from), token), amount, account.address],
      }),
      what,
    )
  const read = {
    health: (account: Address) =>
      hub.public.readContract({
        address: engine,
        abi: marginEngineAbi,
        functionName: 'healthOf',
        args: [account],
      }),
    positions: (account: Address) =>
      hub.public.readContract({
        address: engine,
        abi: marginEngineAbi,
        functionName: 'positionsOf',
        args: [account],
      }),
  }
  // 1. A live market.
  for (const asset of MARGIN_ASSETS) await pushPrice(devnet, asset.symbol, asset.price)
  const marketDeposits = [
    { chain: SPOKES.weth, token: 'WETH', amount: AMOUNTS.market.weth },
    { chain: SPOKES.wsteth, token: 'wstETH', amount: AMOUNTS.market.wsteth },
    { chain: SPOKES.wbtc, token: 'WBTC', amount: AMOUNTS.market.wbtc },
  ]
  for (const { chain, token, amount } of marketDeposits) {
    const { message } = await fundAndDeposit(spoke(chain), {
      account: market,
      token,
      amount,
      mint: amount * 2n,
    })
    credited(await deliverOnHub(devnet, chain, message), engine, market.address)
  }
  await borrow(market, AMOUNTS.marketBorrow, HUB_CHAIN, 'market borrow')
  const marketToSpoke = await borrow(
    market,
    AMOUNTS.marketBorrowToSpoke,
    BORROW_SPOKE,
    'market borrow to a spoke',
  )
  await deliverOnSpoke(devnet, BORROW_SPOKE, sentMessage(hub, marketToSpoke))
  const marketWithdraw = await withdraw(
    market,
    SEIZE_SPOKE,
    'WETH',
    AMOUNTS.marketWithdraw,
    'market withdraw',
  )
  await deliverOnSpoke(devnet, SEIZE_SPOKE, sentMessage(hub, marketWithdraw))

  // 2. The borrower's collateral: first credit and a top-up measured, then two more chains.
  const l1 = spoke(SPOKES.weth)
  await faucet(l1, 'WETH', borrower.address, AMOUNTS.weth * 4n)
  await approveMax(l1, borrower, 'WETH', contractAddress(l1, 'CollateralVault'))
  for (const [depositStep, creditStep] of [
    ['depositFirst', 'creditFirst'],
    ['deposit', 'credit'],
  ] as const) {
    await steadyLeaf(devnet, SPOKES.weth)
    await nextSecond(l1)
    const sent = await deposit(l1, { account: borrower, token: 'WETH', amount: AMOUNTS.weth })
    receipts[depositStep] = sent.receipt
    await nextSecond(hub)
    const delivered = await deliverOnHub(devnet, SPOKES.weth, sent.message)
    credited(delivered, engine, borrower.address, AMOUNTS.weth)
    receipts[creditStep] = delivered.receipt
  }
  for (const [key, token] of [
    ['wsteth', 'wstETH'],
    ['wbtc', 'WBTC'],
  ] as const) {
    const amount = AMOUNTS[key]
    const { message } = await fundAndDeposit(spoke(SPOKES[key]), {
      account: borrower,
      token,
      amount,
      mint: amount * 2n,
    })
    credited(await deliverOnHub(devnet, SPOKES[key], message), engine, borrower.address, amount)
  }
  const positions = await read.positions(borrower.address)
  if (positions.length !== 3)
    throw new MarginBenchError(`the borrower has ${positions.length} positions, not 3`)

  // 3. Fresh prices, then the borrows.
  for (const asset of MARGIN_ASSETS) {
    await nextSecond(hub)
    const pushed = await pushPrice(devnet, asset.symbol, asset.price)
    if (asset.symbol === 'WETH') receipts.priceReport = pushed.receipt
  }
  const { borrowPowerUsd } = await read.health(borrower.address)
  const borrowTotal = (borrowPowerUsd * BORROW_SHARE) / 100n / 10n ** 12n
  const borrowed = { hub: borrowTotal - AMOUNTS.borrowToSpoke, spoke: AMOUNTS.borrowToSpoke }
  await nextSecond(hub)
  receipts.borrow = await borrow(borrower, borrowed.hub, HUB_CHAIN, 'borrow')
  if ((await balanceOf(hub, 'USDC', borrower.address)) !== borrowed.hub)
    throw new MarginBenchError('the hub borrow did not pay the borrower')
  await steadyLeaf(devnet, HUB_CHAIN)
  await nextSecond(hub)
  receipts.borrowToSpoke = await borrow(borrower, borrowed.spoke, BORROW_SPOKE, 'borrow to a spoke')
  const borrowMessage = sentMessage(hub, receipts.borrowToSpoke)
  receipts.borrowDelivery = (await deliverOnSpoke(devnet, BORROW_SPOKE, borrowMessage)).receipt
  if ((await balanceOf(spoke(BORROW_SPOKE), 'USDC', borrower.address)) !== borrowed.spoke)
    throw new MarginBenchError(`the borrowed USDC did not arrive on ${BORROW_SPOKE}`)

  // 4. Withdraw a little wstETH on base.
  await steadyLeaf(devnet, HUB_CHAIN)
  await nextSecond(hub)
  receipts.withdraw = await withdraw(borrower, BORROW_SPOKE, 'wstETH', AMOUNTS.withdraw, 'withdraw')
  const withdrawMessage = sentMessage(hub, receipts.withdraw)
  receipts.withdrawRelease = (await deliverOnSpoke(devnet, BORROW_SPOKE, withdrawMessage)).receipt

  // 5. The drop and the liquidation.
  await faucet(hub, 'USDC', liquidator.address, AMOUNTS.liquidatorUsdc)
  await approveMax(hub, liquidator, 'USDC', engine)
  const wethId = assetId('WETH')
  const [, answerBefore] = await hub.public.readContract({
    address: contractAddress(hub, priceFeedName('WETH')),
    abi: priceFeedAbi,
    functionName: 'latestRoundData',
  })
  const answerAfter = await priceForLhf(hub, engine, borrower.address, wethId, answerBefore)
  await nextSecond(hub)
  await pushPrice(devnet, 'WETH', answerAfter)
  const { lhf } = await read.health(borrower.address)
  if (lhf >= WAD || lhf <= (95n * WAD) / 100n)
    throw new MarginBenchError(`the borrower's LHF after the drop is ${lhf}, not in (0.95, 1)`)
  await steadyLeaf(devnet, HUB_CHAIN)
  await nextSecond(hub)
  receipts.liquidate = await mined(
    hub,
    await hub.wallet.writeContract({
      account: liquidator,
      address: engine,
      abi: marginEngineAbi,
      functionName: 'liquidate',
      args: [
        borrower.address,
        chainId(SEIZE_SPOKE),
        contractAddress(l1, 'WETH'),
        AMOUNTS.repay,
        liquidator.address,
      ],
    }),
    'liquidate',
  )
  const seizeMessage = sentMessage(hub, receipts.liquidate)
  receipts.seizeRelease = (await deliverOnSpoke(devnet, SEIZE_SPOKE, seizeMessage)).receipt
  released(receipts.seizeRelease, contractAddress(l1, 'CollateralVault'), liquidator.address)

  const all = receipts as Record<MarginGasStep, TransactionReceipt>
  const gas = Object.fromEntries(Object.entries(all).map(([step, r]) => [step, r.gasUsed])) as Record<
    MarginGasStep,
    bigint
  >
  return {
    gas,
    receipts: all,
    actors: { market: market.address, borrower: borrower.address, liquidator: liquidator.address },
    borrowed,
    messages: { borrowToSpoke: borrowMessage, withdraw: withdrawMessage, seize: seizeMessage },
    liquidation: { priceBefore: answerBefore, priceAfter: answerAfter, lhfBefore: lhf },
  }
}

/**
 * The WETH answer at which the borrower's LHF is TARGET_LHF, from the engine's own figures: λ does
 * not depend on the price, so the WETH position's liquidation value scales with it and the rest stays.
 */
async function priceForLhf(
  hub: TestChain,
  engine: Address,
  account: Address,
  wethId: number,
  answer: bigint,
): Promise<bigint> {
  const [health, positions, [params]] = await Promise.all([
    hub.public.readContract({
      address: engine,
      abi: marginEngineAbi,
      functionName: 'healthOf',
      args: [account],
    }),
    hub.public.readContract({
      address: engine,
      abi: marginEngineAbi,
      functionName: 'positionsOf',
      args: [account],
    }),
    hub.public.readContract({
      address: engine,
      abi: marginEngineAbi,
      functionName: 'assetParams',
      args: [wethId],
    }),
  ])
  const weth = positions.find((p) => p.assetId === wethId)!
  const wethValue = (((weth.valueUsd * params.liquidationThreshold) / WAD) * weth.lambda) / WAD
  const excess = health.liquidationValueUsd - (TARGET_LHF * health.debtUsd) / WAD
  if (excess <= 0n || excess >= wethValue)
    throw new MarginBenchError('no WETH price gives the target LHF', {
      details: `liquidation value ${health.liquidationValueUsd}, debt ${health.debtUsd}, WETH's share ${wethValue}`,
    })
  return (answer * (wethValue - excess)) / wethValue
}

/** The chain's next transaction lands at least one second after its latest block (see the header). */
async function nextSecond(chain: TestChain): Promise<void> {
  await chain.test.increaseTime({ seconds: 1 })
}

/**
 * Sends filler messages from `chainName` until its Outbox's next leaf is not a power of two, so
 * the measured message after it does not pay for a new tree level (see the header).
 */
async function steadyLeaf(devnet: TestDevnet, chainName: string): Promise<void> {
  const chain = devnet.chain(chainName)
  const dest = devnet.chain(chainName === HUB_CHAIN ? SPOKES.wbtc : HUB_CHAIN)
  const outbox = contractAddress(chain, 'Outbox')
  for (;;) {
    const size =
      (await chain.public.readContract({ address: outbox, abi: outboxAbi, functionName: 'count' })) + 1n
    if ((size & (size - 1n)) !== 0n) return
    await sendMessage(chain, dest, 'filler', { receiver: 'BenchReceiver', gasLimit: 50_000 })
  }
}

/** Throws unless the delivery credited `account` (with `amount`, when given) on the engine. */
function credited(delivered: Delivered, engine: Address, account: Address, amount?: bigint) {
  const [event] = parseEventLogs({
    abi: marginEngineAbi,
    eventName: 'Credited',
    logs: delivered.receipt.logs.filter((l) => isAddressEqual(l.address, engine)),
  })
  if (!event || event.args.account !== account || (amount !== undefined && event.args.amount !== amount))
    throw new MarginBenchError(`credit ${delivered.receipt.transactionHash} did not credit ${account}`)
}

/** Throws unless the delivery made the vault pay `recipient`. */
function released(receipt: TransactionReceipt, vault: Address, recipient: Address) {
  const [event] = parseEventLogs({
    abi: collateralVaultAbi,
    eventName: 'Released',
    logs: receipt.logs.filter((l) => isAddressEqual(l.address, vault)),
  })
  if (!event || event.args.recipient !== recipient)
    throw new MarginBenchError(`release ${receipt.transactionHash} did not pay ${recipient}`)
}
