import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { BaseError } from '../../sdk/errors.js'

/**
 * Where an oracle node gets its market price. A source is a pure function of (asset, wall-clock
 * time): every honest node asking at the same moment gets the same answer, wherever it runs.
 */
export interface PriceSource {
  readonly kind: string
  /** The price of `asset` (in USD) at wall-clock time `atMs` (ms since the Unix epoch). */
  price(asset: string, atMs: number): number
}

export class PriceSourceError extends BaseError {
  override name = 'PriceSourceError'
}

/** What the random walk needs per asset. */
export type WalkAsset = { initialPrice: number; sigma: number }

/**
 * Devnet defaults per asset symbol: starting price (USD), annualized volatility, and the bundled
 * history file the replay source uses (services/oracle/history/).
 */
export const DEFAULT_ASSETS: Readonly<Record<string, WalkAsset & { history: string }>> = {
  WETH: { initialPrice: 3_000, sigma: 0.7, history: 'eth-usd.csv' },
  wstETH: { initialPrice: 3_500, sigma: 0.7, history: 'wsteth-usd.csv' },
  WBTC: { initialPrice: 60_000, sigma: 0.6, history: 'wbtc-usd.csv' },
  USDC: { initialPrice: 1, sigma: 0.01, history: 'usdc-usd.csv' },
  TBILL: { initialPrice: 99.5, sigma: 0.02, history: 'tbill-usd.csv' },
}

/** The bundled history folder. */
export const HISTORY_DIR = new URL('./history/', import.meta.url)

const YEAR_SECONDS = 365.25 * 24 * 3600
/** The walk is defined on [0, 2^LEVELS] steps: 2^40 s is ~35,000 years of 1 s steps. */
const LEVELS = 40

export type RandomWalkOptions = {
  seed: string | number
  /** Wall-clock time (ms) at which every asset is at its initial price: share it between processes. */
  originMs: number
  assets: Readonly<Record<string, WalkAsset>>
  /** One price per step of wall-clock time (default 1,000 ms). */
  stepMs?: number
  /** Market seconds per wall-clock second (default 1: σ is what it says per real year). */
  speed?: number
}

/**
 * Geometric Brownian motion per asset, deterministic from (seed, asset, step): the Brownian path
 * is built by Lévy's midpoint construction over a dyadic tree whose every node draws its normal
 * variate from a hash of (seed, asset, node). Any step's price is therefore computed directly in
 * 40 hashes, without walking from the origin, and is the same in every process with the same seed
 * and origin. Before the origin the price is the initial price.
 *
 *   ln P(k) = ln P0 + σ·√Δ·B(k) − σ²·Δ·k/2,   Δ = one step in years, B a standard Brownian motion
 */
export function randomWalkSource(options: RandomWalkOptions): PriceSource {
  const stepMs = options.stepMs ?? 1_000
  const speed = options.speed ?? 1
  if (!(stepMs > 0) || !(speed > 0)) throw new PriceSourceError('stepMs and speed must be positive')
  const stepYears = ((stepMs / 1_000) * speed) / YEAR_SECONDS
  const seed = String(options.seed)
  const cache = new Map<string, { step: number; price: number }>()
  return {
    kind: 'walk',
    price(asset, atMs) {
      const params = options.assets[asset]
      if (!params) throw new PriceSourceError(`the random walk has no parameters for ${asset}`)
      const step = Math.max(0, Math.floor((atMs - options.originMs) / stepMs))
      const cached = cache.get(asset)
      if (cached?.step === step) return cached.price
      const b = brownian(`${seed}\u0000${asset}`, step)
      const { initialPrice: p0, sigma } = params
      const price = p0 * Math.exp(sigma * Math.sqrt(stepYears) * b - 0.5 * sigma * sigma * stepYears * step)
      cache.set(asset, { step, price })
      return price
    },
  }
}

/** B(k) of a standard Brownian motion (unit variance per step) named by `key`. */
function brownian(key: string, k: number): number {
  let lo = 0
  let hi = 2 ** LEVELS
  if (k >= hi) throw new PriceSourceError(`step ${k} is beyond the walk's horizon`)
  let bLo = 0
  let bHi = Math.sqrt(hi) * normal(key, 0, 0)
  for (let level = 1; hi - lo > 1; level++) {
    const mid = (lo + hi) / 2
    const bMid = (bLo + bHi) / 2 + Math.sqrt((hi - lo) / 4) * normal(key, level, lo)
    if (k < mid) {
      hi = mid
      bHi = bMid
    } else {
      lo = mid
      bLo = bMid
    }
  }
  return k === lo ? bLo : bHi
}

/** A standard normal variate from a hash (Box–Muller on two 48-bit uniforms in (0, 1)). */
function normal(key: string, level: number, index: number): number {
  const digest = createHash('sha256').update(`${key}\u0000${level}\u0000${index}`).digest()
  const u1 = (digest.readUIntBE(0, 6) + 1) / (2 ** 48 + 1)
  const u2 = digest.readUIntBE(6, 6) / 2 ** 48
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
}

