import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runCli } from '../testing/cli.js'
import { scenarioDevnet, stepFinder } from '../testing/scenario.js'

/**
 * The settlement issue's "done when", for intents and reserves: `isthmus scenario intent` and
 * `reserve-breach`, one after the other on the devnet `npm start` runs (the solver and the oracle
 * nodes real processes). The repo scenario has its own devnet (scenarios/repo.test.ts).
 */
describe('isthmus scenario intent and reserve-breach on a full devnet', () => {
  const devnet = scenarioDevnet()

  it('intent: the solver fills on the hub and is repaid on base; an unfilled order is refunded', async () => {
    const find = stepFinder(await devnet.scenario('intent'))
    assert.equal(find(/^open: 1000 USDC on base/).chain, 'base')
    assert.equal(find(/^fill by the solver/).chain, 'hub')
    assert.equal(find(/^solver repaid 1,000 USDC/).chain, 'base')
    find(/^the solver ignores it/)
    assert.equal(find(/^refund on hub after the deadline/).chain, 'hub')
    assert.equal(find(/^user refunded 100 USDC on base/).chain, 'base')
  })

  it('reserve-breach: minting stops and the hub drops the T-bill until reserves recover', async () => {
    const find = stepFinder(await devnet.scenario('reserve-breach'))
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
    const run = await runCli(['reserves', 'TBILL', '--manifest', devnet.manifest, '--json']).exited
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
