import { BaseError } from '../errors.js'

/**
 * The latency-adjusted health factor (docs/margin.md, DESIGN §6) in floating point: the off-chain
 * twin of the hub's WAD math, checked against it on vectors/margin/lhf.json.
 *
 * Units, everywhere in this file: ratios (LTV, LT, LB, σ, θ, conf, π, LGD, λ) are plain floats
 * (0.83, not 8300 or a WAD); times are seconds; token amounts and `unwindPerDay` are in the
 * token's smallest unit (as the vault and the contract hold them); values are USD floats.
 * Inside the formulas, horizons are years of 365 days.
 *
 * Two paths compute the same numbers: `positionRisk` / `accountHealth` on objects (with the full
 * per-position breakdown, for the CLI and margin calls), and `lhfBatch` on columns with the
 * per-asset constants computed once, for whole books (the keeper's scan).
 */

/** Φ⁻¹(0.99): every error and price move is taken at the 99% quantile. */
export const Z_99 = 2.326347874040841
export const YEAR_SECONDS = 31_536_000
export const DAY_SECONDS = 86_400

export class RiskParamsError extends BaseError {
  override name = 'RiskParamsError'
}

/** Hub-wide timing, seconds. */
export type RiskGlobals = {
  /** τ_detect: from the shortfall to the keeper's liquidation transaction. */
  detectTime: number
  /** F_hub: until that transaction is final on the hub. */
  hubFinalityTime: number
  /** g: how long past its heartbeat a price still counts as fresh. */
  grace: number
}

/** Per economic asset (one asset may live on several chains). */
export type AssetRisk = {
  ltv: number
  liquidationThreshold: number
  /** LB, e.g. 1.05 for a 5% bonus. */
  liquidationBonus: number
  /** σ, annualized; must be > 0 (it divides √T0). */
  volatility: number
  /** θ, the cap on a fresh push feed's age term; 0 = uncapped. */
  theta: number
  /** The feed's relative confidence term k·conf/P; 0 for push feeds. */
  conf: number
  /** H, seconds; 0 = a pull feed (fresh iff its age ≤ grace). */
  heartbeat: number
  /** ρ·ADV in the token's smallest units per day; 0 = no unwind term. */
  unwindPerDay: number
  decimals: number
}

/** Per source chain. */
export type ChainRisk = {
  /** τ_relay(c), seconds. */
  relayTime: number
  /** π, bridge failures per year. */
  bridgeIntensity: number
  /** LGD, the fraction lost when the bridge fails. */
  bridgeLgd: number
}

/** One collateral position as the hub (or, while in flight, the spoke's vault) reports it. */
export type CollateralPosition = {
  /** q, in the token's smallest unit. */
  amount: bigint
  /** The feed's answer, `priceDecimals` decimals. */
  price: bigint
  priceDecimals: number
  /** The feed's `updatedAt`, unix seconds. */
  updatedAt: number
  /** Final on its source chain; a deposit in flight is not, and counts for nothing (w = 0). */
  final: boolean
  asset: AssetRisk
  chain: ChainRisk
}

export type PositionRisk = {
  /** λ ∈ [0, 1]: the share of the position's value that survives the horizon at 99%. */
  lambda: number
  /** τ_detect + F_hub + τ_relay(c) + unwind time. */
  horizonSeconds: number
  priceAgeSeconds: number
  /** age ≤ H + g; a stale position keeps its liquidation value but loses its borrowing power. */
  fresh: boolean
  final: boolean
  /** e, the relative oracle error. */
  oracleError: number
  /** b, the expected bridge loss over the horizon. */
  bridgeLoss: number
  /** q·P. */
  valueUsd: number
  /** q·P·LT·λ, what LHF counts. */
  liquidationValueUsd: number
  /** q·P·LTV'·λ, LTV' = 0 when stale: what borrowing power counts. */
  borrowValueUsd: number
}

export type AccountHealth = {
  /** Σ q·P·LT·λ / debt; ∞ without debt. */
  lhf: number
  /** Σ q·P·LTV'·λ / debt; ∞ without debt. */
  borrowHf: number
  /** Aave's view, Σ q·P·LT / debt over every position, pending ones included: the benchmark LHF improves on. */
  aaveHf: number
  positions: PositionRisk[]
}

