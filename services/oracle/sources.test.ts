import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import {
  buildSource,
  bundledHistory,
  DEFAULT_ASSETS,
  loadHistory,
  parseHistory,
  randomWalkSource,
  replaySource,
} from './sources.js'

const YEAR_SECONDS = 365.25 * 24 * 3600

describe('random walk source', () => {
  const assets = { WETH: { initialPrice: 3_000, sigma: 0.7 }, WBTC: { initialPrice: 60_000, sigma: 0.6 } }
  const origin = 1_700_000_000_000

  it('is the same for every node with the same seed and origin, at any step, in any order', () => {
    const a = randomWalkSource({ seed: 42, originMs: origin, assets })
    const b = randomWalkSource({ seed: 42, originMs: origin, assets })
    const times = [origin + 86_400_000, origin + 5_000, origin + 5_999, origin + 123_456_789]
    const forward = times.map((t) => a.price('WETH', t))
    const backward = [...times].reverse().map((t) => b.price('WETH', t))
    assert.deepEqual(forward, backward.reverse())
    assert.equal(a.price('WETH', origin + 5_000), a.price('WETH', origin + 5_999), 'one price per 1 s step')
    assert.notEqual(a.price('WETH', origin + 5_000), a.price('WETH', origin + 6_000))
    const other = randomWalkSource({ seed: 43, originMs: origin, assets })
    assert.notEqual(other.price('WETH', origin + 86_400_000), forward[0])
  })

  it('starts at the initial price and is flat before the origin', () => {
    const walk = randomWalkSource({ seed: 1, originMs: origin, assets })
    assert.equal(walk.price('WETH', origin), 3_000)
    assert.equal(walk.price('WETH', origin - 10_000_000), 3_000)
    assert.equal(walk.price('WBTC', origin + 999), 60_000)
    assert.throws(() => walk.price('DOGE', origin), /no parameters for DOGE/)
  })

  it('has the annualized volatility it was given (log returns per step: σ·√Δ)', () => {
    const walk = randomWalkSource({ seed: 'vol', originMs: 0, assets })
    const steps = 4_000
    const returns: number[] = []
    let previous = walk.price('WETH', 0)
    for (let k = 1; k <= steps; k++) {
      const price = walk.price('WETH', k * 1_000)
      returns.push(Math.log(price / previous))
      previous = price
    }
    const mean = returns.reduce((s, r) => s + r, 0) / steps
    const sd = Math.sqrt(returns.reduce((s, r) => s + (r - mean) ** 2, 0) / (steps - 1))
    const expected = 0.7 * Math.sqrt(1 / YEAR_SECONDS)
    assert.ok(Math.abs(sd / expected - 1) < 0.1, `per-step σ ${sd} vs ${expected}`)
  })
})

describe('replay source', () => {
  it('parses the bundled histories, which say they are synthetic and how they were made', () => {
    for (const asset of Object.keys(DEFAULT_ASSETS)) {
      const text = readFileSync(bundledHistory(asset), 'utf8')
      assert.match(text, /^# SYNTHETIC .*NOT market data/)
      assert.match(text, /node --import tsx services\/oracle\/record\.ts --asset /)
      const rows = loadHistory(bundledHistory(asset))
      assert.equal(rows.length, 1_440, asset)
      assert.equal(rows[0]!.price, DEFAULT_ASSETS[asset]!.initialPrice)
    }
  })

  it('follows the file: the last row at or before file time, speed-scaled, looping', () => {
    const rows = loadHistory(bundledHistory('WETH'))
    const origin = 1_000_000
    const replay = replaySource({ histories: { WETH: rows }, originMs: origin, speed: 60 })
    // One file minute (one row) per wall second.
    for (const i of [0, 1, 2, 100, 1_439])
      assert.equal(replay.price('WETH', origin + i * 1_000), rows[i]!.price)
    assert.equal(replay.price('WETH', origin + 1_500), rows[1]!.price, 'between rows: the earlier one')
    assert.equal(
      replay.price('WETH', origin + 1_440_000),
      rows[0]!.price,
      'after the last row: the first again',
    )
    assert.equal(replay.price('WETH', origin + 1_442_000), rows[2]!.price)
    assert.equal(replay.price('WETH', origin - 5_000), rows[0]!.price, 'before the origin: the first row')
  })

  it('refuses malformed files', () => {
    assert.throws(() => parseHistory('timestamp,price\n0,1\n0,2\n'), /timestamps must increase/)
    assert.throws(() => parseHistory('0,1\n1,-2\n'), /positive price/)
    assert.throws(() => parseHistory('# only a comment\n'), /no rows/)
    assert.deepEqual(parseHistory('# c\ntimestamp,price\n5, 1.5\n'), [{ t: 5, price: 1.5 }])
  })

  it('buildSource: replay defaults to the bundled file, the walk to the asset table', () => {
    const replay = buildSource({ kind: 'replay', originMs: 0 }, [{ asset: 'WBTC' }])
    assert.equal(replay.price('WBTC', 0), 60_000)
    const walk = buildSource({ kind: 'walk', seed: 1, originMs: 0 }, [{ asset: 'USDC' }])
    assert.equal(walk.price('USDC', 0), 1)
    assert.throws(() => buildSource({ kind: 'walk', seed: 1, originMs: 0 }, [{ asset: 'DOGE' }]), /DOGE/)
  })
})
