import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  type AssetRisk,
  accountHealth,
  type ChainRisk,
  type CollateralPosition,
  lhfBatch,
  packBook,
  positionRisk,
  RiskParamsError,
  riskTables,
  YEAR_SECONDS,
  Z_99,
} from './lhf.js'

/** DESIGN §6's worked example, in the units of docs/margin.md. */
const globals = { detectTime: 60, hubFinalityTime: 1020, grace: 600 }
const weth: AssetRisk = {
  ltv: 0.8,
  liquidationThreshold: 0.83,
  liquidationBonus: 1.05,
  volatility: 0.7,
  theta: 0.005,
  conf: 0,
  heartbeat: 3600,
  unwindPerDay: 0,
  decimals: 18,
}
/** A pull feed (heartbeat 0) with a confidence term, and 200 tokens unwound in exactly 10 minutes. */
const sol: AssetRisk = {
  ltv: 0.65,
  liquidationThreshold: 0.7,
  liquidationBonus: 1.08,
  volatility: 1,
  theta: 0,
  conf: 0.0015,
  heartbeat: 0,
  unwindPerDay: 200 * 144 * 1e9,
  decimals: 9,
}
const l1: ChainRisk = { relayTime: 60, bridgeIntensity: 0.02, bridgeLgd: 1 }
const base: ChainRisk = { ...l1 }
const now = 1_700_000_000
const debtUsd = 24_000

