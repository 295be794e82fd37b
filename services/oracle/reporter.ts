import type { Address } from 'viem'

/**
 * What the process knows of a reserve-backed token and its ReserveReporter, read every tick from
 * the token's chain (contracts/src/settlement/ReserveReporter.sol).
 */
export type ReserveView = {
  token: Address
  reporter: Address
  tokenDecimals: number
  /** `preview(token)`: supply and reserves in token base units (reserves 0 when the feed is stale or invalid). */
  supply: bigint
  reserves: bigint
  /** `preview(token).backed`: as the token reads now, without syncing its breaker. */
  backed: boolean
  /** `lastReport(token)`. */
  last: { sentAt: number; backed: boolean; sent: boolean }
  /** The reporter's heartbeat: an unchanged status is reported at most this often (seconds). */
  minInterval: number
}

export type ReportReason = 'first' | 'change' | 'heartbeat'

/**
 * The status a report would send: `report` syncs the breaker first (`checkReserves`), so a token
 * whose breaker is still tripped but whose fresh reserves cover the supply again reports backed,
 * and one whose reserves fell below supply reports unbacked even before anything tripped it.
 * `preview().backed` alone would miss the recovery (the tripped breaker keeps it false until a
 * report resets it) until the next heartbeat.
 */
export function backedAfterSync(view: Pick<ReserveView, 'supply' | 'reserves'>): boolean {
  return view.reserves > 0n && view.reserves >= view.supply
}

/**
 * Whether a report is due at chain time `chainNow`, and why: none was ever sent, the status it
 * would send differs from the last one sent, or the heartbeat interval passed since the last one.
 * A change is due at once: the reporter takes it from the second after the last report on, and
 * the node cannot tell the next block's time (a chain that mines only on transactions keeps its
 * latest block's time), so a change in the same second is refused as ReporterTooSoon and tried
 * again at the next tick.
 */
export function reportDue(view: ReserveView, chainNow: number): ReportReason | undefined {
  if (!view.last.sent) return 'first'
  if (backedAfterSync(view) !== view.last.backed) return 'change'
  return chainNow >= view.last.sentAt + view.minInterval ? 'heartbeat' : undefined
}
