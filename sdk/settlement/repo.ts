/**
 * Intraday repos on the hub's RepoDesk (docs/settlement.md): terms and their amounts computed here
 * exactly as the desk computes them, proposal, the four legs (opening and closing, each party's) and
 * the desk's state. A repo is two DvP deals; see ./dvp.ts for the deals themselves.
 */
import { type Account, type Address, encodeAbiParameters, type Hex, keccak256, parseEventLogs } from 'viem'
import { repoDeskAbi } from '../abi/RepoDesk.js'
import type { ChainEntry } from '../manifest.js'
import { dealIdOf, escrowLeg, type LegSpec } from './dvp.js'
import {
  contractOn,
  type SettlementChain,
  SettlementError,
  type SettlementReader,
  type SettlementTx,
  submitContractWrite,
} from './tx.js'

export const WAD = 10n ** 18n
export const YEAR = 365n * 24n * 3600n

/** The terms as borrower and lender agreed them (the desk's `RepoTerms`); times are unix seconds. */
export type RepoTerms = {
  borrower: Address
  lender: Address
  collateralChainId: bigint
  collateralEscrow: Address
  collateralToken: Address
  collateralAmount: bigint
  cashEscrow: Address
  cashToken: Address
  /** Cash base units per collateral base unit, in WAD. */
  price: bigint
  /** WAD; below 1. */
  haircut: bigint
  /** Simple annual rate, WAD. */
  rate: bigint
  openDeadline: bigint
  maturity: bigint
  grace: bigint
}

export const REPO_STATES = ['None', 'Proposed', 'Open', 'Closed', 'Defaulted', 'Failed'] as const
export type RepoState = (typeof REPO_STATES)[number]

export type Repo = {
  terms: RepoTerms
  state: RepoState
  cashAmount: bigint
  repurchaseAmount: bigint
  openingDealId: Hex
  closingDealId: Hex
}

// ---------------------------------------------------------------------------------------------
// Amounts and terms
// ---------------------------------------------------------------------------------------------

const mulDivDown = (x: bigint, y: bigint, d: bigint) => (x * y) / d
const mulDivUp = (x: bigint, y: bigint, d: bigint) => (x * y + d - 1n) / d

/** The cash the borrower receives: `collateral × price × (1 − haircut)`, each step rounded down (`RepoDesk.quote`). */
export function cashAmountDown(terms: Pick<RepoTerms, 'collateralAmount' | 'price' | 'haircut'>): bigint {
  const value = mulDivDown(terms.collateralAmount, terms.price, WAD)
  return mulDivDown(value, WAD - terms.haircut, WAD)
}

/** The interest on `cashAmount`: `cash × rate × (maturity − openDeadline) / year`, rounded up. */
export function interestUp(
  cashAmount: bigint,
  terms: Pick<RepoTerms, 'rate' | 'maturity' | 'openDeadline'>,
): bigint {
  return mulDivUp(cashAmount, terms.rate * (terms.maturity - terms.openDeadline), WAD * YEAR)
}

export type RepoQuote = { cashAmount: bigint; interest: bigint; repurchaseAmount: bigint }

export function quoteRepo(terms: RepoTerms): RepoQuote {
  const cashAmount = cashAmountDown(terms)
  const interest = interestUp(cashAmount, terms)
  return { cashAmount, interest, repurchaseAmount: cashAmount + interest }
}

/** The agreed terms; the deployment gives the escrows, and the tokens by manifest name. */
export type RepoTermsParameters = Omit<
  RepoTerms,
  'collateralChainId' | 'collateralEscrow' | 'collateralToken' | 'cashEscrow' | 'cashToken'
> & {
  hub: ChainEntry
  /** The chain of the collateral (T-bill) leg. */
  collateralChain: ChainEntry
  /** A manifest name on the collateral chain (default 'TBILL'). */
  collateralToken?: string
  /** A manifest name on the hub (default 'USDC'). */
  cashToken?: string
}

