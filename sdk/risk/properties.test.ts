import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  type AccountHealth,
  type AssetRisk,
  accountHealth,
  type ChainRisk,
  type CollateralPosition,
  lhfBatch,
  packBook,
  positionRisk,
  type RiskGlobals,
} from './lhf.js'

/** DESIGN §6's properties. Seeded, so a failure reproduces; FC_SEED / FC_RUNS explore further. */
fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 42), numRuns: Number(process.env.FC_RUNS ?? 500) })

const NOW = 1_700_000_000
const HOUR = 3600

const ratio = (min: number, max: number) => fc.double({ min, max, noNaN: true, noDefaultInfinity: true })
const seconds = (max: number) => fc.integer({ min: 0, max })

const assetArb: fc.Arbitrary<AssetRisk> = fc
  .record({
    liquidationThreshold: ratio(0.3, 0.95),
    ltvShare: ratio(0, 1),
    bonusShare: ratio(0, 1),
    volatility: ratio(0.05, 1.5),
    theta: fc.oneof(fc.constant(0), ratio(0.0001, 0.05)),
    conf: fc.oneof(fc.constant(0), ratio(0, 0.01)),
    heartbeat: fc.oneof(fc.constant(0), seconds(86_400)),
    unwindPerDay: fc.oneof(fc.constant(0), ratio(1e3, 1e25)),
    decimals: fc.constantFrom(6, 8, 18),
  })
  .map(({ ltvShare, bonusShare, ...a }) => ({
    ...a,
    ltv: a.liquidationThreshold * ltvShare,
    // LB from 1 up to where LT·LB = 1 (Aave's bound), shy of it so rounding cannot cross it.
    liquidationBonus: 1 + bonusShare * (Math.min(1.2, 1 / a.liquidationThreshold) * (1 - 1e-12) - 1),
  }))

const chainArb: fc.Arbitrary<ChainRisk> = fc.record({
  relayTime: seconds(6 * HOUR),
  bridgeIntensity: ratio(0, 0.5),
  bridgeLgd: ratio(0, 1),
})

const globalsArb: fc.Arbitrary<RiskGlobals> = fc.record({
  detectTime: seconds(600),
  hubFinalityTime: seconds(HOUR),
  grace: seconds(HOUR),
})

/** A position with its own asset and chain, so a property can change one without touching another. */
const positionArb = (maxAgeSeconds: number): fc.Arbitrary<CollateralPosition> =>
  fc.record({
    amount: fc.bigInt({ min: 0n, max: 10n ** 30n }),
    price: fc.bigInt({ min: 1n, max: 10n ** 15n }),
    priceDecimals: fc.constantFrom(8, 18),
    updatedAt: seconds(maxAgeSeconds).map((age) => NOW - age),
    final: fc.boolean(),
    asset: assetArb,
    chain: chainArb,
  })

const accountArb = fc.record({
  positions: fc.array(positionArb(3 * HOUR), { minLength: 1, maxLength: 5 }),
  debtUsd: ratio(1, 1e9),
  globals: globalsArb,
})

/** Equal within `rel` of the larger, or both the same infinity. */
function close(a: number, b: number, rel = 1e-12): boolean {
  return a === b || Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b))
}

/**
 * `after` is not above `before`. The sums round, so "not above" is up to a few ulps: 1e-12 of the
 * value, far below any step a property takes (at least one second, at least 1e-9 of a ratio).
 */
function notAbove(after: AccountHealth, before: AccountHealth): boolean {
  return after.lhf <= before.lhf * (1 + 1e-12) && after.borrowHf <= before.borrowHf * (1 + 1e-12)
}

