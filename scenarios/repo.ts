/**
 * `repo` scenario: an intraday repo of tokenized T-bills (bank) against USDC (hub) between two fresh
 * institutions, through the RepoDesk and the DvP coordinator on the running devnet. Every step is a
 * real transaction; the running relayer carries every leg report and decision.
 *
 * Repo 1 opens and is repurchased early (the lender earns the interest, exactly). Repo 2 opens with a
 * maturity seconds away; the borrower never repurchases, so after maturity + grace the closing deal is
 * aborted: the lender keeps the collateral. A transfer of T-bills to a non-institution is shown refused.
 */
import {
  type Address,
  erc20Abi,
  formatUnits,
  type Hex,
  maxUint256,
  type PrivateKeyAccount,
  parseEther,
  parseUnits,
} from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { burnMintERC20Abi } from '../sdk/abi/BurnMintERC20.js'
import { reserveBackedTokenAbi } from '../sdk/abi/ReserveBackedToken.js'
import { chainByName, type Manifest } from '../sdk/manifest.js'
import {
  abortExpired,
  type LegOutcome,
  readDeal,
  type WaitOptions,
  waitForDecision,
  waitForLegOutcome,
} from '../sdk/settlement/dvp.js'
import {
  checkRepoTerms,
  escrowRepoLeg,
  proposeRepo,
  quoteRepo,
  type RepoQuote,
  type RepoTerms,
  repoTerms,
  settleRepoStatus,
} from '../sdk/settlement/repo.js'
import {
  contractOn,
  formatRevert,
  revertOf,
  type SettlementChain,
  settlementChain,
  submitContractWrite,
  submitWrite,
} from '../sdk/settlement/tx.js'
import { ScenarioError, Timeline } from './timeline.js'

/** 1,000 T-bills (18 decimals), each worth 99.5 USDC: the price is cash base units per T-bill base unit, in WAD. */
const COLLATERAL = parseUnits('1000', 18)
const PRICE = 99_500_000n
const HAIRCUT = parseUnits('0.02', 18)
const RATE = parseUnits('0.05', 18)
/** Repo 1's term: long enough never to be reached, since the borrower repurchases early. */
const TERM_S = 3_600n
/** The lender's float and the borrower's interest money (the repurchase costs more than the cash it got). */
const LENDER_USDC = parseUnits('200000', 6)
const BORROWER_USDC = parseUnits('10', 6)
const GAS = parseEther('1')

export type RepoScenarioOptions = { timeoutMs?: number }

/** A deployment's repo desk as the scenario drives it: hub and bank clients paid by the deployer. */
export type RepoDeskContext = {
  hub: SettlementChain
  bank: SettlementChain
  timeoutMs: number
}

export type RepoParties = { borrower: PrivateKeyAccount; lender: PrivateKeyAccount }

/** Wall-clock milliseconds from the proposal being sent, for each stage of opening a repo. */
export type RepoOpenTimings = {
  proposedMs: number
  legsEscrowedMs: number
  decidedMs: number
  /** T-bills paid to the lender on bank. */
  billsPaidMs: number
  /** Cash paid to the borrower on the hub. */
  cashPaidMs: number
  /** Proposal sent → both legs paid. */
  totalMs: number
}

export type OpenedRepo = {
  repoId: Hex
  terms: RepoTerms
  quote: RepoQuote
  closingDealId: Hex
  timings: RepoOpenTimings
}

