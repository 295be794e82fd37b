import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { parseEventLogs, type TransactionReceipt } from 'viem'
import { startTestDevnet, type TestChain, type TestDevnet, timeTravel } from '../../testing/devnet.js'
import { balanceOf, faucet, pushPrice } from '../../testing/margin.js'
import { relayAll } from '../../testing/settlement.js'
import { repoDeskAbi } from '../abi/RepoDesk.js'
import { abortExpired, readDeal, readLeg } from './dvp.js'
import {
  escrowRepoLeg,
  proposeRepo,
  quoteRepo,
  type RepoPhase,
  type RepoTerms,
  readRepo,
  repoDeal,
  repoIdOf,
  repoTerms,
  settleRepoStatus,
} from './repo.js'
import { contractOn } from './tx.js'

/** The forge fixture's terms (contracts/test/settlement/RepoFixture.sol) and its expected amounts. */
const COLLATERAL = 1_000n * 10n ** 18n
const PRICE = 995_000n
const HAIRCUT = 2n * 10n ** 16n
const RATE = 5n * 10n ** 16n
const TERM = 8n * 3600n
const GRACE = 1800n
const EXPECTED_CASH = 975_100_000n
const EXPECTED_INTEREST = 44_526n

/**
 * Repos on real chains (hub and bank, a block per transaction), every leg a real escrow and every
 * message delivered with a real committee proof by the test, one hop at a time.
 */