describe('LHF properties', () => {
  it('equals Aave’s health factor when all collateral is final, fresh and local', () => {
    const localChain: ChainRisk = { relayTime: 0, bridgeIntensity: 0, bridgeLgd: 1 }
    const local = fc.record({
      positions: fc.array(
        positionArb(0).map((p) => ({
          ...p,
          final: true,
          chain: localChain,
          asset: { ...p.asset, theta: 0, conf: 0, unwindPerDay: 0 },
        })),
        { minLength: 1, maxLength: 6 },
      ),
      debtUsd: ratio(1, 1e9),
      grace: seconds(HOUR),
    })
    fc.assert(
      fc.property(local, ({ positions, debtUsd, grace }) => {
        const globals = { detectTime: 0, hubFinalityTime: 0, grace }
        const health = accountHealth(positions, debtUsd, globals, NOW)
        const aave =
          positions.reduce(
            (sum, p) =>
              sum +
              (Number(p.amount) / 10 ** p.asset.decimals) *
                (Number(p.price) / 10 ** p.priceDecimals) *
                p.asset.liquidationThreshold,
            0,
          ) / debtUsd
        assert.ok(close(health.lhf, aave), `LHF ${health.lhf} vs Aave ${aave}`)
        assert.ok(close(health.lhf, health.aaveHf))
        for (const r of health.positions) assert.equal(r.lambda, 1)
      }),
    )
  })

  it('does not rise as the relay, the hub or detection get slower', () => {
    fc.assert(
      fc.property(
        accountArb,
        seconds(6 * HOUR).map((s) => s + 1),
        fc.nat(2),
        (a, delay, which) => {
          const before = accountHealth(a.positions, a.debtUsd, a.globals, NOW)
          const g = { ...a.globals }
          let positions = a.positions
          if (which === 0) positions = positions.map((p) => ({ ...p, chain: slower(p.chain, delay) }))
          if (which === 1) g.hubFinalityTime += delay
          if (which === 2) g.detectTime += delay
          assert.ok(notAbove(accountHealth(positions, a.debtUsd, g, NOW), before))
        },
      ),
    )
  })

  it('does not rise as one price gets older', () => {
    fc.assert(
      fc.property(
        accountArb,
        fc.nat(),
        seconds(3 * HOUR).map((s) => s + 1),
        (a, pick, older) => {
          const k = pick % a.positions.length
          const before = accountHealth(a.positions, a.debtUsd, a.globals, NOW)
          const positions = a.positions.map((p, i) =>
            i === k ? { ...p, updatedAt: p.updatedAt - older } : p,
          )
          assert.ok(notAbove(accountHealth(positions, a.debtUsd, a.globals, NOW), before))
        },
      ),
    )
  })

  it('does not rise as bridge intensity or loss given default grows', () => {
    fc.assert(
      fc.property(accountArb, ratio(1e-9, 1), fc.boolean(), (a, step, lgd) => {
        const before = accountHealth(a.positions, a.debtUsd, a.globals, NOW)
        const positions = a.positions.map((p) => ({
          ...p,
          chain: lgd
            ? { ...p.chain, bridgeLgd: Math.min(1, p.chain.bridgeLgd + step) }
            : { ...p.chain, bridgeIntensity: p.chain.bridgeIntensity + step },
        }))
        assert.ok(notAbove(accountHealth(positions, a.debtUsd, a.globals, NOW), before))
      }),
    )
  })

  it('a position that is not final (reorg risk) counts exactly as if it were not there', () => {
    fc.assert(
      fc.property(accountArb, fc.nat(), (a, pick) => {
        const k = pick % a.positions.length
        const pending = a.positions.map((p, i) => (i === k ? { ...p, final: false } : p))
        const without = a.positions.filter((_, i) => i !== k)
        const health = accountHealth(pending, a.debtUsd, a.globals, NOW)
        const expected = accountHealth(without, a.debtUsd, a.globals, NOW)
        assert.equal(health.lhf, expected.lhf)
        assert.equal(health.borrowHf, expected.borrowHf)
        assert.ok(notAbove(health, accountHealth(a.positions, a.debtUsd, a.globals, NOW)))
        assert.equal(health.positions[k]!.lambda, 0)
      }),
    )
  })

  it('λ stays in [0, 1], and is 0 once the oracle error reaches 1', () => {
    // Ages up to ten years, so that e ≥ 1 happens.
    fc.assert(
      fc.property(positionArb(10 * 365 * 86_400), globalsArb, (p, g) => {
        const r = positionRisk(p, g, NOW)
        assert.ok(r.lambda >= 0 && r.lambda <= 1, `λ ${r.lambda}`)
        if (r.oracleError >= 1 || !p.final) assert.equal(r.lambda, 0)
        assert.ok(r.liquidationValueUsd <= r.valueUsd * p.asset.liquidationThreshold)
        assert.ok(r.borrowValueUsd <= r.liquidationValueUsd)
      }),
    )
  })

  it('the batch path equals the object path', () => {
    // Accounts draw on shared assets and chains, as a real book does, and some carry no debt.
    const book = fc
      .record({
        assets: fc.array(assetArb, { minLength: 1, maxLength: 4 }),
        chains: fc.array(chainArb, { minLength: 1, maxLength: 3 }),
        globals: globalsArb,
      })
      .chain(({ assets, chains, globals }) =>
        fc.record({
          globals: fc.constant(globals),
          accounts: fc.array(
            fc.record({
              positions: fc.array(
                fc
                  .tuple(positionArb(3 * HOUR), fc.constantFrom(...assets), fc.constantFrom(...chains))
                  .map(([p, asset, chain]) => ({ ...p, asset, chain })),
                { maxLength: 6 },
              ),
              debtUsd: fc.oneof(fc.constant(0), ratio(1, 1e9)),
            }),
            { minLength: 1, maxLength: 5 },
          ),
        }),
      )
    fc.assert(
      fc.property(book, ({ globals, accounts }) => {
        const { tables, book } = packBook(accounts, globals)
        const batch = lhfBatch(tables, book, NOW)
        for (const [j, a] of accounts.entries()) {
          const health = accountHealth(a.positions, a.debtUsd, globals, NOW)
          assert.ok(close(batch.lhf[j]!, health.lhf), `LHF ${batch.lhf[j]} vs ${health.lhf}`)
          assert.ok(
            close(batch.borrowHf[j]!, health.borrowHf),
            `borrow ${batch.borrowHf[j]} vs ${health.borrowHf}`,
          )
          assert.ok(close(batch.aaveHf[j]!, health.aaveHf), `Aave ${batch.aaveHf[j]} vs ${health.aaveHf}`)
        }
      }),
    )
  })
})

function slower(chain: ChainRisk, delay: number): ChainRisk {
  return { ...chain, relayTime: chain.relayTime + delay }
}