export async function repoScenario(
  manifest: Manifest,
  timeline: Timeline,
  options: RepoScenarioOptions = {},
) {
  const { ctx, parties } = await onboardRepoParties(manifest, timeline, options)
  await showTransferRefused(ctx, parties, timeline)

  // Repo 1: opened, then repurchased early.
  const start = await balances(ctx, parties)
  const first = await openRepoEndToEnd(
    ctx,
    parties,
    { openWindowS: 60n, termS: TERM_S, graceS: 600n },
    timeline,
  )
  const { timings: t } = first
  timeline.note(
    `repo 1 open end to end in ${(t.totalMs / 1000).toFixed(1)} s: proposed ${ms(t.proposedMs)}, both legs escrowed ${ms(t.legsEscrowedMs)}, decided ${ms(t.decidedMs)}, T-bills paid ${ms(t.billsPaidMs)}, cash paid ${ms(t.cashPaidMs)}`,
  )
  await repurchase(ctx, parties, first, timeline)
  await expectBalances(ctx, parties, 'after the repurchase', {
    ...start,
    borrowerCash: start.borrowerCash - first.quote.interest,
    lenderCash: start.lenderCash + first.quote.interest,
  })
  timeline.note(
    `repo 1 closed: the lender earned exactly ${usdc(first.quote.interest)} USDC interest, the borrower has its ${bills(COLLATERAL)} T-bills back`,
  )

  // Repo 2: the borrower never repurchases. The opening window leaves room for the opening deal to
  // settle (twice what repo 1 took), the maturity is a second later, the grace lets the lender escrow.
  const before = await balances(ctx, parties)
  const window = BigInt(Math.ceil((2 * t.decidedMs) / 1000) + 5)
  const grace = BigInt(Math.ceil((t.totalMs - t.decidedMs) / 1000) + 3)
  const second = await openRepoEndToEnd(
    ctx,
    parties,
    { openWindowS: window, termS: 1n, graceS: grace },
    timeline,
  )
  await defaultRepo(ctx, parties, second, timeline)
  await expectBalances(ctx, parties, 'after the default', {
    borrowerBills: before.borrowerBills - COLLATERAL,
    lenderBills: before.lenderBills + COLLATERAL,
    borrowerCash: before.borrowerCash + second.quote.cashAmount,
    lenderCash: before.lenderCash - second.quote.cashAmount,
  })
  timeline.note(
    `repo 2 defaulted: the lender keeps ${bills(COLLATERAL)} T-bills, the borrower keeps ${usdc(second.quote.cashAmount)} USDC`,
  )
}

/**
 * Opens one repo end to end on a running devnet with two fresh institutions and returns how long it
 * took from the proposal to both legs paid (what bench scripts measure). Nothing is printed.
 */
export async function measureRepoOpen(
  manifest: Manifest,
  options: RepoScenarioOptions = {},
): Promise<RepoOpenTimings> {
  const timeline = new Timeline()
  const { ctx, parties } = await onboardRepoParties(manifest, timeline, options)
  const opened = await openRepoEndToEnd(
    ctx,
    parties,
    { openWindowS: 120n, termS: TERM_S, graceS: 600n },
    timeline,
  )
  return opened.timings
}

// ---------------------------------------------------------------------------------------------
// Onboarding
// ---------------------------------------------------------------------------------------------

/**
 * Two fresh accounts made institutions on the T-bill by the deployer, with gas on hub and bank, T-bills
 * for the borrower (minted within the proven reserves), USDC for the lender, and both escrows approved.
 */
export async function onboardRepoParties(
  manifest: Manifest,
  timeline: Timeline,
  options: RepoScenarioOptions = {},
): Promise<{ ctx: RepoDeskContext; parties: RepoParties }> {
  const deployerKey = manifest.accounts[0]?.privateKey as Hex | undefined
  if (manifest.network !== 'devnet' || !deployerKey)
    throw new ScenarioError(
      'the repo scenario runs on the devnet (it onboards institutions and mints T-bills)',
    )
  if (!manifest.services.relayer)
    throw new ScenarioError(
      'no relayer in the manifest: it carries every leg and decision (npm start runs it)',
    )
  const deployer = privateKeyToAccount(deployerKey)
  const ctx: RepoDeskContext = {
    hub: settlementChain(chainByName(manifest, 'hub'), deployer),
    bank: settlementChain(chainByName(manifest, 'bank'), deployer),
    timeoutMs: options.timeoutMs ?? 120_000,
  }
  const parties = {
    borrower: privateKeyToAccount(generatePrivateKey()),
    lender: privateKeyToAccount(generatePrivateKey()),
  }
  const { borrower, lender } = parties
  timeline.note(
    `borrower ${borrower.address}, lender ${lender.address} (fresh; funded with gas on hub and bank)`,
  )
  await assertReservesFresh(ctx)

  const onBank = async () => {
    for (const party of [borrower, lender]) await sendGas(ctx.bank, party.address)
    for (const [role, party] of Object.entries(parties)) {
      const sent = await submitContractWrite(ctx.bank, `onboarding the ${role}`, {
        address: contractOn(ctx.bank.entry, 'TBILL'),
        abi: reserveBackedTokenAbi,
        functionName: 'setInstitution',
        args: [party.address, true],
      })
      timeline.step(`${role} onboarded as an institution on the T-bill (setInstitution)`, sent)
    }
    const minted = await mintTbills(ctx.bank, borrower.address, COLLATERAL)
    timeline.step(`${bills(COLLATERAL)} T-bills minted to the borrower within the proven reserves`, minted)
  }
  const onHub = async () => {
    for (const party of [borrower, lender]) await sendGas(ctx.hub, party.address)
    for (const [role, party, amount] of [
      ['lender', lender, LENDER_USDC],
      ['borrower', borrower, BORROWER_USDC],
    ] as const) {
      const sent = await submitContractWrite(ctx.hub, 'minting USDC', {
        address: contractOn(ctx.hub.entry, 'USDC'),
        abi: burnMintERC20Abi,
        functionName: 'mint',
        args: [party.address, amount],
      })
      timeline.step(`${usdc(amount)} USDC to the ${role} on the hub`, sent)
    }
  }
  await Promise.all([onBank(), onHub()])

  // Each party approves the escrows of the legs it will pay, once (off the measured path).
  const approvals: [SettlementChain, PrivateKeyAccount, string, string][] = [
    [ctx.bank, borrower, 'TBILL', 'borrower'],
    [ctx.hub, borrower, 'USDC', 'borrower'],
    [ctx.hub, lender, 'USDC', 'lender'],
    [ctx.bank, lender, 'TBILL', 'lender'],
  ]
  await Promise.all(
    approvals.map(async ([chain, account, token, role]) => {
      const sent = await submitContractWrite(chain, `approving ${token}`, {
        address: contractOn(chain.entry, token),
        abi: erc20Abi,
        functionName: 'approve',
        args: [contractOn(chain.entry, 'SettlementEscrow'), maxUint256],
        account,
      })
      timeline.step(`${role} approves the ${chain.entry.name} escrow for ${token}`, sent)
    }),
  )
  return { ctx, parties }
}