/** One row of a price history: seconds (any origin) and a price. */
export type HistoryRow = { t: number; price: number }

/**
 * Parses a `timestamp,price` CSV: lines starting with `#` are comments, a non-numeric first line is
 * a header, timestamps are seconds and must increase strictly.
 */
export function parseHistory(text: string, name = 'history'): HistoryRow[] {
  const rows: HistoryRow[] = []
  const lines = text.split(/\r?\n/)
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const [t, price, ...rest] = line.split(',').map((cell) => cell.trim())
    if (!rows.length && Number.isNaN(Number(t))) continue // the header
    const row = { t: Number(t), price: Number(price) }
    if (rest.length || !Number.isFinite(row.t) || !Number.isFinite(row.price) || row.price <= 0)
      throw new PriceSourceError(`${name}:${i + 1}: expected "timestamp,price" with a positive price`)
    if (rows.length && row.t <= rows.at(-1)!.t)
      throw new PriceSourceError(`${name}:${i + 1}: timestamps must increase`)
    rows.push(row)
  }
  if (!rows.length) throw new PriceSourceError(`${name}: no rows`)
  return rows
}

export function loadHistory(path: string | URL): HistoryRow[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new PriceSourceError(`cannot read price history ${String(path)}`, { cause })
  }
  return parseHistory(text, String(path))
}

export type ReplayOptions = {
  histories: Readonly<Record<string, readonly HistoryRow[]>>
  /** Wall-clock time (ms) at which replay is at each file's first row: share it between processes. */
  originMs: number
  /** File seconds per wall-clock second (default 1). */
  speed?: number
}

/**
 * Replays recorded prices: file time = first row + (wall − origin)·speed, looping after the last
 * row (one average row interval later) back to the first. The price is the last row at or before
 * that file time (a step function: what the file says, nothing interpolated).
 */
export function replaySource(options: ReplayOptions): PriceSource {
  const speed = options.speed ?? 1
  if (!(speed > 0)) throw new PriceSourceError('speed must be positive')
  return {
    kind: 'replay',
    price(asset, atMs) {
      const rows = options.histories[asset]
      if (!rows?.length) throw new PriceSourceError(`no price history for ${asset}`)
      const first = rows[0]!.t
      const last = rows.at(-1)!.t
      const period = rows.length > 1 ? last - first + (last - first) / (rows.length - 1) : 1
      const elapsed = (Math.max(0, atMs - options.originMs) / 1_000) * speed
      const t = first + (elapsed % period)
      let lo = 0
      let hi = rows.length - 1
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2)
        if (rows[mid]!.t <= t) lo = mid
        else hi = mid - 1
      }
      return rows[lo]!.price
    },
  }
}

/** How the nodes of a process get prices: a source spec (built from the feeds), or a source itself. */
export type SourceSpec =
  | {
      kind: 'walk'
      seed: string | number
      originMs: number
      stepMs?: number
      speed?: number
    }
  | {
      kind: 'replay'
      originMs: number
      speed?: number
      /** History per asset: rows, or a CSV path (default: the bundled file for the asset). */
      histories?: Readonly<Record<string, string | URL | readonly HistoryRow[]>>
    }
  | PriceSource

/** The bundled history file of `asset` (DEFAULT_ASSETS' file, else `<asset>-usd.csv` in lower case). */
export function bundledHistory(asset: string): URL {
  return new URL(DEFAULT_ASSETS[asset]?.history ?? `${asset.toLowerCase()}-usd.csv`, HISTORY_DIR)
}

/** Builds the source a spec describes for these assets (walk parameters come from the feeds). */
export function buildSource(
  spec: SourceSpec,
  assets: readonly ({ asset: string } & Partial<WalkAsset>)[],
): PriceSource {
  if ('price' in spec) return spec
  if (spec.kind === 'walk') {
    const params: Record<string, WalkAsset> = {}
    for (const { asset, initialPrice, sigma } of assets) {
      const initial = initialPrice ?? DEFAULT_ASSETS[asset]?.initialPrice
      const vol = sigma ?? DEFAULT_ASSETS[asset]?.sigma
      if (initial === undefined || vol === undefined || !(initial > 0) || !(vol >= 0))
        throw new PriceSourceError(`${asset}: the random walk needs a positive initial price and σ ≥ 0`)
      params[asset] = { initialPrice: initial, sigma: vol }
    }
    return randomWalkSource({ ...spec, assets: params })
  }
  const histories: Record<string, readonly HistoryRow[]> = {}
  for (const { asset } of assets) {
    const given = spec.histories?.[asset] ?? bundledHistory(asset)
    histories[asset] = typeof given === 'string' || given instanceof URL ? loadHistory(given) : given
  }
  return replaySource({ histories, originMs: spec.originMs, speed: spec.speed })
}