/** Terms with the escrows and tokens of the deployment. */
export function repoTerms(p: RepoTermsParameters): RepoTerms {
  return {
    borrower: p.borrower,
    lender: p.lender,
    collateralChainId: BigInt(p.collateralChain.chainId),
    collateralEscrow: contractOn(p.collateralChain, 'SettlementEscrow'),
    collateralToken: contractOn(p.collateralChain, p.collateralToken ?? 'TBILL'),
    collateralAmount: p.collateralAmount,
    cashEscrow: contractOn(p.hub, 'SettlementEscrow'),
    cashToken: contractOn(p.hub, p.cashToken ?? 'USDC'),
    price: p.price,
    haircut: p.haircut,
    rate: p.rate,
    openDeadline: p.openDeadline,
    maturity: p.maturity,
    grace: p.grace,
  }
}

/**
 * The desk's own validation (`_requireValidTerms`, besides the zero-address checks the builder cannot
 * fail), so a caller learns what is wrong before it sends anything. `now` is the hub's block time.
 */
export function checkRepoTerms(t: RepoTerms, now: bigint): void {
  const refuse = (reason: string) => {
    throw new SettlementError(`unusable repo terms: ${reason}`)
  }
  if (t.borrower.toLowerCase() === t.lender.toLowerCase()) refuse('borrower is lender')
  if (t.collateralAmount === 0n) refuse('zero collateral')
  if (t.price === 0n) refuse('zero price')
  if (t.haircut >= WAD) refuse('haircut not below 1')
  if (t.openDeadline < now) refuse(`opening deadline ${t.openDeadline} passed (hub time ${now})`)
  if (t.maturity <= t.openDeadline) refuse('maturity not after opening')
  if (t.maturity + t.grace >= 2n ** 64n) refuse('deadline overflow')
  if (cashAmountDown(t) === 0n) refuse('zero cash')
}

const TERMS_TUPLE = {
  type: 'tuple',
  components: [
    { name: 'borrower', type: 'address' },
    { name: 'lender', type: 'address' },
    { name: 'collateralChainId', type: 'uint64' },
    { name: 'collateralEscrow', type: 'address' },
    { name: 'collateralToken', type: 'address' },
    { name: 'collateralAmount', type: 'uint256' },
    { name: 'cashEscrow', type: 'address' },
    { name: 'cashToken', type: 'address' },
    { name: 'price', type: 'uint256' },
    { name: 'haircut', type: 'uint256' },
    { name: 'rate', type: 'uint256' },
    { name: 'openDeadline', type: 'uint64' },
    { name: 'maturity', type: 'uint64' },
    { name: 'grace', type: 'uint64' },
  ],
} as const

/** `RepoDesk.repoIdOf`, computed here. */
export function repoIdOf(hub: ChainEntry, terms: RepoTerms): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'uint256' }, { type: 'address' }, TERMS_TUPLE],
      [BigInt(hub.chainId), contractOn(hub, 'RepoDesk'), terms],
    ),
  )
}

export type RepoPhase = 'opening' | 'closing'
export type RepoParty = 'borrower' | 'lender'

export type RepoDeal = { legA: LegSpec; legB: LegSpec; deadline: bigint; dealId: Hex }

/**
 * A repo's opening or closing deal, derived from the terms as the desk derives it
 * (`openingLegs`/`closingLegs`): opening = T-bills borrower → lender (A), cash lender → borrower (B),
 * by `openDeadline`; closing = cash + interest borrower → lender (A), T-bills back (B), by maturity + grace.
 */
