import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { freePortRange } from '../devnet/ports.js'
import { type CliRun, runCli } from '../testing/cli.js'

type Step = { step: string; chain?: string; tx?: string; gasUsed?: string; lhf?: number | null }

/**
 * The settlement issue's "done when": `isthmus scenario repo|intent|reserve-breach` pass against the
 * devnet as `npm start` runs it — validators, relayer, oracle nodes, keeper and solver each a real
 * process — one after the other on the same devnet, as a user would run them.
 */
describe('isthmus scenario repo, intent and reserve-breach on a full devnet', () => {
  let devnet: CliRun
  const manifest = join(mkdtempSync(join(tmpdir(), 'isthmus-settlement-')), 'devnet.json')

  before(async () => {
    devnet = runCli(['devnet', '--port', String(await freePortRange(4)), '--manifest', manifest])
    await devnet.waitForLine(/^ready in /, 90_000)
  })
  after(() => devnet?.kill())

  async function scenario(name: string): Promise<Step[]> {
    const run = await runCli(['scenario', name, '--manifest', manifest, '--json', '--timeout', '90']).exited
    assert.equal(run.code, 0, run.stderr)
    const { passed, steps } = JSON.parse(run.stdout) as { passed: boolean; steps: Step[] }
    assert.ok(passed)
    for (const step of steps.filter((s) => s.tx)) {
      assert.match(step.tx!, /^0x[0-9a-f]{64}$/)
      assert.ok(Number(step.gasUsed) > 21_000, `${step.step}: gas ${step.gasUsed}`)
    }
    return steps
  }

  const finder = (steps: Step[]) => (pattern: RegExp) => {
    const step = steps.find((s) => pattern.test(s.step))
    assert.ok(step, `no step matching ${pattern}: ${steps.map((s) => s.step).join(' | ')}`)
    return step
  }

  it('repo: opens by DvP, closes by an early repurchase, and a second repo defaults to the lender', async () => {
    const find = finder(await scenario('repo'))
    assert.equal(find(/escrow.*T-bill/i).chain, 'bank')
    assert.equal(find(/escrow.*cash|escrow.*USDC/i).chain, 'hub')
    find(/opened/i)
    find(/closed/i)
    find(/defaulted/i)
    find(/NotAnInstitution/)
  })

  it('intent: the solver fills on the hub and is repaid on base; an unfilled order is refunded', async () => {
    const find = finder(await scenario('intent'))
    assert.equal(find(/^open: 1000 USDC on base/).chain, 'base')
    assert.equal(find(/^fill by the solver/).chain, 'hub')
    assert.equal(find(/^solver repaid 1,000 USDC/).chain, 'base')
    find(/^the solver ignores it/)
    assert.equal(find(/^refund on hub after the deadline/).chain, 'hub')
    assert.equal(find(/^user refunded 100 USDC on base/).chain, 'base')
  })

  it('reserve-breach: minting stops and the hub drops the T-bill until reserves recover', async () => {
    const find = finder(await scenario('reserve-breach'))
    assert.equal(find(/^hub credits TBILL/).chain, 'hub')
    assert.equal(find(/breaker tripped/).chain, 'bank')
    find(/^faucet refused: .*ReserveBreakerActive/)
    assert.equal(find(/^hub gate: TBILL NOT eligible/).chain, 'hub')
    find(/weight λ 0, borrowing power .* → 0 USD/)
    find(/^borrow 1 USDC refused: EngineInsufficientCollateral/)
    assert.equal(find(/breaker reset/).chain, 'bank')
    assert.equal(find(/^hub gate: TBILL eligible again/).chain, 'hub')
  })

  it('isthmus reserves shows the T-bill backed on bank and eligible on the hub afterwards', async () => {
    const run = await runCli(['reserves', 'TBILL', '--manifest', manifest, '--json']).exited
    assert.equal(run.code, 0, run.stderr)
    const status = JSON.parse(run.stdout) as {
      chain: { name: string; breakerTripped: boolean }
      hub: { isEligible: boolean; status: { backed: boolean } | null } | null
    }
    assert.equal(status.chain.name, 'bank')
    assert.equal(status.chain.breakerTripped, false)
    assert.equal(status.hub?.isEligible, true)
    assert.equal(status.hub?.status?.backed, true)
  })
})