/** Minting needs a fresh proof of reserve: say so plainly rather than fail inside a mint. */
async function assertReservesFresh(ctx: RepoDeskContext): Promise<void> {
  const tbill = contractOn(ctx.bank.entry, 'TBILL')
  try {
    await ctx.bank.public.readContract({
      address: tbill,
      abi: reserveBackedTokenAbi,
      functionName: 'latestReserves',
    })
  } catch (error) {
    const revert = revertOf(error)
    if (revert?.name !== 'ReserveFeedStale') throw error
    const [updatedAt, maxAge] = revert.args as [bigint, bigint]
    const now = (await ctx.bank.public.getBlock({ blockTag: 'latest' })).timestamp
    throw new ScenarioError(
      `the T-bill's reserve feed (ReserveFeed.TBILL on bank) is stale: last report ${updatedAt === 0n ? 'never' : `${now - updatedAt} s ago`}, a mint needs one at most ${maxAge} s old. The oracle nodes push it; are they running?`,
    )
  }
}

async function sendGas(chain: SettlementChain, to: Address): Promise<void> {
  await submitWrite(chain, 'sending gas', () => chain.wallet.sendTransaction({ to, value: GAS }))
}

/** The deployer (the T-bill's minter) mints T-bills within the proven reserves. */
function mintTbills(bank: SettlementChain, to: Address, amount: bigint) {
  return submitWrite(bank, 'minting T-bills', async () => {
    const { request, result } = await bank.public.simulateContract({
      address: contractOn(bank.entry, 'TBILL'),
      abi: reserveBackedTokenAbi,
      functionName: 'mint',
      args: [to, amount],
      account: bank.wallet.account,
    })
    // A mint that finds the token already short trips the breaker and returns false instead of minting.
    if (!result)
      throw new ScenarioError(`minting T-bills: the T-bill's reserve breaker tripped (reserves below supply)`)
    return bank.wallet.writeContract(request)
  })
}

/** The permissioned token refuses anyone outside the allowlist: simulated, so no transaction. */
async function showTransferRefused(ctx: RepoDeskContext, { borrower }: RepoParties, timeline: Timeline) {
  const stranger = privateKeyToAccount(generatePrivateKey()).address
  const refused = await ctx.bank.public
    .simulateContract({
      address: contractOn(ctx.bank.entry, 'TBILL'),
      abi: reserveBackedTokenAbi,
      functionName: 'transfer',
      args: [stranger, 1n],
      account: borrower,
    })
    .then(() => undefined)
    .catch((error: unknown) => revertOf(error))
  if (refused?.name !== 'NotAnInstitution')
    throw new ScenarioError(
      `a T-bill transfer to the non-institution ${stranger} was not refused with NotAnInstitution (${refused ? formatRevert(refused) : 'it would succeed'})`,
    )
  timeline.note(`T-bill transfer to a non-institution refused (simulated, no tx): ${formatRevert(refused)}`)
}