export function positionRisk(position: CollateralPosition, globals: RiskGlobals, now: number): PositionRisk {
  const { asset, chain } = position
  checkGlobals(globals)
  checkAsset(asset)
  checkChain(chain)
  checkPosition(position)
  const q = Number(position.amount)
  const valueUsd = (q / 10 ** asset.decimals) * (Number(position.price) / 10 ** position.priceDecimals)
  const unwindSeconds = asset.unwindPerDay > 0 ? (q / asset.unwindPerDay) * DAY_SECONDS : 0
  const horizonSeconds = globals.detectTime + globals.hubFinalityTime + chain.relayTime + unwindSeconds
  const horizon = horizonSeconds / YEAR_SECONDS
  // A price stamped after `now` (our clock behind the feed's) is as good as just updated.
  const priceAgeSeconds = Math.max(0, now - position.updatedAt)
  const fresh = priceAgeSeconds <= asset.heartbeat + globals.grace
  const zSigma = Z_99 * asset.volatility
  const ageError = zSigma * Math.sqrt(priceAgeSeconds / YEAR_SECONDS)
  // θ caps the age term only while the feed keeps its promise; a stale price carries its full error.
  const oracleError = asset.conf + (fresh && asset.theta > 0 ? Math.min(asset.theta, ageError) : ageError)
  // 1 − exp(−πT) via expm1: πT is ~1e-6, where the subtraction would keep only ten digits.
  const bridgeLoss = -Math.expm1(-chain.bridgeIntensity * horizon) * chain.bridgeLgd
  const sqrtT0 = baselineSqrtHorizon(asset)
  const lambda =
    !position.final || oracleError >= 1
      ? 0
      : (1 - oracleError) * (1 - bridgeLoss) * Math.exp(-zSigma * sqrtStep(horizon, sqrtT0 * sqrtT0, sqrtT0))
  return {
    lambda,
    horizonSeconds,
    priceAgeSeconds,
    fresh,
    final: position.final,
    oracleError,
    bridgeLoss,
    valueUsd,
    liquidationValueUsd: valueUsd * asset.liquidationThreshold * lambda,
    borrowValueUsd: fresh ? valueUsd * asset.ltv * lambda : 0,
  }
}

export function accountHealth(
  positions: readonly CollateralPosition[],
  debtUsd: number,
  globals: RiskGlobals,
  now: number,
): AccountHealth {
  if (!(debtUsd >= 0) || !Number.isFinite(debtUsd)) {
    throw new RiskParamsError(`Debt ${debtUsd} USD is not a finite non-negative number.`)
  }
  const risks = positions.map((p) => positionRisk(p, globals, now))
  let liquidation = 0
  let borrow = 0
  let aave = 0
  for (const [i, r] of risks.entries()) {
    liquidation += r.liquidationValueUsd
    borrow += r.borrowValueUsd
    aave += r.valueUsd * positions[i]!.asset.liquidationThreshold
  }
  return {
    lhf: ratio(liquidation, debtUsd),
    borrowHf: ratio(borrow, debtUsd),
    aaveHf: ratio(aave, debtUsd),
    positions: risks,
  }
}

/* ----------------------------------------------------------------------------------------------
 * Columnar path: a whole book in typed arrays. Everything that depends only on the asset or on
 * the (asset, chain) pair is computed once in `riskTables`; for assets without an unwind term the
 * whole horizon factor (1 − b)·exp(−zσ(√(T0+T) − √T0)) is per pair, so a position costs one
 * square root (its price age) and a few multiplications.
 * -------------------------------------------------------------------------------------------- */

export type RiskTables = {
  assetCount: number
  chainCount: number
  // Per asset.
  liquidationThreshold: Float64Array
  ltv: Float64Array
  zSigma: Float64Array
  /** zσ/√YEAR: the age term is this times √(age in seconds). */
  ageErrorPerSqrtSecond: Float64Array
  theta: Float64Array
  conf: Float64Array
  /** H + g, seconds. */
  freshFor: Float64Array
  /** 10^−decimals. */
  tokenScale: Float64Array
  /** Unwind horizon per smallest unit, in years; 0 = no unwind term. */
  unwindYearsPerUnit: Float64Array
  t0: Float64Array
  sqrtT0: Float64Array
  // Per chain.
  bridgeIntensity: Float64Array
  bridgeLgd: Float64Array
  // Per (asset, chain) pair, index asset·chainCount + chain.
  /** (τ_detect + F_hub + τ_relay(c)) / YEAR. */
  pairHorizon: Float64Array
  /** (1 − b)·exp(−zσ(√(T0+T) − √T0)) at `pairHorizon`, used when the asset has no unwind term. */
  pairFactor: Float64Array
}

