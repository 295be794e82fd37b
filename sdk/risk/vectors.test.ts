import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import {
  buildMarginVectors,
  MARGIN_VECTORS_FILE,
  type MarginCaseVector,
  type MarginVectorsFile,
} from '../../scripts/gen-margin-vectors.js'
import { accountHealth, type CollateralPosition, lhfBatch, packBook, type RiskGlobals } from './lhf.js'

const file = JSON.parse(readFileSync(MARGIN_VECTORS_FILE, 'utf8')) as MarginVectorsFile

/** A case's inputs as the engine takes them, read independently of the generator. */
function inputsOf(c: MarginCaseVector): {
  positions: CollateralPosition[]
  debtUsd: number
  globals: RiskGlobals
  now: number
} {
  const fromWad = (s: string) => Number(BigInt(s)) / 1e18
  return {
    positions: c.positions.map((p) => ({
      amount: BigInt(p.amount),
      price: BigInt(p.price),
      priceDecimals: Number(p.priceDecimals),
      updatedAt: Number(p.updatedAt),
      final: p.final,
      asset: {
        ltv: fromWad(p.ltv),
        liquidationThreshold: fromWad(p.liquidationThreshold),
        liquidationBonus: fromWad(p.liquidationBonus),
        volatility: fromWad(p.volatility),
        theta: fromWad(p.theta),
        conf: fromWad(p.conf),
        heartbeat: Number(p.heartbeat),
        unwindPerDay: Number(p.unwindPerDay),
        decimals: Number(p.decimals),
      },
      chain: {
        relayTime: Number(p.relayTime),
        bridgeIntensity: fromWad(p.bridgeIntensity),
        bridgeLgd: fromWad(p.bridgeLgd),
      },
    })),
    debtUsd: Number(c.debt) / 1e6,
    globals: {
      detectTime: Number(c.detectTime),
      hubFinalityTime: Number(c.hubFinalityTime),
      grace: Number(c.grace),
    },
    now: Number(c.now),
  }
}

/** The WAD string against the float: they differ by the rounding to a WAD and a few ulps. */
function assertWad(actual: number, expectedWad: string, what: string): void {
  const expected = Number(BigInt(expectedWad)) / 1e18
  assert.ok(
    Math.abs(actual - expected) <= 1e-15 * Math.max(1, expected),
    `${what}: engine ${actual}, vector ${expected}`,
  )
}

const byName = (name: string) => file.cases.find((c) => c.name === name)!

describe('vectors/margin/lhf.json', () => {
  it('equals what scripts/gen-margin-vectors.ts generates (else run it)', () => {
    // Through JSON, as the file went: the comparison is of content, not of biome's layout.
    assert.deepEqual(file, JSON.parse(JSON.stringify(buildMarginVectors())))
  })

  it('holds every number as a decimal string of an integer (forge reads them with parseJsonUint)', () => {
    const integer = /^(0|[1-9][0-9]*)$/
    for (const c of file.cases) {
      const { name, positions, ...scalars } = c
      for (const [key, value] of Object.entries(scalars)) assert.match(value, integer, `${name}.${key}`)
      assert.ok(BigInt(c.debt) > 0n, `${name} has debt`)
      for (const p of positions) {
        for (const [key, value] of Object.entries(p)) {
          if (key === 'final' || key === 'borrowable') assert.equal(typeof value, 'boolean')
          else assert.match(String(value), integer, `${name}.positions.${key}`)
        }
      }
    }
  })

  it('covers the named cases and ~20 random accounts of 1 to 5 positions', () => {
    const names = file.cases.map((c) => c.name)
    for (const name of [
      'worked-example',
      'worked-example-stress',
      'fresh-local-single',
      'stale-push-feed',
      'pull-feed',
      'unwind',
    ]) {
      assert.ok(names.includes(name), name)
    }
    const random = file.cases.filter((c) => c.name.startsWith('random-'))
    assert.ok(random.length >= 20)
    assert.ok(random.every((c) => c.positions.length >= 1 && c.positions.length <= 5))
    const positions = random.flatMap((c) => c.positions)
    assert.deepEqual(new Set(positions.map((p) => p.decimals)), new Set(['6', '8', '18']))
    for (const [what, has] of [
      ['stale', positions.some((p) => !p.borrowable)],
      ['pending', positions.some((p) => !p.final)],
      ['unwind', positions.some((p) => p.unwindPerDay !== '0')],
      ['pull feed', positions.some((p) => p.heartbeat === '0')],
    ] as const) {
      assert.ok(has, what)
    }
  })

  it('worked example: λ 0.9947, 0.9970, 0; LHF 1.9043; stress 1.8752', () => {
    const example = byName('worked-example')
    assert.deepEqual(
      example.positions.map((p) => Math.round(Number(BigInt(p.lambda) / 10n ** 14n))),
      [9946, 9969, 0],
    )
    assert.equal(BigInt(example.lhf) / 10n ** 14n, 19042n)
    assert.equal(BigInt(byName('worked-example-stress').lhf) / 10n ** 13n, 187514n)
    // λ = 1 exactly: LHF is Aave's 30,000 · 0.83 / 20,000.
    assert.equal(byName('fresh-local-single').lhf, '1245000000000000000')
  })

  for (const c of file.cases) {
    it(`${c.name}: the engine reproduces λ, borrowability, LHF and borrow HF`, () => {
      const { positions, debtUsd, globals, now } = inputsOf(c)
      const health = accountHealth(positions, debtUsd, globals, now)
      for (const [i, p] of c.positions.entries()) {
        const risk = health.positions[i]!
        if (!p.final) assert.equal(p.lambda, '0', `position ${i} is pending`)
        assertWad(risk.lambda, p.lambda, `λ[${i}]`)
        assert.equal(risk.fresh, p.borrowable, `borrowable[${i}]`)
      }
      assertWad(health.lhf, c.lhf, 'LHF')
      assertWad(health.borrowHf, c.borrowHf, 'borrow HF')

      const { tables, book } = packBook([{ positions, debtUsd }], globals)
      const batch = lhfBatch(tables, book, now)
      assert.ok(Math.abs(batch.lhf[0]! - health.lhf) <= 1e-12 * health.lhf, 'batch LHF')
      assert.ok(Math.abs(batch.borrowHf[0]! - health.borrowHf) <= 1e-12 * health.borrowHf, 'batch borrow HF')
    })
  }
})