// ---------------------------------------------------------------------------------------------
// Repo flows
// ---------------------------------------------------------------------------------------------

type Window = { openWindowS: bigint; termS: bigint; graceS: bigint }

/**
 * Proposes a repo (opening deadline `openWindowS` from the hub's time), escrows both opening legs at
 * once, waits for the coordinator to settle, advances the repo to Open and waits for both legs to be
 * paid, checking every balance; times each stage from the proposal.
 */
export async function openRepoEndToEnd(
  ctx: RepoDeskContext,
  parties: RepoParties,
  window: Window,
  timeline: Timeline,
): Promise<OpenedRepo> {
  const { hub, bank, timeoutMs } = ctx
  const { borrower, lender } = parties
  const now = (await hub.public.getBlock({ blockTag: 'latest' })).timestamp
  const openDeadline = now + window.openWindowS
  const terms = repoTerms({
    hub: hub.entry,
    collateralChain: bank.entry,
    borrower: borrower.address,
    lender: lender.address,
    collateralAmount: COLLATERAL,
    price: PRICE,
    haircut: HAIRCUT,
    rate: RATE,
    openDeadline,
    maturity: openDeadline + window.termS,
    grace: window.graceS,
  })
  checkRepoTerms(terms, now)
  const quote = quoteRepo(terms)
  const before = await balances(ctx, parties)
  const hubFrom = await hub.public.getBlockNumber({ cacheTime: 0 })
  const bankFrom = await bank.public.getBlockNumber({ cacheTime: 0 })

  const started = Date.now()
  const since = () => Date.now() - started
  const proposed = await proposeRepo(hub, { terms, account: borrower })
  const proposedMs = since()
  timeline.step(
    `borrower proposes a repo: ${bills(COLLATERAL)} T-bills for ${usdc(quote.cashAmount)} USDC, repurchase ${usdc(quote.repurchaseAmount)} (opening deadline in ${window.openWindowS} s, maturity ${window.termS} s later, grace ${window.graceS} s)`,
    proposed,
  )
  if (proposed.cashAmount !== quote.cashAmount || proposed.repurchaseAmount !== quote.repurchaseAmount)
    throw new ScenarioError(
      `the desk quoted ${proposed.cashAmount}/${proposed.repurchaseAmount}, the SDK ${quote.cashAmount}/${quote.repurchaseAmount}`,
    )

  const [billsLeg, cashLeg] = await Promise.all([
    escrowRepoLeg(
      { hub, collateral: bank },
      { terms, phase: 'opening', party: 'borrower', account: borrower },
    ),
    escrowRepoLeg({ hub, collateral: bank }, { terms, phase: 'opening', party: 'lender', account: lender }),
  ])
  const legsEscrowedMs = since()
  timeline.step(`borrower escrows ${bills(COLLATERAL)} T-bills on bank (opening leg A)`, billsLeg)
  timeline.step(`lender escrows ${usdc(quote.cashAmount)} USDC on the hub (opening leg B)`, cashLeg)

  const decision = await settlement(
    waitForDecision(hub, proposed.openingDealId, { timeoutMs, fromBlock: hubFrom }),
    'the opening decision',
  )
  const decidedMs = since()
  if (!decision.settle)
    throw new ScenarioError(`the coordinator aborted the opening deal of repo ${proposed.repoId}`)
  timeline.step(
    'coordinator settles the opening deal: both legs verified in time (relayed reports)',
    decision,
  )

  let billsPaidMs = 0
  let cashPaidMs = 0
  await Promise.all([
    settleRepoStatus(hub, { repoId: proposed.repoId, account: lender }).then((advanced) => {
      if (advanced.state !== 'Open')
        throw new ScenarioError(`repo ${proposed.repoId} is ${advanced.state}, not Open`)
      timeline.step('RepoOpened: the closing deal is open on the coordinator (settleStatus)', advanced)
    }),
    paid(bank, proposed.openingDealId, borrower.address, bankFrom, timeoutMs).then((leg) => {
      billsPaidMs = since()
      timeline.step(`lender receives ${bills(COLLATERAL)} T-bills on bank (decision relayed)`, leg)
    }),
    paid(hub, proposed.openingDealId, lender.address, hubFrom, timeoutMs).then((leg) => {
      cashPaidMs = since()
      timeline.step(`borrower receives ${usdc(quote.cashAmount)} USDC on the hub (decision relayed)`, leg)
    }),
  ])

  await expectBalances(ctx, parties, 'after the opening', {
    borrowerBills: before.borrowerBills - COLLATERAL,
    lenderBills: before.lenderBills + COLLATERAL,
    borrowerCash: before.borrowerCash + quote.cashAmount,
    lenderCash: before.lenderCash - quote.cashAmount,
  })
  return {
    repoId: proposed.repoId,
    terms,
    quote,
    closingDealId: proposed.closingDealId,
    timings: {
      proposedMs,
      legsEscrowedMs,
      decidedMs,
      billsPaidMs,
      cashPaidMs,
      totalMs: Math.max(billsPaidMs, cashPaidMs),
    },
  }
}

