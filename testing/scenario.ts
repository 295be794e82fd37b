/** Tests of `isthmus scenario …` against a full devnet, every service a real process as `npm start` runs it. */
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { freePortRange } from '../devnet/ports.js'
import { type CliRun, runCli } from './cli.js'

export type ScenarioStep = {
  step: string
  chain?: string
  tx?: string
  gasUsed?: string
  lhf?: number | null
}

export type ScenarioDevnet = {
  /** The running devnet's manifest path. */
  manifest: string
  /** Runs `isthmus scenario <name> --json`, asserts it passed with real transactions, returns its steps. */
  scenario(name: string): Promise<ScenarioStep[]>
}

/**
 * Starts `isthmus devnet` before the suite's tests and kills it after; call it inside `describe`.
 * Each scenario's every step with a transaction must name a mined-looking hash and real gas.
 */
export function scenarioDevnet(): ScenarioDevnet {
  let devnet: CliRun | undefined
  const manifest = join(mkdtempSync(join(tmpdir(), 'isthmus-scenario-')), 'devnet.json')
  before(async () => {
    devnet = runCli(['devnet', '--port', String(await freePortRange(4)), '--manifest', manifest])
    await devnet.waitForLine(/^ready in /, 90_000)
  })
  after(() => devnet?.kill())
  return {
    manifest,
    async scenario(name) {
      const run = await runCli(['scenario', name, '--manifest', manifest, '--json', '--timeout', '90']).exited
      assert.equal(run.code, 0, run.stderr)
      const { passed, steps } = JSON.parse(run.stdout) as { passed: boolean; steps: ScenarioStep[] }
      assert.ok(passed)
      for (const step of steps.filter((s) => s.tx)) {
        assert.match(step.tx!, /^0x[0-9a-f]{64}$/)
        assert.ok(Number(step.gasUsed) > 21_000, `${step.step}: gas ${step.gasUsed}`)
      }
      return steps
    },
  }
}

/** `find(pattern)`: the first step matching, or a failure listing every step. */
export const stepFinder = (steps: ScenarioStep[]) => (pattern: RegExp) => {
  const step = steps.find((s) => pattern.test(s.step))
  assert.ok(step, `no step matching ${pattern}: ${steps.map((s) => s.step).join(' | ')}`)
  return step
}
