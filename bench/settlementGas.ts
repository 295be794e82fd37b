/**
 * Gas of the settlement protocols, one run on a test devnet (hub, bank and base; a block per
 * transaction): a cross-chain DvP (T-bills on bank against USDC on the hub) with every message
 * delivered under a 3-of-5 committee proof, the same swap as an HTLC pair, and an ERC-7683 intent
 * (open on base, fill on the hub, repayment on base). Every figure is a receipt's gasUsed; token
 * approvals are made beforehand and not counted (a desk approves once).
 */
import { type Address, type Hex, keccak256, parseEventLogs, parseUnits, sha256 } from 'viem'
import { htlcEscrowAbi } from '../sdk/abi/HtlcEscrow.js'
import { escrowLeg, legOn, openDeal } from '../sdk/settlement/dvp.js'
import { fillIntent, openIntent } from '../sdk/settlement/intents.js'
import { settlementChain } from '../sdk/settlement/tx.js'
import type { TestChain, TestDevnet } from '../testing/devnet.js'
import {
  approveMax,
  balanceOf,
  contractAddress,
  deliverMessages,
  faucet,
  mined,
  pushPrice,
  sentMessages,
} from '../testing/margin.js'
import type { ResultRow } from './lib/results.js'

/** The chains the measurement needs. */
export const SETTLEMENT_CHAINS = ['hub', 'bank', 'base'] as const

const BILLS = parseUnits('1000', 18)
const CASH = parseUnits('99500', 6)
const INTENT_IN = parseUnits('1000', 6)
const INTENT_OUT = parseUnits('998', 6)
/** The custodian's reserves pushed to the bank feed so the T-bills can be minted. */
const RESERVES = 50_000_000

export type GasStep = { operation: string; chain: string; gas: bigint }

export type SettlementGas = { dvp: GasStep[]; htlc: GasStep[]; intent: GasStep[] }

const step = (operation: string, chain: TestChain, gas: bigint): GasStep => ({
  operation,
  chain: chain.entry.name,
  gas,
})

/**
 * The two sides of a T-bill / cash swap: the borrower (an institution) with T-bills on bank, the
 * lender with USDC on the hub, each having approved `escrow` on its chain.
 */
async function swapParties(devnet: TestDevnet, borrowerIndex: number, lenderIndex: number, escrow: string) {
  const hub = devnet.chain('hub')
  const bank = devnet.chain('bank')
  const borrower = bank.accounts[borrowerIndex]!
  const lender = hub.accounts[lenderIndex]!
  await faucet(bank, 'TBILL', borrower.address, BILLS)
  await faucet(hub, 'USDC', lender.address, CASH)
  await approveMax(bank, borrower, 'TBILL', contractAddress(bank, escrow))
  await approveMax(hub, lender, 'USDC', contractAddress(hub, escrow))
  return { hub, bank, borrower, lender }
}

/**
 * One DvP deal, step by step: open, both escrows (each sends its leg report), both reports
 * verified and delivered on the hub (the second makes the coordinator decide and send two
 * decisions), both decisions verified and delivered to the escrows, which pay out.
 */