/** A book of positions, one entry per position in each column, and one debt per account. */
export type PositionBook = {
  /** Index into `debtUsd`. Positions of one account need not be adjacent. */
  account: Uint32Array
  /** Index into the tables' assets. */
  asset: Uint16Array
  /** Index into the tables' chains. */
  chain: Uint16Array
  /** q, in the token's smallest unit. */
  amount: Float64Array
  /** P, USD per whole token (the feed's answer / 10^decimals). */
  price: Float64Array
  /** The feed's `updatedAt`, unix seconds. */
  updatedAt: Float64Array
  /** 1 = final on its source chain, 0 = in flight. */
  final: Uint8Array
  /** Per account, USD. */
  debtUsd: Float64Array
}

/** Per account, in the order of `debtUsd`. */
export type BatchHealth = { lhf: Float64Array; borrowHf: Float64Array; aaveHf: Float64Array }

export function riskTables(
  assets: readonly AssetRisk[],
  chains: readonly ChainRisk[],
  globals: RiskGlobals,
): RiskTables {
  checkGlobals(globals)
  if (assets.length > 0xffff || chains.length > 0xffff) {
    throw new RiskParamsError(`${assets.length} assets and ${chains.length} chains: at most 65535 each.`)
  }
  const n = assets.length
  const m = chains.length
  const t: RiskTables = {
    assetCount: n,
    chainCount: m,
    liquidationThreshold: new Float64Array(n),
    ltv: new Float64Array(n),
    zSigma: new Float64Array(n),
    ageErrorPerSqrtSecond: new Float64Array(n),
    theta: new Float64Array(n),
    conf: new Float64Array(n),
    freshFor: new Float64Array(n),
    tokenScale: new Float64Array(n),
    unwindYearsPerUnit: new Float64Array(n),
    t0: new Float64Array(n),
    sqrtT0: new Float64Array(n),
    bridgeIntensity: new Float64Array(m),
    bridgeLgd: new Float64Array(m),
    pairHorizon: new Float64Array(n * m),
    pairFactor: new Float64Array(n * m),
  }
  for (const [c, chain] of chains.entries()) {
    checkChain(chain)
    t.bridgeIntensity[c] = chain.bridgeIntensity
    t.bridgeLgd[c] = chain.bridgeLgd
  }
  for (const [a, asset] of assets.entries()) {
    checkAsset(asset)
    const zSigma = Z_99 * asset.volatility
    const sqrtT0 = baselineSqrtHorizon(asset)
    t.liquidationThreshold[a] = asset.liquidationThreshold
    t.ltv[a] = asset.ltv
    t.zSigma[a] = zSigma
    t.ageErrorPerSqrtSecond[a] = zSigma / Math.sqrt(YEAR_SECONDS)
    t.theta[a] = asset.theta
    t.conf[a] = asset.conf
    t.freshFor[a] = asset.heartbeat + globals.grace
    t.tokenScale[a] = 10 ** -asset.decimals
    t.unwindYearsPerUnit[a] = asset.unwindPerDay > 0 ? DAY_SECONDS / asset.unwindPerDay / YEAR_SECONDS : 0
    t.sqrtT0[a] = sqrtT0
    t.t0[a] = sqrtT0 * sqrtT0
    for (const [c, chain] of chains.entries()) {
      const horizon = (globals.detectTime + globals.hubFinalityTime + chain.relayTime) / YEAR_SECONDS
      t.pairHorizon[a * m + c] = horizon
      t.pairFactor[a * m + c] = horizonFactor(t, a, c, horizon)
    }
  }
  return t
}

export function allocBatchHealth(accounts: number): BatchHealth {
  return {
    lhf: new Float64Array(accounts),
    borrowHf: new Float64Array(accounts),
    aaveHf: new Float64Array(accounts),
  }
}

/**
 * LHF, borrow HF and Aave's HF of every account of `book`, written into `out` (allocated when
 * omitted; pass one back in to scan a book repeatedly without allocating).
 */
