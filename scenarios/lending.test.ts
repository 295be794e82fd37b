import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runCli } from '../testing/cli.js'
import { type ScenarioStep, scenarioDevnet, stepFinder } from '../testing/scenario.js'

/**
 * The "done when": `isthmus scenario lending` passes against the devnet as `npm start` runs
 * it — every service a real process (validators, relayer, oracle nodes, keeper).
 */
describe('isthmus scenario lending on a full devnet', () => {
  const devnet = scenarioDevnet()
  const manifest = devnet.manifest

  let timeline: ScenarioStep[] = []
  const scenarioUser = async () => {
    const funded = timeline.find((s) => /^user 0x/.test(s.step))
    assert.ok(funded, 'the scenario names its user')
    return funded.step.split(' ')[1]!
  }

  it('runs every step, prints the timeline, and exits 0', async () => {
    const steps = await devnet.scenario('lending')
    timeline = steps
    const find = stepFinder(steps)
    assert.equal(find(/^deposit 10 WETH/).chain, 'l1')
    assert.equal(find(/^deposit 5 wstETH/).chain, 'base')
    assert.equal(find(/^hub credits WETH/).chain, 'hub')
    assert.equal(find(/USDC minted to the user on base/).chain, 'base')
    const call = find(/^margin call/)
    assert.ok(call.lhf! < 1.1 && call.lhf! >= 1, `margin call at LHF ${call.lhf}`)
    const liquidation = find(/^liquidation: /)
    assert.equal(liquidation.chain, 'hub')
    assert.match(find(/WETH released to the liquidator/).chain!, /^l1$/)
  })

  it('isthmus account shows what the scenario left: both positions, their λ, and the debt', async () => {
    const user = await scenarioUser()
    const run = await runCli(['account', user, '--manifest', manifest, '--json']).exited
    assert.equal(run.code, 0, run.stderr)
    const report = JSON.parse(run.stdout) as {
      lhf: number
      debtUsdc: string
      positions: { chain: string; symbol: string; final: boolean; lambda: number; fresh: boolean }[]
    }
    assert.ok(report.lhf > 0 && Number(report.debtUsdc) > 0)
    assert.deepEqual(report.positions.map((p) => `${p.chain}:${p.symbol}`).sort(), ['base:wstETH', 'l1:WETH'])
    for (const p of report.positions) {
      assert.ok(p.final && p.lambda > 0.9 && p.lambda < 1, `${p.symbol}: λ ${p.lambda}`)
    }
  })

  it('a borrow without collateral is refused in one line with what is required and available', async () => {
    const run = await runCli(['borrow', '--amount', '1000', '--manifest', manifest]).exited
    assert.equal(run.code, 1)
    assert.equal(
      run.stderr,
      'isthmus borrow: refused: EngineInsufficientCollateral(required 1000.00 USD, available 0.00 USD)\n',
    )
  })

  it('refuses an unknown scenario in one line', async () => {
    const run = await runCli(['scenario', 'nope', '--manifest', manifest]).exited
    assert.equal(run.code, 2)
    assert.equal(
      run.stderr,
      'isthmus scenario: unknown scenario "nope" (known: lending, repo, intent, reserve-breach)\n',
    )
  })
})