export function repoDeal(hub: ChainEntry, terms: RepoTerms, phase: RepoPhase): RepoDeal {
  const { cashAmount, repurchaseAmount } = quoteRepo(terms)
  const hubId = BigInt(hub.chainId)
  const bills = (depositor: Address, counterparty: Address): LegSpec => ({
    chainId: terms.collateralChainId,
    escrow: terms.collateralEscrow,
    token: terms.collateralToken,
    amount: terms.collateralAmount,
    depositor,
    counterparty,
  })
  const cash = (amount: bigint, depositor: Address, counterparty: Address): LegSpec => ({
    chainId: hubId,
    escrow: terms.cashEscrow,
    token: terms.cashToken,
    amount,
    depositor,
    counterparty,
  })
  const [legA, legB, deadline] =
    phase === 'opening'
      ? [
          bills(terms.borrower, terms.lender),
          cash(cashAmount, terms.lender, terms.borrower),
          terms.openDeadline,
        ]
      : [
          cash(repurchaseAmount, terms.borrower, terms.lender),
          bills(terms.lender, terms.borrower),
          terms.maturity + terms.grace,
        ]
  return { legA, legB, deadline, dealId: dealIdOf(hub, legA, legB, deadline) }
}

/** The party's leg of a repo deal: the borrower holds leg A of both deals, the lender leg B. */
export function partyLeg(deal: RepoDeal, party: RepoParty): LegSpec {
  return party === 'borrower' ? deal.legA : deal.legB
}

// ---------------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------------

export type ProposedRepo = SettlementTx & {
  repoId: Hex
  openingDealId: Hex
  closingDealId: Hex
  cashAmount: bigint
  repurchaseAmount: bigint
}

/** Proposes the repo (borrower or lender) and opens its opening deal on the coordinator. */
export async function proposeRepo(
  hub: SettlementChain,
  { terms, account }: { terms: RepoTerms; account?: Account },
): Promise<ProposedRepo> {
  const sent = await submitContractWrite(hub, 'proposing a repo', {
    address: contractOn(hub.entry, 'RepoDesk'),
    abi: repoDeskAbi,
    functionName: 'proposeRepo',
    args: [terms],
    account,
  })
  const [event] = parseEventLogs({ abi: repoDeskAbi, eventName: 'RepoProposed', logs: sent.receipt.logs })
  if (!event) throw new SettlementError(`proposal ${sent.tx} emitted no RepoProposed`)
  const { repoId, openingDealId, closingDealId, cashAmount, repurchaseAmount } = event.args
  return { ...sent, repoId, openingDealId, closingDealId, cashAmount, repurchaseAmount }
}

/** Advances the repo as far as the coordinator's decisions allow (anyone may) and returns its state. */
export async function settleRepoStatus(
  hub: SettlementChain,
  { repoId, account }: { repoId: Hex; account?: Account },
): Promise<SettlementTx & { state: RepoState }> {
  const sent = await submitContractWrite(hub, `advancing repo ${repoId}`, {
    address: contractOn(hub.entry, 'RepoDesk'),
    abi: repoDeskAbi,
    functionName: 'settleStatus',
    args: [repoId],
    account,
  })
  return { ...sent, state: (await readRepo(hub, repoId)).state }
}

export type RepoChains = { hub: SettlementChain; collateral: SettlementChain }

/**
 * Escrows `party`'s leg of the repo's `phase` deal on its chain (the T-bill legs on the collateral
 * chain, the cash legs on the hub), paid by the party's `account`. Escrowing is how a party accepts;
 * a closing leg should wait until the closing deal is open on the coordinator (the repo is Open),
 * or its report fails on the hub until it is.
 */
export function escrowRepoLeg(
  chains: RepoChains,
  {
    terms,
    phase,
    party,
    account,
  }: { terms: RepoTerms; phase: RepoPhase; party: RepoParty; account: Account },
): Promise<SettlementTx & { messageId: Hex }> {
  const deal = repoDeal(chains.hub.entry, terms, phase)
  const leg = partyLeg(deal, party)
  const chain = leg.chainId === BigInt(chains.hub.entry.chainId) ? chains.hub : chains.collateral
  return escrowLeg(chain, { dealId: deal.dealId, leg, deadline: deal.deadline, account })
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

export async function readRepo(hub: SettlementReader, repoId: Hex): Promise<Repo> {
  const repo = await hub.public.readContract({
    address: contractOn(hub.entry, 'RepoDesk'),
    abi: repoDeskAbi,
    functionName: 'repoOf',
    args: [repoId],
  })
  return { ...repo, state: REPO_STATES[repo.state]! }
}