/** The borrower repurchases before maturity: both closing legs escrowed, settled, repo Closed. */
async function repurchase(ctx: RepoDeskContext, parties: RepoParties, repo: OpenedRepo, timeline: Timeline) {
  const { hub, bank, timeoutMs } = ctx
  const { borrower, lender } = parties
  const { terms, quote } = repo
  const hubFrom = await hub.public.getBlockNumber({ cacheTime: 0 })
  const bankFrom = await bank.public.getBlockNumber({ cacheTime: 0 })
  const [cashLeg, billsLeg] = await Promise.all([
    escrowRepoLeg(
      { hub, collateral: bank },
      { terms, phase: 'closing', party: 'borrower', account: borrower },
    ),
    escrowRepoLeg({ hub, collateral: bank }, { terms, phase: 'closing', party: 'lender', account: lender }),
  ])
  timeline.step(
    `borrower repurchases early: escrows ${usdc(quote.repurchaseAmount)} USDC (cash + ${usdc(quote.interest)} interest) on the hub`,
    cashLeg,
  )
  timeline.step(`lender escrows the ${bills(COLLATERAL)} T-bills back on bank (closing leg B)`, billsLeg)
  const decision = await settlement(
    waitForDecision(hub, repo.closingDealId, { timeoutMs, fromBlock: hubFrom }),
    'the closing decision',
  )
  if (!decision.settle)
    throw new ScenarioError(`the coordinator aborted the closing deal of repo ${repo.repoId}`)
  timeline.step('coordinator settles the closing deal', decision)
  await Promise.all([
    settleRepoStatus(hub, { repoId: repo.repoId, account: borrower }).then((advanced) => {
      if (advanced.state !== 'Closed')
        throw new ScenarioError(`repo ${repo.repoId} is ${advanced.state}, not Closed`)
      timeline.step('RepoClosed: the borrower repurchased its collateral (settleStatus)', advanced)
    }),
    paid(bank, repo.closingDealId, lender.address, bankFrom, timeoutMs).then((leg) =>
      timeline.step(`borrower gets its ${bills(COLLATERAL)} T-bills back on bank`, leg),
    ),
    paid(hub, repo.closingDealId, borrower.address, hubFrom, timeoutMs).then((leg) =>
      timeline.step(`lender receives ${usdc(quote.repurchaseAmount)} USDC on the hub`, leg),
    ),
  ])
}

/**
 * The lender escrows the T-bills back, the borrower never pays; after maturity + grace anyone aborts
 * the closing deal: the lender's leg is refunded (it keeps the collateral), the borrower's empty leg
 * is recorded aborted, and the repo is Defaulted.
 */