export function lhfBatch(
  tables: RiskTables,
  book: PositionBook,
  now: number,
  out: BatchHealth = allocBatchHealth(book.debtUsd.length),
): BatchHealth {
  checkBook(tables, book, out)
  // Sums first, in the output arrays; divided by the debt at the end.
  const { lhf: liquidation, borrowHf: borrow, aaveHf: aave } = out
  liquidation.fill(0)
  borrow.fill(0)
  aave.fill(0)
  const { account, asset, chain, amount, price, updatedAt, final } = book
  const { liquidationThreshold, ltv, ageErrorPerSqrtSecond, theta, conf, freshFor, tokenScale } = tables
  const { unwindYearsPerUnit, pairHorizon, pairFactor, chainCount } = tables
  for (let i = 0; i < account.length; i++) {
    const acc = account[i]!
    const a = asset[i]!
    const q = amount[i]!
    const valueLt = q * tokenScale[a]! * price[i]! * liquidationThreshold[a]!
    aave[acc]! += valueLt
    if (final[i] === 0) continue
    const age = Math.max(0, now - updatedAt[i]!)
    const fresh = age <= freshFor[a]!
    const ageError = ageErrorPerSqrtSecond[a]! * Math.sqrt(age)
    const cap = theta[a]!
    const e = conf[a]! + (fresh && cap > 0 && cap < ageError ? cap : ageError)
    if (e >= 1) continue
    const unwind = unwindYearsPerUnit[a]!
    const k = a * chainCount + chain[i]!
    const factor =
      unwind === 0 ? pairFactor[k]! : horizonFactor(tables, a, chain[i]!, pairHorizon[k]! + q * unwind)
    const lambda = (1 - e) * factor
    liquidation[acc]! += valueLt * lambda
    if (fresh) borrow[acc]! += q * tokenScale[a]! * price[i]! * ltv[a]! * lambda
  }
  const { debtUsd } = book
  for (let j = 0; j < debtUsd.length; j++) {
    const debt = debtUsd[j]!
    liquidation[j] = ratio(liquidation[j]!, debt)
    borrow[j] = ratio(borrow[j]!, debt)
    aave[j] = ratio(aave[j]!, debt)
  }
  return out
}

/**
 * The columns and tables for a list of accounts given as objects (assets and chains are told apart
 * by identity): for callers that hold objects but want the batch path, and for the tests that hold
 * the two paths to the same numbers.
 */
export function packBook(
  accounts: readonly { positions: readonly CollateralPosition[]; debtUsd: number }[],
  globals: RiskGlobals,
): { tables: RiskTables; book: PositionBook } {
  const assets = new Map<AssetRisk, number>()
  const chains = new Map<ChainRisk, number>()
  const indexOf = <K>(map: Map<K, number>, key: K): number => {
    const found = map.get(key)
    if (found !== undefined) return found
    map.set(key, map.size)
    return map.size - 1
  }
  const n = accounts.reduce((sum, a) => sum + a.positions.length, 0)
  const book: PositionBook = {
    account: new Uint32Array(n),
    asset: new Uint16Array(n),
    chain: new Uint16Array(n),
    amount: new Float64Array(n),
    price: new Float64Array(n),
    updatedAt: new Float64Array(n),
    final: new Uint8Array(n),
    debtUsd: Float64Array.from(accounts, (a) => a.debtUsd),
  }
  let i = 0
  for (const [j, { positions }] of accounts.entries()) {
    for (const p of positions) {
      checkPosition(p)
      book.account[i] = j
      book.asset[i] = indexOf(assets, p.asset)
      book.chain[i] = indexOf(chains, p.chain)
      book.amount[i] = Number(p.amount)
      book.price[i] = Number(p.price) / 10 ** p.priceDecimals
      book.updatedAt[i] = p.updatedAt
      book.final[i] = p.final ? 1 : 0
      i++
    }
  }
  return { tables: riskTables([...assets.keys()], [...chains.keys()], globals), book }
}

/** √T0 = ln(1/(LT·LB))/(zσ): the horizon over which a 99% move eats the liquidation bonus's margin. */
function baselineSqrtHorizon(asset: AssetRisk): number {
  return -Math.log(asset.liquidationThreshold * asset.liquidationBonus) / (Z_99 * asset.volatility)
}

/**
 * √(T0+T) − √T0, as T/(√(T0+T) + √T0): the subtraction would cancel most digits (T is ~1e-5 years,
 * T0 ~1e-2), and this form stays exact when T0 is infinite (LT = 0) and defined when T = T0 = 0.
 */
function sqrtStep(horizon: number, t0: number, sqrtT0: number): number {
  return horizon === 0 ? 0 : horizon / (Math.sqrt(t0 + horizon) + sqrtT0)
}

function horizonFactor(t: RiskTables, a: number, c: number, horizon: number): number {
  const bridgeLoss = -Math.expm1(-t.bridgeIntensity[c]! * horizon) * t.bridgeLgd[c]!
  return (1 - bridgeLoss) * Math.exp(-t.zSigma[a]! * sqrtStep(horizon, t.t0[a]!, t.sqrtT0[a]!))
}

function ratio(collateral: number, debt: number): number {
  return debt === 0 ? Number.POSITIVE_INFINITY : collateral / debt
}

function checkGlobals(g: RiskGlobals): void {
  for (const key of ['detectTime', 'hubFinalityTime', 'grace'] as const) {
    if (!(g[key] >= 0) || !Number.isFinite(g[key])) {
      throw new RiskParamsError(`${key} ${g[key]} s is not a finite non-negative number.`)
    }
  }
}