async function measureDvp(
  devnet: TestDevnet,
  borrowerIndex: number,
  lenderIndex: number,
): Promise<GasStep[]> {
  const { hub, bank, borrower, lender } = await swapParties(
    devnet,
    borrowerIndex,
    lenderIndex,
    'SettlementEscrow',
  )

  const legA = legOn(bank.entry, {
    token: 'TBILL',
    amount: BILLS,
    depositor: borrower.address,
    counterparty: lender.address,
  })
  const legB = legOn(hub.entry, {
    token: 'USDC',
    amount: CASH,
    depositor: lender.address,
    counterparty: borrower.address,
  })
  const now = (await hub.public.getBlock()).timestamp
  const deadline = now + 3_600n
  const hubAsLender = settlementChain(hub.entry, lender)
  const opened = await openDeal(hubAsLender, { legA, legB, deadline })
  const billLeg = await escrowLeg(settlementChain(bank.entry, borrower), {
    dealId: opened.dealId,
    leg: legA,
    deadline,
  })
  const cashLeg = await escrowLeg(hubAsLender, { dealId: opened.dealId, leg: legB, deadline })
  const billReport = await deliverMessages(devnet, 'bank', 'hub', sentMessages(bank, billLeg.receipt))
  const cashReport = await deliverMessages(devnet, 'hub', 'hub', sentMessages(hub, cashLeg.receipt))
  const decisions = sentMessages(hub, cashReport.receipt)
  const toBank = decisions.filter((m) => m.message.destChainId === BigInt(bank.entry.chainId))
  const toHub = decisions.filter((m) => m.message.destChainId === BigInt(hub.entry.chainId))
  if (toBank.length !== 1 || toHub.length !== 1)
    throw new Error(`the second leg report should decide the deal: ${decisions.length} decision(s) sent`)
  const paidBank = await deliverMessages(devnet, 'hub', 'bank', toBank)
  const paidHub = await deliverMessages(devnet, 'hub', 'hub', toHub)
  if ((await balanceOf(bank, 'TBILL', lender.address)) < BILLS)
    throw new Error('the DvP did not pay the T-bills to the lender')
  return [
    step('open the deal on the coordinator', hub, opened.gasUsed),
    step('escrow the T-bill leg (+ leg report sent)', bank, billLeg.gasUsed),
    step('escrow the cash leg (+ leg report sent)', hub, cashLeg.gasUsed),
    step('verify + deliver the T-bill leg report', hub, billReport.receipt.gasUsed),
    step('verify + deliver the cash leg report; decide, send 2 decisions', hub, cashReport.receipt.gasUsed),
    step('verify + deliver the decision: T-bills to the lender', bank, paidBank.receipt.gasUsed),
    step('verify + deliver the decision: cash to the borrower', hub, paidHub.receipt.gasUsed),
  ]
}

/** The same swap with hash and time locks: lock on both chains, claim on both (no messages at all). */
async function measureHtlc(
  devnet: TestDevnet,
  borrowerIndex: number,
  lenderIndex: number,
): Promise<GasStep[]> {
  const { hub, bank, borrower, lender } = await swapParties(devnet, borrowerIndex, lenderIndex, 'HtlcEscrow')
  const preimage = keccak256('0x1234')
  const hashlock = sha256(preimage)
  const now = (await hub.public.getBlock()).timestamp
  const lock = async (
    chain: TestChain,
    account: typeof borrower,
    receiver: Address,
    token: string,
    amount: bigint,
    timelock: bigint,
  ) => {
    const hash = await chain.wallet.writeContract({
      account,
      address: contractAddress(chain, 'HtlcEscrow'),
      abi: htlcEscrowAbi,
      functionName: 'lock',
      args: [hashlock, receiver, contractAddress(chain, token), amount, timelock],
    })
    const receipt = await mined(chain, hash, `HTLC lock on ${chain.entry.name}`)
    const [locked] = parseEventLogs({ abi: htlcEscrowAbi, eventName: 'Locked', logs: receipt.logs })
    if (!locked) throw new Error('no Locked event')
    return { id: locked.args.id, gas: receipt.gasUsed }
  }
  const claim = async (chain: TestChain, account: typeof borrower, id: Hex) => {
    const hash = await chain.wallet.writeContract({
      account,
      address: contractAddress(chain, 'HtlcEscrow'),
      abi: htlcEscrowAbi,
      functionName: 'claim',
      args: [id, preimage],
    })
    return (await mined(chain, hash, `HTLC claim on ${chain.entry.name}`)).gasUsed
  }
  // The borrower knows the preimage and locks first, for longer; the lender's lock expires first.
  const bills = await lock(bank, borrower, lender.address, 'TBILL', BILLS, now + 7_200n)
  const cash = await lock(hub, lender, borrower.address, 'USDC', CASH, now + 3_600n)
  const cashClaim = await claim(hub, hub.accounts[borrowerIndex]!, cash.id)
  const billClaim = await claim(bank, bank.accounts[lenderIndex]!, bills.id)
  return [
    step('lock the T-bills', bank, bills.gas),
    step('lock the cash', hub, cash.gas),
    step('claim the cash (reveals the preimage)', hub, cashClaim),
    step('claim the T-bills with the preimage', bank, billClaim),
  ]
}