function example(chains: { l1: ChainRisk; base: ChainRisk }, ethAgeSeconds: number): CollateralPosition[] {
  const eth = { price: 3000n * 10n ** 8n, priceDecimals: 8, updatedAt: now - ethAgeSeconds, asset: weth }
  return [
    { ...eth, amount: 10n * 10n ** 18n, final: true, chain: chains.l1 },
    {
      amount: 200n * 10n ** 9n,
      price: 150n * 10n ** 8n,
      priceDecimals: 8,
      updatedAt: now - 6,
      final: true,
      asset: sol,
      chain: chains.l1,
    },
    { ...eth, amount: 5n * 10n ** 18n, final: false, chain: chains.base },
  ]
}

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual}, expected ${expected} ± ${tolerance}`,
  )
}

describe('DESIGN §6 worked example', () => {
  const health = accountHealth(example({ l1, base }, 30 * 60), debtUsd, globals, now)
  const [ethL1, solL1, ethBase] = health.positions as [
    (typeof health.positions)[0],
    (typeof health.positions)[0],
    (typeof health.positions)[0],
  ]

  it('horizons: 19 min, 29 min with the 10 min unwind', () => {
    assert.equal(ethL1.horizonSeconds, 19 * 60)
    assert.equal(solL1.horizonSeconds, 29 * 60)
  })

  it('oracle errors: θ caps the fresh push feed; the pull feed adds conf and its full age term', () => {
    assert.equal(ethL1.oracleError, 0.005)
    near(solL1.oracleError, 0.0015 + Z_99 * Math.sqrt(6 / YEAR_SECONDS), 1e-15, 'e(SOL)')
    assert.ok(solL1.fresh, 'a pull feed 6 s old is within its grace')
  })

  it('λ 0.9947, 0.9970, and 0 for the pending WETH on base', () => {
    near(ethL1.lambda, 0.9947, 5e-5, 'λ(WETH l1)')
    near(solL1.lambda, 0.997, 5e-5, 'λ(SOL)')
    assert.equal(ethBase.lambda, 0)
    assert.equal(ethBase.final, false)
    assert.equal(ethBase.liquidationValueUsd, 0)
  })

  it('LHF 1.9043; Aave-style HF counting the pending deposit 2.4312', () => {
    near(health.lhf, 1.9043, 5e-5, 'LHF')
    near(health.aaveHf, 2.43125, 1e-12, 'Aave HF')
    const borrow = (30_000 * 0.8 * ethL1.lambda + 30_000 * 0.65 * solL1.lambda) / debtUsd
    near(health.borrowHf, borrow, 1e-12, 'borrow HF')
  })

  it('stress: relay +360 min on both chains and the ETH price 90 min old → LHF ≈ 1.8752', () => {
    const slow = { ...l1, relayTime: l1.relayTime + 360 * 60 }
    const stressed = accountHealth(example({ l1: slow, base: slow }, 90 * 60), debtUsd, globals, now)
    // DESIGN rounds z to 2.3263; with z = Φ⁻¹(0.99) exactly the LHF is 1.87515, hence 2e-4.
    near(stressed.lhf, 1.8752, 2e-4, 'stressed LHF')
    near(stressed.lhf, 1.87515, 1e-5, 'stressed LHF, exact z')
    const eth = stressed.positions[0]!
    assert.equal(eth.fresh, false, '90 min is past heartbeat 60 min + grace 10 min')
    assert.equal(eth.oracleError, Z_99 * 0.7 * Math.sqrt((90 * 60) / YEAR_SECONDS), 'uncapped when stale')
    assert.equal(eth.borrowValueUsd, 0)
    assert.ok(eth.liquidationValueUsd > 0)
  })

  it('the batch path gives the same account', () => {
    const { tables, book } = packBook([{ positions: example({ l1, base }, 30 * 60), debtUsd }], globals)
    const batch = lhfBatch(tables, book, now)
    near(batch.lhf[0]!, health.lhf, 1e-12 * health.lhf, 'LHF')
    near(batch.borrowHf[0]!, health.borrowHf, 1e-12 * health.borrowHf, 'borrow HF')
    assert.equal(batch.aaveHf[0], health.aaveHf)
  })
})

describe('positionRisk', () => {
  const position: CollateralPosition = example({ l1, base }, 0)[0]!

  it('a stale position keeps its liquidation value but has no borrowing power', () => {
    const stale = positionRisk({ ...position, updatedAt: now - (3600 + 600 + 1) }, globals, now)
    assert.equal(stale.fresh, false)
    assert.equal(stale.borrowValueUsd, 0)
    assert.ok(stale.liquidationValueUsd > 0)
    const edge = positionRisk({ ...position, updatedAt: now - (3600 + 600) }, globals, now)
    assert.equal(edge.fresh, true, 'age = H + g is still fresh')
    assert.ok(edge.borrowValueUsd > 0)
  })

  it('a pull feed is fresh only within its grace', () => {
    const pull = { ...position, asset: sol }
    assert.equal(positionRisk({ ...pull, updatedAt: now - 600 }, globals, now).fresh, true)
    assert.equal(positionRisk({ ...pull, updatedAt: now - 601 }, globals, now).fresh, false)
  })

  it('λ is 0 once the oracle error reaches 1', () => {
    const wild = { ...weth, volatility: 1.5 }
    // z·1.5·√(a/YEAR) = 1 at a ≈ 0.0821 years.
    const risk = positionRisk({ ...position, asset: wild, updatedAt: now - 0.1 * YEAR_SECONDS }, globals, now)
    assert.ok(risk.oracleError >= 1)
    assert.equal(risk.lambda, 0)
    assert.equal(risk.liquidationValueUsd, 0)
  })

  it('a price stamped in the future counts as age 0', () => {
    const ahead = positionRisk({ ...position, updatedAt: now + 30 }, globals, now)
    assert.equal(ahead.priceAgeSeconds, 0)
    assert.equal(ahead.oracleError, 0)
  })

  it('refuses parameters the formulas cannot take', () => {
    const bad: [string, Partial<AssetRisk>][] = [
      ['σ = 0', { volatility: 0 }],
      ['LT·LB > 1', { liquidationThreshold: 0.96, liquidationBonus: 1.05 }],
      ['LTV > LT', { ltv: 0.9 }],
      ['θ < 0', { theta: -0.01 }],
      ['fractional decimals', { decimals: 6.5 }],
    ]
    for (const [what, patch] of bad) {
      assert.throws(
        () => positionRisk({ ...position, asset: { ...weth, ...patch } }, globals, now),
        RiskParamsError,
        what,
      )
    }
    assert.throws(
      () => positionRisk({ ...position, chain: { ...l1, bridgeLgd: 1.5 } }, globals, now),
      RiskParamsError,
    )
    assert.throws(() => positionRisk({ ...position, amount: -1n }, globals, now), RiskParamsError)
  })
})

describe('accountHealth', () => {
  it('is infinite without debt', () => {
    const health = accountHealth(example({ l1, base }, 0), 0, globals, now)
    assert.equal(health.lhf, Number.POSITIVE_INFINITY)
    assert.equal(health.borrowHf, Number.POSITIVE_INFINITY)
    assert.equal(health.aaveHf, Number.POSITIVE_INFINITY)
    assert.equal(accountHealth([], 0, globals, now).lhf, Number.POSITIVE_INFINITY)
  })

  it('is 0 with debt and nothing final', () => {
    assert.equal(accountHealth([example({ l1, base }, 0)[2]!], 1, globals, now).lhf, 0)
  })
})

describe('lhfBatch', () => {
  it('refuses an index outside the tables', () => {
    const { tables, book } = packBook([{ positions: example({ l1, base }, 0), debtUsd }], globals)
    book.asset[1] = 7
    assert.throws(() => lhfBatch(tables, book, now), RiskParamsError)
  })

  it('refuses columns of different lengths', () => {
    const { tables, book } = packBook([{ positions: example({ l1, base }, 0), debtUsd }], globals)
    assert.throws(() => lhfBatch(tables, { ...book, price: new Float64Array(2) }, now), RiskParamsError)
  })

  it('refuses a negative debt, as accountHealth does', () => {
    const { tables, book } = packBook([{ positions: example({ l1, base }, 0), debtUsd }], globals)
    book.debtUsd[0] = -1
    assert.throws(() => lhfBatch(tables, book, now), RiskParamsError)
    assert.throws(() => accountHealth([], -1, globals, now), RiskParamsError)
  })

  it('reuses an output without carrying sums over', () => {
    const { tables, book } = packBook([{ positions: example({ l1, base }, 0), debtUsd }], globals)
    const first = Float64Array.from(lhfBatch(tables, book, now).lhf)
    const out = lhfBatch(tables, book, now)
    lhfBatch(tables, book, now, out)
    assert.deepEqual(out.lhf, first)
  })

  it('tables carry the pair horizon without unwind', () => {
    const tables = riskTables([weth, sol], [l1], globals)
    assert.equal(tables.pairHorizon[0]! * YEAR_SECONDS, 1140)
    assert.equal(tables.unwindYearsPerUnit[0], 0)
    near(tables.unwindYearsPerUnit[1]! * 200e9 * YEAR_SECONDS, 600, 1e-9, 'SOL unwind seconds')
  })
})