function checkAsset(a: AssetRisk): void {
  const finite = ['theta', 'conf', 'heartbeat', 'unwindPerDay'] as const
  for (const key of finite) {
    if (!(a[key] >= 0) || !Number.isFinite(a[key])) {
      throw new RiskParamsError(`Asset ${key} ${a[key]} is not a finite non-negative number.`)
    }
  }
  if (!(a.volatility > 0) || !Number.isFinite(a.volatility)) {
    throw new RiskParamsError(`Asset volatility ${a.volatility} is not positive: √T0 divides by it.`)
  }
  if (!(a.ltv >= 0 && a.ltv <= a.liquidationThreshold && a.liquidationThreshold <= 1)) {
    throw new RiskParamsError(
      `Asset ltv ${a.ltv} and liquidationThreshold ${a.liquidationThreshold} need 0 ≤ LTV ≤ LT ≤ 1.`,
    )
  }
  // Aave's own rule (LT·LB ≤ 100%): above it a liquidation at the threshold could not pay its bonus.
  if (!(a.liquidationBonus >= 1 && a.liquidationThreshold * a.liquidationBonus <= 1)) {
    throw new RiskParamsError(
      `Asset liquidationBonus ${a.liquidationBonus} needs LB ≥ 1 and LT·LB ≤ 1 (LT ${a.liquidationThreshold}).`,
    )
  }
  if (!Number.isInteger(a.decimals) || a.decimals < 0 || a.decimals > 77) {
    throw new RiskParamsError(`Asset decimals ${a.decimals} is not an integer from 0 to 77.`)
  }
}

function checkChain(c: ChainRisk): void {
  if (!(c.relayTime >= 0) || !Number.isFinite(c.relayTime)) {
    throw new RiskParamsError(`Chain relayTime ${c.relayTime} s is not a finite non-negative number.`)
  }
  if (!(c.bridgeIntensity >= 0) || !Number.isFinite(c.bridgeIntensity)) {
    throw new RiskParamsError(
      `Chain bridgeIntensity ${c.bridgeIntensity}/yr is not a finite non-negative number.`,
    )
  }
  if (!(c.bridgeLgd >= 0 && c.bridgeLgd <= 1)) {
    throw new RiskParamsError(`Chain bridgeLgd ${c.bridgeLgd} is not from 0 to 1.`)
  }
}

function checkPosition(p: CollateralPosition): void {
  if (p.amount < 0n || p.price < 0n) {
    throw new RiskParamsError(`Position amount ${p.amount} and price ${p.price} must not be negative.`)
  }
  if (!Number.isInteger(p.priceDecimals) || p.priceDecimals < 0 || p.priceDecimals > 77) {
    throw new RiskParamsError(`Price decimals ${p.priceDecimals} is not an integer from 0 to 77.`)
  }
  if (!Number.isFinite(p.updatedAt)) throw new RiskParamsError(`updatedAt ${p.updatedAt} is not finite.`)
}

function checkBook(t: RiskTables, b: PositionBook, out: BatchHealth): void {
  const n = b.account.length
  for (const key of ['asset', 'chain', 'amount', 'price', 'updatedAt', 'final'] as const) {
    if (b[key].length !== n) {
      throw new RiskParamsError(`Column ${key} has ${b[key].length} entries, account has ${n}.`)
    }
  }
  const accounts = b.debtUsd.length
  for (let j = 0; j < accounts; j++) {
    const debt = b.debtUsd[j]!
    if (!(debt >= 0) || !Number.isFinite(debt)) {
      throw new RiskParamsError(`Account ${j}: debt ${debt} USD is not a finite non-negative number.`)
    }
  }
  for (const key of ['lhf', 'borrowHf', 'aaveHf'] as const) {
    if (out[key].length !== accounts) {
      throw new RiskParamsError(`Output ${key} has ${out[key].length} entries for ${accounts} accounts.`)
    }
  }
  // Out-of-range indexes would read undefined and turn a sum into NaN without a word.
  for (let i = 0; i < n; i++) {
    if (b.account[i]! >= accounts || b.asset[i]! >= t.assetCount || b.chain[i]! >= t.chainCount) {
      throw new RiskParamsError(
        `Position ${i}: account ${b.account[i]}, asset ${b.asset[i]} or chain ${b.chain[i]} is out of range ` +
          `(${accounts} accounts, ${t.assetCount} assets, ${t.chainCount} chains).`,
      )
    }
  }
}