/** An intent: the user opens on base, the solver fills on the hub, the Filled message repays it on base. */
async function measureIntent(devnet: TestDevnet, userIndex: number, solverIndex: number): Promise<GasStep[]> {
  const hub = devnet.chain('hub')
  const base = devnet.chain('base')
  const user = base.accounts[userIndex]!
  const solver = hub.accounts[solverIndex]!
  await faucet(base, 'USDC', user.address, INTENT_IN)
  await faucet(hub, 'USDC', solver.address, INTENT_OUT)
  await approveMax(base, user, 'USDC', contractAddress(base, 'OriginSettler'))
  await approveMax(hub, solver, 'USDC', contractAddress(hub, 'DestinationSettler'))
  const now = (await hub.public.getBlock()).timestamp
  const opened = await openIntent(
    devnet.manifest,
    {
      origin: 'base',
      destination: 'hub',
      inputAmount: INTENT_IN,
      outputAmount: INTENT_OUT,
      recipient: user.address,
      fillDeadline: Number(now) + 600,
    },
    user,
  )
  const filled = await fillIntent(
    devnet.manifest,
    { orderId: opened.orderId, originData: opened.originData },
    solver,
  )
  const solverBefore = await balanceOf(base, 'USDC', solver.address)
  const repaid = await deliverMessages(devnet, 'hub', 'base', sentMessages(hub, filled.receipt))
  if ((await balanceOf(base, 'USDC', solver.address)) - solverBefore !== INTENT_IN)
    throw new Error('the Filled message did not repay the solver the input on base')
  return [
    step('open the order (escrow the input)', base, opened.open.gasUsed),
    step('fill from the solver (+ Filled message sent)', hub, filled.gasUsed),
    step('verify + deliver Filled: repay the solver', base, repaid.receipt.gasUsed),
  ]
}

/** Everything above on `devnet` (started with at least SETTLEMENT_CHAINS and their oracle keys). */
export async function measureSettlementGas(devnet: TestDevnet): Promise<SettlementGas> {
  await pushPrice(devnet, 'ReserveFeed.TBILL', RESERVES, { chain: 'bank' })
  // Institutions 3 and 4 (DEVNET_ROLES.institutions) trade T-bills; users 5 and 6 do the intent.
  const dvp = await measureDvp(devnet, 3, 4)
  const htlc = await measureHtlc(devnet, 3, 4)
  const intent = await measureIntent(devnet, 5, 6)
  return { dvp, htlc, intent }
}

const total = (steps: GasStep[]) => steps.reduce((sum, s) => sum + s.gas, 0n)

/** The benchmark table: every step, then the totals the issue asks for. */
export function settlementGasRows({ dvp, htlc, intent }: SettlementGas): ResultRow[] {
  const row = (operation: string, chain: string, gas: bigint): ResultRow => ({
    system: 'Isthmus',
    operation,
    chain,
    value: Number(gas),
    unit: 'gas',
  })
  const protocol = (name: string, steps: GasStep[], totalOf: string, counted = steps) => [
    ...steps.map((s) => row(`${name}: ${s.operation}`, s.chain, s.gas)),
    row(`${totalOf} (total)`, [...new Set(counted.map((s) => s.chain))].join(' + '), total(counted)),
  ]
  return [
    ...protocol('DvP', dvp, 'DvP settlement, both legs incl. messages'),
    ...protocol('HTLC', htlc, 'HTLC swap, both legs'),
    ...protocol('intent', intent, 'intent fill + repayment', intent.slice(1)),
  ]
}
