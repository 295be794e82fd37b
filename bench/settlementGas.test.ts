import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestDevnet, type TestDevnet } from '../testing/devnet.js'
import {
  measureSettlementGas,
  SETTLEMENT_CHAINS,
  type SettlementGas,
  settlementGasRows,
} from './settlementGas.js'

/** Keeps `npm run bench:settlement` working: the measurement runs, settles, and adds up. */
describe('settlement gas (bench/settlementGas.ts) on a test devnet', () => {
  let devnet: TestDevnet
  let gas: SettlementGas
  before(async () => {
    devnet = await startTestDevnet({ chains: [...SETTLEMENT_CHAINS] })
    gas = await measureSettlementGas(devnet)
  })
  after(() => devnet?.stop())

  it('measures every step of the DvP, the HTLC pair and the intent from mined receipts', () => {
    assert.equal(gas.dvp.length, 7)
    assert.equal(gas.htlc.length, 4)
    assert.equal(gas.intent.length, 3)
    for (const step of [...gas.dvp, ...gas.htlc, ...gas.intent])
      assert.ok(step.gas > 21_000n && step.gas < 1_000_000n, `${step.operation}: ${step.gas}`)
    // Both legs pay out on their own chains: the decisions are delivered on bank and on the hub.
    assert.deepEqual(
      gas.dvp.map((s) => s.chain),
      ['hub', 'bank', 'hub', 'hub', 'hub', 'bank', 'hub'],
    )
  })

  it('the totals are the sums of their steps (fill + repayment leaves the open out)', () => {
    const rows = settlementGasRows(gas)
    const total = (pattern: RegExp) => rows.find((r) => pattern.test(r.operation))!.value
    const sum = (steps: { gas: bigint }[]) => Number(steps.reduce((a, s) => a + s.gas, 0n))
    assert.equal(total(/^DvP settlement/), sum(gas.dvp))
    assert.equal(total(/^HTLC swap/), sum(gas.htlc))
    assert.equal(total(/^intent fill \+ repayment/), sum(gas.intent.slice(1)))
  })
})
