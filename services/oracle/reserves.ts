import { BaseError } from '../../sdk/errors.js'

/**
 * Where reserve feeds get their value: what the custodian of a reserve-backed token reports it
 * holds, in whole tokens (e.g. 50,000,000 T-bills). Unlike a price it does not wander: it stays
 * where the custodian puts it.
 */
export type ReserveSource = {
  readonly kind: string
  /** The reserves of `asset`, in whole tokens, at wall-clock time `atMs`. */
  reserves(asset: string, atMs: number): number
}

export class ReserveSourceError extends BaseError {
  override name = 'ReserveSourceError'
}

/** Devnet custodian levels per asset symbol, in whole tokens. */
export const DEFAULT_RESERVES: Readonly<Record<string, number>> = {
  TBILL: 50_000_000,
}

/**
 * A custodian that reports constant reserves per asset. The devnet changes them per node with
 * POST /reserves (stored in the node's database, see OracleNode.setReserves), not here.
 */
export function constantReserves(levels: Readonly<Record<string, number>>): ReserveSource {
  for (const [asset, level] of Object.entries(levels))
    if (!Number.isFinite(level) || level <= 0)
      throw new ReserveSourceError(`${asset}: reserves must be a positive number of tokens, got ${level}`)
  return {
    kind: 'constant',
    reserves(asset) {
      const level = levels[asset]
      if (level === undefined) throw new ReserveSourceError(`the custodian reports no reserves for ${asset}`)
      return level
    },
  }
}

/** How POST /reserves changes what a node's custodian reports. */
export type ReserveChange =
  /** Reports `amount` whole tokens from now on. */
  | { amount: number }
  /** Multiplies what is reported now (override or custodian level) by `factor`. */
  | { factor: number }
  /** Back to the custodian's own level. */
  | { reset: true }

/** Parses a POST /reserves body's change: `amount` (number or decimal string), `factor`, or `reset`. */
export function parseReserveChange(body: {
  amount?: unknown
  factor?: unknown
  reset?: unknown
}): ReserveChange | string {
  const amount = typeof body.amount === 'string' ? Number(body.amount) : body.amount
  if (amount !== undefined) {
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0)
      return 'amount must be a positive number of whole tokens (the feed refuses 0)'
    return { amount }
  }
  if (body.factor !== undefined) {
    const factor = body.factor
    if (typeof factor !== 'number' || !Number.isFinite(factor) || factor <= 0)
      return 'factor must be a positive number'
    return { factor }
  }
  if (body.reset === true) return { reset: true }
  return 'give amount (whole tokens), factor, or reset: true'
}