async function defaultRepo(ctx: RepoDeskContext, parties: RepoParties, repo: OpenedRepo, timeline: Timeline) {
  const { hub, bank, timeoutMs } = ctx
  const { borrower, lender } = parties
  const deadline = repo.terms.maturity + repo.terms.grace
  const hubFrom = await hub.public.getBlockNumber({ cacheTime: 0 })
  const bankFrom = await bank.public.getBlockNumber({ cacheTime: 0 })
  const billsLeg = await escrowRepoLeg(
    { hub, collateral: bank },
    { terms: repo.terms, phase: 'closing', party: 'lender', account: lender },
  )
  timeline.step(`lender escrows the T-bills back on bank; the borrower never repurchases`, billsLeg)

  const waited = Date.now()
  while ((await hub.public.getBlock({ blockTag: 'latest' })).timestamp <= deadline) {
    if (Date.now() - waited > timeoutMs)
      throw new ScenarioError(`timed out waiting for the hub's clock to pass maturity + grace (${deadline})`)
    await new Promise((r) => setTimeout(r, 250))
  }
  timeline.note('maturity + grace passed on the hub without the borrower’s repurchase')
  // A lender's report reaching the hub after the deadline would already have made it abort.
  if ((await readDeal(hub, repo.closingDealId)).status === 'Open') {
    const aborted = await abortExpired(hub, { dealId: repo.closingDealId, account: lender })
    timeline.step('lender aborts the expired closing deal (abortExpired)', aborted)
  } else {
    timeline.note('the closing deal was already aborted by the late report')
  }

  const refunded = await legEnded(
    bank,
    repo.closingDealId,
    lender.address,
    'Refunded',
    { timeoutMs, fromBlock: bankFrom },
    "the lender's closing leg",
  )
  timeline.step('lender’s T-bill leg refunded on bank: it keeps the collateral', refunded)
  const empty = await legEnded(
    hub,
    repo.closingDealId,
    borrower.address,
    'Aborted',
    { timeoutMs, fromBlock: hubFrom },
    "the borrower's closing leg",
  )
  timeline.step('borrower’s closing leg recorded aborted on the hub (it can no longer be escrowed)', empty)

  const defaulted = await settleRepoStatus(hub, { repoId: repo.repoId, account: lender })
  if (defaulted.state !== 'Defaulted')
    throw new ScenarioError(`repo ${repo.repoId} is ${defaulted.state}, not Defaulted`)
  timeline.step('RepoDefaulted: the lender keeps the collateral (settleStatus)', defaulted)
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Waits for `depositor`'s leg to be paid to its counterparty. */
function paid(chain: SettlementChain, dealId: Hex, depositor: Address, fromBlock: bigint, timeoutMs: number) {
  return legEnded(chain, dealId, depositor, 'Settled', { timeoutMs, fromBlock })
}

/** Waits for the escrow on `chain` to execute a decision on `depositor`'s leg, which must end `expected`. */
async function legEnded(
  chain: SettlementChain,
  dealId: Hex,
  depositor: Address,
  expected: LegOutcome['outcome'],
  wait: WaitOptions,
  what = `${depositor}'s leg of deal ${dealId} on ${chain.entry.name}`,
): Promise<LegOutcome> {
  const leg = await settlement(waitForLegOutcome(chain, dealId, depositor, wait), what)
  if (leg.outcome !== expected) throw new ScenarioError(`${what} ended ${leg.outcome}, not ${expected}`)
  return leg
}

/** A settlement wait whose timeout is a failed scenario step. */
async function settlement<T>(waiting: Promise<T>, what: string): Promise<T> {
  try {
    return await waiting
  } catch (cause) {
    throw new ScenarioError(`waiting for ${what} failed`, { cause })
  }
}

type Balances = { borrowerBills: bigint; lenderBills: bigint; borrowerCash: bigint; lenderCash: bigint }

async function balances(ctx: RepoDeskContext, { borrower, lender }: RepoParties): Promise<Balances> {
  const of = (chain: SettlementChain, token: string, owner: Address) =>
    chain.public.readContract({
      address: contractOn(chain.entry, token),
      abi: erc20Abi,
      functionName: 'balanceOf',
      args: [owner],
    })
  const [borrowerBills, lenderBills, borrowerCash, lenderCash] = await Promise.all([
    of(ctx.bank, 'TBILL', borrower.address),
    of(ctx.bank, 'TBILL', lender.address),
    of(ctx.hub, 'USDC', borrower.address),
    of(ctx.hub, 'USDC', lender.address),
  ])
  return { borrowerBills, lenderBills, borrowerCash, lenderCash }
}

async function expectBalances(ctx: RepoDeskContext, parties: RepoParties, when: string, expected: Balances) {
  const actual = await balances(ctx, parties)
  const wrong = (Object.keys(expected) as (keyof Balances)[]).filter((k) => actual[k] !== expected[k])
  if (wrong.length)
    throw new ScenarioError(
      `balances ${when} are off: ${wrong.map((k) => `${k} ${actual[k]} (expected ${expected[k]})`).join(', ')}`,
    )
}

const usdc = (amount: bigint) => formatUnits(amount, 6)
const bills = (amount: bigint) => formatUnits(amount, 18)
const ms = (value: number) => `${(value / 1000).toFixed(1)} s`