describe('RepoDesk repos across hub and bank', () => {
  let devnet: TestDevnet
  let hub: TestChain
  let bank: TestChain
  let borrower: TestChain['accounts'][number]
  let lender: TestChain['accounts'][number]

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub', 'bank'], blockTimeMs: 0 })
    hub = devnet.chain('hub')
    bank = devnet.chain('bank')
    // Institutions on the T-bill (devnet roles 3–8).
    borrower = hub.accounts[5]!
    lender = hub.accounts[6]!
    await pushPrice(devnet, 'ReserveFeed.TBILL', 50_000_000, { chain: 'bank' })
    await faucet(bank, 'TBILL', borrower.address, 10n * COLLATERAL)
    await faucet(hub, 'USDC', lender.address, 10n * EXPECTED_CASH)
    // The borrower's interest: it repays more cash than it got.
    await faucet(hub, 'USDC', borrower.address, 10n * EXPECTED_INTEREST)
  })
  after(() => devnet?.stop())

  const chains = () => ({ hub, collateral: bank })
  const hubNow = async () => (await hub.public.getBlock({ blockTag: 'latest' })).timestamp
  let repos = 0
  const newTerms = async (): Promise<RepoTerms> => {
    const openDeadline = (await hubNow()) + 3_600n + BigInt(repos++)
    return repoTerms({
      hub: hub.entry,
      collateralChain: bank.entry,
      borrower: borrower.address,
      lender: lender.address,
      collateralAmount: COLLATERAL,
      price: PRICE,
      haircut: HAIRCUT,
      rate: RATE,
      openDeadline,
      maturity: openDeadline + TERM,
      grace: GRACE,
    })
  }
  const balances = async () => ({
    borrowerBills: await balanceOf(bank, 'TBILL', borrower.address),
    lenderBills: await balanceOf(bank, 'TBILL', lender.address),
    borrowerCash: await balanceOf(hub, 'USDC', borrower.address),
    lenderCash: await balanceOf(hub, 'USDC', lender.address),
  })

  /** Delivers every message `receipt` sent from `source`; returns the delivery receipts. */
  const relay = (source: TestChain, receipt: TransactionReceipt) => relayAll(devnet, source, receipt)

  /**
   * Both parties escrow their legs of the repo's `phase` deal; the borrower's report is relayed, then
   * the lender's (which decides the deal), then the decision, so both legs are paid.
   */
  const settlePhase = async (terms: RepoTerms, phase: RepoPhase) => {
    const borrowerLeg = await escrowRepoLeg(chains(), { terms, phase, party: 'borrower', account: borrower })
    const lenderLeg = await escrowRepoLeg(chains(), { terms, phase, party: 'lender', account: lender })
    await relay(devnet.chain(borrowerLeg.chain), borrowerLeg.receipt)
    const [decided] = await relay(devnet.chain(lenderLeg.chain), lenderLeg.receipt)
    await relay(hub, decided!)
  }

  /** Proposes and settles the opening deal; the repo is Open and its closing deal open. */
  const openRepo = async (terms: RepoTerms) => {
    const proposed = await proposeRepo(hub, { terms, account: borrower })
    await settlePhase(terms, 'opening')
    const opened = await settleRepoStatus(hub, { repoId: proposed.repoId })
    assert.equal(opened.state, 'Open')
    assert.equal((await readDeal(hub, proposed.closingDealId)).status, 'Open')
    return proposed
  }

  it('quotes, identifies and derives both deals exactly as the desk does', async () => {
    const terms = await newTerms()
    assert.deepEqual(quoteRepo(terms), {
      cashAmount: EXPECTED_CASH,
      interest: EXPECTED_INTEREST,
      repurchaseAmount: EXPECTED_CASH + EXPECTED_INTEREST,
    })
    const desk = contractOn(hub.entry, 'RepoDesk')
    const [cash, interest] = await hub.public.readContract({
      address: desk,
      abi: repoDeskAbi,
      functionName: 'quote',
      args: [terms],
    })
    assert.deepEqual([cash, interest], [EXPECTED_CASH, EXPECTED_INTEREST])
    // An odd amount and rate: the rounding directions must agree too.
    const odd = { ...terms, collateralAmount: 123_456_789_123_456_789n, rate: 73_123_456_789_012_345n }
    const [oddCash, oddInterest] = await hub.public.readContract({
      address: desk,
      abi: repoDeskAbi,
      functionName: 'quote',
      args: [odd],
    })
    assert.deepEqual([quoteRepo(odd).cashAmount, quoteRepo(odd).interest], [oddCash, oddInterest])

    const proposed = await proposeRepo(hub, { terms, account: lender })
    assert.equal(proposed.repoId, repoIdOf(hub.entry, terms))
    assert.equal(proposed.openingDealId, repoDeal(hub.entry, terms, 'opening').dealId)
    assert.equal(proposed.closingDealId, repoDeal(hub.entry, terms, 'closing').dealId)
    assert.equal(proposed.repurchaseAmount, EXPECTED_CASH + EXPECTED_INTEREST)
    for (const phase of ['opening', 'closing'] as const) {
      const [legA, legB, deadline] = await hub.public.readContract({
        address: desk,
        abi: repoDeskAbi,
        functionName: phase === 'opening' ? 'openingLegs' : 'closingLegs',
        args: [proposed.repoId],
      })
      const { dealId: _, ...derived } = repoDeal(hub.entry, terms, phase)
      assert.deepEqual(derived, { legA, legB, deadline })
    }
    const repo = await readRepo(hub, proposed.repoId)
    assert.equal(repo.state, 'Proposed')
    assert.deepEqual(repo.terms, terms)
  })

  it('opens a repo and closes it on an early repurchase: the lender earns the interest exactly', async () => {
    const start = await balances()
    const terms = await newTerms()
    const { repoId, closingDealId } = await openRepo(terms)
    const opened = await balances()
    assert.deepEqual(opened, {
      borrowerBills: start.borrowerBills - COLLATERAL,
      lenderBills: start.lenderBills + COLLATERAL,
      borrowerCash: start.borrowerCash + EXPECTED_CASH,
      lenderCash: start.lenderCash - EXPECTED_CASH,
    })

    await settlePhase(terms, 'closing')
    const closed = await settleRepoStatus(hub, { repoId })
    assert.equal(closed.state, 'Closed')
    assert.equal(
      parseEventLogs({ abi: repoDeskAbi, eventName: 'RepoClosed', logs: closed.receipt.logs }).length,
      1,
    )
    assert.equal((await readLeg(hub, closingDealId, borrower.address)).state, 'Settled')

    assert.deepEqual(await balances(), {
      borrowerBills: start.borrowerBills,
      lenderBills: start.lenderBills,
      borrowerCash: start.borrowerCash - EXPECTED_INTEREST,
      lenderCash: start.lenderCash + EXPECTED_INTEREST,
    })
  })

  it('defaults when the borrower never repurchases: the lender keeps the collateral, its own leg refunded', async () => {
    const start = await balances()
    const terms = await newTerms()
    const { repoId, closingDealId } = await openRepo(terms)
    // An honest lender puts the T-bills up for the repurchase; the borrower never pays.
    const bills = await escrowRepoLeg(chains(), { terms, phase: 'closing', party: 'lender', account: lender })
    await relay(bank, bills.receipt)
    assert.equal((await settleRepoStatus(hub, { repoId })).state, 'Open')

    await timeTravel(hub, Number(terms.maturity + terms.grace - (await hubNow())) + 1)
    const aborted = await abortExpired(hub, { dealId: closingDealId })
    await relay(hub, aborted.receipt)
    const defaulted = await settleRepoStatus(hub, { repoId })
    assert.equal(defaulted.state, 'Defaulted')
    const [event] = parseEventLogs({
      abi: repoDeskAbi,
      eventName: 'RepoDefaulted',
      logs: defaulted.receipt.logs,
    })
    assert.equal(event?.args.borrowerLegReported, false)
    assert.equal((await readLeg(bank, closingDealId, lender.address)).state, 'Refunded')
    assert.equal((await readLeg(hub, closingDealId, borrower.address)).state, 'Aborted')

    assert.deepEqual(await balances(), {
      borrowerBills: start.borrowerBills - COLLATERAL,
      lenderBills: start.lenderBills + COLLATERAL,
      borrowerCash: start.borrowerCash + EXPECTED_CASH,
      lenderCash: start.lenderCash - EXPECTED_CASH,
    })
  })
})
