import {
  type Address,
  ContractFunctionRevertedError,
  formatUnits,
  type Hex,
  isAddress,
  type LocalAccount,
  parseEventLogs,
  parseUnits,
  recoverMessageAddress,
  BaseError as ViemBaseError,
} from 'viem'
import { priceFeedAbi } from '../../sdk/abi/PriceFeed.js'
import { reserveReporterAbi } from '../../sdk/abi/ReserveReporter.js'
import type { ChainClients } from '../../sdk/client.js'
import {
  type Observation,
  observationDigest,
  signObservation,
  toReport,
} from '../../sdk/oracles/observation.js'
import type { Logger } from '../core/logger.js'
import type { Store } from '../core/store.js'
import { type ReportReason, type ReserveView, reportDue } from './reporter.js'
import type { ReserveChange, ReserveSource } from './reserves.js'
import type { PriceSource } from './sources.js'

/** A feed as the nodes work with it (chain and decimals known). */
export type FeedSettings = {
  /** `<chainId>:<address in lower case>`: feeds of several chains may share an address. */
  key: string
  /** The manifest chain the feed lives on, and its id (part of every signed observation). */
  chain: string
  chainId: number
  address: Address
  asset: string
  /** A price feed (USD per token, from the price source) or a proof-of-reserve feed (whole tokens held, from the custodian). */
  kind: 'price' | 'reserve'
  /** Reserve feeds: the token they back and the ReserveReporter that tells the hub (none: no reports). */
  reserve?: { token: Address; reporter?: Address }
  decimals: number
  /** Relative change of the median against the on-chain answer that triggers a round (0.005 = 0.5%). */
  deviation: number
  /** A round is due when the on-chain answer is this old (seconds of chain time). */
  heartbeatSeconds: number
}

/** What the process knows of one feed on chain, refreshed every tick. */
export type FeedView = {
  settings: FeedSettings
  /** The feed's oracle set, in on-chain order: a node's position in it decides its transmit turns. */
  oracles: Address[]
  faulty: number
  maxObservationAge: number
  /** The latest round, or undefined while the feed has none. */
  round: { id: bigint; answer: bigint; updatedAt: number } | undefined
  /** Reserve feeds with a reporter: the token's status and its last report. */
  reserve?: ReserveView
}

export type SignedObservation = Observation & { oracle: Address }

/** The shared clocks of a process: wall time for the market, chain time for observation stamps. */
export type Clock = {
  /** Wall-clock ms (the market's time). */
  now(): number
  /** Seconds an observation made now is stamped with: never behind the latest block, never ahead of the next. */
  stamp(): number
  /** Reads the latest block's time (before a transmit) and returns `stamp()`. */
  freshStamp(): Promise<number>
}

/** One chain the process's feeds live on: read clients and its clock (stamps follow its blocks). */
export type NodeChain = { chainId: number; clients: ChainClients; clock: Clock }

export type NodeContext = {
  /** By manifest chain name: every chain a feed of the process lives on. */
  chains: ReadonlyMap<string, NodeChain>
  /** Wall-clock ms (the market's time). */
  now(): number
  source: PriceSource
  /** What the custodians report for reserve feeds (before this node's POST /reserves overrides). */
  reserveSource: ReserveSource
  logger: Logger
  /** URLs of every other oracle node (local and remote) to ask for observations. */
  peerUrls(): string[]
  /** A responsible transmitter that has not moved the feed after this long hands over to the next. */
  fallbackMs: number
}

type ObservationRow = {
  feed: string
  value: string
  observed_at: number
  signature: Hex
  price: number
}

type ReportRecord = {
  token: string
  tx_hash: string | null
  backed: number | null
  reason: string
  status: string
  detail: string | null
  created_at: number
}

type TransmitRecord = {
  round_id: number | null
  tx_hash: Hex | null
  answer: string | null
  observations: number
  status: string
  reason: string | null
  created_at: number
}

const PPM = 1_000_000n

/** The upper median, as the feed computes it. */
export function upperMedian(values: readonly bigint[]): bigint {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  return sorted[Math.floor(sorted.length / 2)]!
}

/** Whether a feed needs a new round if `value` is the price now: no round yet, deviation or heartbeat. */
export function roundDue(value: bigint, view: FeedView, chainNow: number): boolean {
  const { round, settings } = view
  if (!round) return true
  if (chainNow - round.updatedAt >= settings.heartbeatSeconds) return true
  const diff = value > round.answer ? value - round.answer : round.answer - value
  const ppm = BigInt(Math.round(settings.deviation * 1_000_000))
  return diff * PPM > ppm * (round.answer > 0n ? round.answer : 1n)
}

/** A USD price in the feed's units, never below one unit (the feed refuses non-positive values). */
export function toUnits(price: number, decimals: number): bigint {
  if (!Number.isFinite(price) || price <= 0) return 1n
  const value = parseUnits(price.toFixed(Math.min(decimals, 20)), decimals)
  return value > 0n ? value : 1n
}

/**
 * One oracle node: one key, its own SQLite state and HTTP server (wired by oracle.ts). It signs an
 * observation per feed at most once per second of chain time and never one older than any it
 * signed before (the stamp is persisted before it is served), and when it is the feed's responsible
 * transmitter it collects ≥ 2f+1 observations and sends the report.
 */
export class OracleNode {
  readonly address: Address
  stopped = false
  private readonly latest = new Map<string, SignedObservation & { price: number }>()
  private readonly observing = new Map<string, Promise<unknown>>()
  private readonly shocks = new Map<string, number>()
  /** POST /reserves overrides per asset (whole tokens), persisted. */
  private readonly reserveOverrides = new Map<string, number>()
  private readonly tracking = new Map<string, { roundId: bigint; dueSince: number | undefined }>()
  private readonly inflight = new Map<string, Promise<void>>()
  private readonly stepping = new Set<Promise<void>>()
  /**
   * The round this node last created per feed (this run): it does not transmit again until its view
   * shows it. The history, with every attempt, is the transmissions table.
   */
  private readonly transmitted = new Map<string, bigint>()
  /** Per chain: one transaction at a time per key, as the feeds of a chain share the account's nonce there. */
  private readonly sending = new Map<string, Promise<unknown>>()
  private readonly warnedAt = new Map<string, number>()
  /** Per reserve feed: since when a report has been due (for turns), and the chain time of the last report this node sent. */
  private readonly reportTracking = new Map<string, { marker: string; dueSince: number | undefined }>()
  private readonly reported = new Map<string, number>()
  private readonly reporting = new Map<string, Promise<void>>()

  constructor(
    readonly account: LocalAccount,
    /** Per manifest chain name: the wallet that pays for this node's transactions there. */
    private readonly wallets: ReadonlyMap<string, ChainClients['wallet']>,
    private readonly db: Store,
    private readonly context: NodeContext,
    readonly logger: Logger,
  ) {
    this.address = account.address
    for (const row of db.prepare('SELECT * FROM observations').all() as ObservationRow[]) {
      this.latest.set(row.feed, {
        oracle: this.address,
        value: BigInt(row.value),
        observedAt: row.observed_at,
        signature: row.signature,
        price: row.price,
      })
    }
    for (const row of db.prepare('SELECT asset, factor FROM shocks').all() as {
      asset: string
      factor: number
    }[])
      this.shocks.set(row.asset, row.factor)
    for (const row of db.prepare('SELECT asset, amount FROM reserve_overrides').all() as {
      asset: string
      amount: number
    }[])
      this.reserveOverrides.set(row.asset, row.amount)
  }

  private chainOf(settings: FeedSettings): NodeChain {
    const chain = this.context.chains.get(settings.chain)
    if (!chain) throw new Error(`feed ${settings.asset}: no chain "${settings.chain}" in this process`)
    return chain
  }

  /** The source price of an asset now, with this node's shock applied. */
  sourcePrice(asset: string): number {
    return this.context.source.price(asset, this.context.now()) * this.shock(asset)
  }

  /** What the custodian reports for `asset` now (whole tokens): this node's override, else the source's level. */
  reserves(asset: string): number {
    return this.reserveOverrides.get(asset) ?? this.context.reserveSource.reserves(asset, this.context.now())
  }

  /** This node's POST /reserves override of `asset`, if any. */
  reserveOverride(asset: string): number | undefined {
    return this.reserveOverrides.get(asset)
  }

  /** The value a feed observes now: a price (shock applied) or the reserves (whole tokens). */
  sourceValue(settings: FeedSettings): number {
    return settings.kind === 'reserve' ? this.reserves(settings.asset) : this.sourcePrice(settings.asset)
  }

  /** Changes what the custodian reports for `asset` (persisted, so a restart keeps it); returns the new level. */
  setReserves(asset: string, change: ReserveChange): number {
    if ('reset' in change) {
      this.db.prepare('DELETE FROM reserve_overrides WHERE asset = ?').run(asset)
      this.reserveOverrides.delete(asset)
    } else {
      const amount = 'amount' in change ? change.amount : this.reserves(asset) * change.factor
      this.db
        .prepare(
          'INSERT INTO reserve_overrides (asset, amount, updated_at) VALUES (?, ?, ?) ON CONFLICT (asset) DO UPDATE SET amount = excluded.amount, updated_at = excluded.updated_at',
        )
        .run(asset, amount, Date.now())
      this.reserveOverrides.set(asset, amount)
    }
    const level = this.reserves(asset)
    this.logger.info(
      { asset, reserves: level, override: this.reserveOverride(asset) ?? null },
      'reserves set',
    )
    return level
  }

  shock(asset: string): number {
    return this.shocks.get(asset) ?? 1
  }

  /** Multiplies the asset's price from now on (factor 1 with `reset` puts it back); persisted. */
  applyShock(asset: string, factor: number, reset = false): number {
    const next = reset ? factor : this.shock(asset) * factor
    this.db
      .prepare(
        'INSERT INTO shocks (asset, factor, updated_at) VALUES (?, ?, ?) ON CONFLICT (asset) DO UPDATE SET factor = excluded.factor, updated_at = excluded.updated_at',
      )
      .run(asset, next, Date.now())
    this.shocks.set(asset, next)
    this.logger.info({ asset, factor: next }, 'price shock applied')
    return next
  }

  /**
   * This node's current signed observation of a feed: a new one once the stamp has moved past the
   * last one signed (persisted before it is returned), otherwise the last one again.
   */
  async observe(settings: FeedSettings): Promise<SignedObservation & { price: number }> {
    const feed = settings.key
    const { clock, chainId } = this.chainOf(settings)
    // One signature at a time per feed: two concurrent callers must not sign two values for one stamp.
    for (let busy = this.observing.get(feed); busy; busy = this.observing.get(feed))
      await busy.catch(() => undefined)
    const last = this.latest.get(feed)
    const observedAt = clock.stamp()
    if (last && observedAt <= last.observedAt) return last
    const work = (async () => {
      const price = this.sourceValue(settings)
      const value = toUnits(price, settings.decimals)
      const signed = await signObservation(this.account, chainId, settings.address, value, observedAt)
      this.db
        .prepare(
          `INSERT INTO observations (feed, value, observed_at, signature, price, signed_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (feed) DO UPDATE SET value = excluded.value, observed_at = excluded.observed_at,
             signature = excluded.signature, price = excluded.price, signed_at = excluded.signed_at`,
        )
        .run(feed, value.toString(), observedAt, signed.signature, price, Date.now())
      const observation = { ...signed, price }
      this.latest.set(feed, observation)
      return observation
    })()
    this.observing.set(feed, work)
    try {
      return await work
    } finally {
      this.observing.delete(feed)
    }
  }

  /** The latest observation of a feed (by its key, see FeedSettings). */
  lastObservation(key: string) {
    return this.latest.get(key)
  }

  lastTransmit(key: string): TransmitRecord | undefined {
    return this.db
      .prepare(
        'SELECT round_id, tx_hash, answer, observations, status, reason, created_at FROM transmissions WHERE feed = ? ORDER BY id DESC LIMIT 1',
      )
      .get(key) as TransmitRecord | undefined
  }

  /** The last reserve report this node attempted for a feed (by its key). */
  lastReport(key: string): ReportRecord | undefined {
    return this.db
      .prepare(
        'SELECT token, tx_hash, backed, reason, status, detail, created_at FROM reports WHERE feed = ? ORDER BY id DESC LIMIT 1',
      )
      .get(key) as ReportRecord | undefined
  }

  /** This node's position in the feed's oracle set (−1: not a member, never transmits). */
  position(view: FeedView): number {
    const me = this.address.toLowerCase()
    return view.oracles.findIndex((o) => o.toLowerCase() === me)
  }

  /**
   * One tick for one feed: refresh the observation; if a round is due (by this node's own price or
   * the heartbeat) and it is this node's turn, collect and transmit in the background. Turns: the
   * node at position (round + 1) mod n first; every `fallbackMs` the round stays due, the next one.
   */
  step(view: FeedView): Promise<void> {
    if (this.stopped) return Promise.resolve()
    const work = this.stepOnce(view)
    this.stepping.add(work)
    return work.finally(() => this.stepping.delete(work))
  }

  private async stepOnce(view: FeedView): Promise<void> {
    const feed = view.settings.key
    const { clock } = this.chainOf(view.settings)
    const own = await this.observe(view.settings)
    const position = this.position(view)
    if (position < 0) {
      this.warnEvery(`member:${feed}`, { feed }, 'not in the feed oracle set: observing only')
      return
    }
    const roundId = view.round?.id ?? 0n
    let track = this.tracking.get(feed)
    if (!track || track.roundId !== roundId) {
      track = { roundId, dueSince: undefined }
      this.tracking.set(feed, track)
    }
    if (view.reserve) this.considerReport(view, view.reserve, position)
    // Nothing signed in the latest round's second can go into the next one: wait for the next second.
    if (view.round && own.observedAt <= view.round.updatedAt) return
    if (!roundDue(own.value, view, clock.stamp())) {
      track.dueSince = undefined
      return
    }
    const now = this.context.now()
    track.dueSince ??= now
    const turn = Math.floor((now - track.dueSince) / this.context.fallbackMs)
    const responsible = Number((roundId + 1n + BigInt(turn)) % BigInt(view.oracles.length))
    if (responsible !== position || this.inflight.has(feed)) return
    if ((this.transmitted.get(feed) ?? 0n) > roundId) return // ours is mined, the view is a tick behind
    if (this.stopped) return
    const work = this.transmit(view)
      .catch((error: unknown) => this.logger.error({ err: error, feed }, 'transmit failed'))
      .finally(() => this.inflight.delete(feed))
    this.inflight.set(feed, work)
  }

  /** Waits for the running step and background transmissions and reports (on stop, once `stopped` is set). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.stepping)
    await Promise.allSettled([...this.inflight.values(), ...this.reporting.values()])
  }

  /**
   * Reserve feeds: when a report is due (reporter.ts reportDue: first, status change, heartbeat) and
   * it is this node's turn, calls `ReserveReporter.report(token)` in the background. Turns follow the
   * feed's: the node at position `latestRound mod n` (the one that transmitted the latest round) first,
   * the next one every `fallbackMs` the report stays due.
   */
  private considerReport(view: FeedView, reserve: ReserveView, position: number): void {
    const feed = view.settings.key
    const { clock } = this.chainOf(view.settings)
    const roundId = view.round?.id ?? 0n
    const marker = `${roundId}:${reserve.last.sentAt}`
    let track = this.reportTracking.get(feed)
    if (!track || track.marker !== marker) {
      track = { marker, dueSince: undefined }
      this.reportTracking.set(feed, track)
    }
    // Without a round the token reads unbacked for want of a feed: the first report waits for one.
    const reason = view.round ? reportDue(reserve, clock.stamp()) : undefined
    if (!reason) {
      track.dueSince = undefined
      return
    }
    const now = this.context.now()
    track.dueSince ??= now
    const turn = Math.floor((now - track.dueSince) / this.context.fallbackMs)
    const responsible = Number((roundId + BigInt(turn)) % BigInt(view.oracles.length))
    if (responsible !== position || this.reporting.has(feed) || this.stopped) return
    if ((this.reported.get(feed) ?? -1) > reserve.last.sentAt) return // ours is mined, the view is a tick behind
    const work = this.report(view.settings, reserve, reason)
      .catch((error: unknown) => this.logger.error({ err: error, feed }, 'reserve report failed'))
      .finally(() => this.reporting.delete(feed))
    this.reporting.set(feed, work)
  }

  private async report(settings: FeedSettings, reserve: ReserveView, reason: ReportReason): Promise<void> {
    const send = this.queue(settings.chain, () => this.sendReport(settings, reserve, reason))
    await send
  }

  private async sendReport(
    settings: FeedSettings,
    reserve: ReserveView,
    reason: ReportReason,
  ): Promise<void> {
    const feed = settings.key
    const record = (fields: { status: string; tx?: Hex; backed?: boolean; detail?: string }) =>
      this.db
        .prepare(
          'INSERT INTO reports (feed, token, tx_hash, backed, reason, status, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          feed,
          reserve.token,
          fields.tx ?? null,
          fields.backed === undefined ? null : Number(fields.backed),
          reason,
          fields.status,
          fields.detail ?? null,
          Date.now(),
        )
    const wallet = this.walletOf(settings)
    let hash: Hex
    try {
      hash = await wallet.writeContract({
        address: reserve.reporter,
        abi: reserveReporterAbi,
        functionName: 'report',
        args: [reserve.token],
      })
    } catch (error) {
      const reverted = revertName(error)
      if (reverted === 'ReporterTooSoon') {
        // Another node (or anyone) reported since our view, or the chain's clock has not moved on
        // yet: the rate limit is the reporter's to enforce, nothing to retry here.
        record({ status: 'too-soon', detail: reverted })
        this.logEvery(
          'info',
          `too-soon:${feed}`,
          { feed, asset: settings.asset, reason },
          'reserve report not taken yet (ReporterTooSoon): trying again',
        )
        return
      }
      const detail = reverted ?? (error instanceof ViemBaseError ? error.shortMessage : String(error))
      record({ status: 'failed', detail })
      this.warnEvery(
        `report:${feed}`,
        { feed, asset: settings.asset, reason: detail },
        'reserve report refused',
      )
      return
    }
    const receipt = await this.chainOf(settings).clients.public.waitForTransactionReceipt({
      hash,
      timeout: 30_000,
    })
    if (receipt.status !== 'success') {
      record({ status: 'reverted', tx: hash, detail: 'reverted on chain (another report landed first?)' })
      this.logger.info({ feed, tx: hash }, 'reserve report reverted on chain: another report landed first')
      return
    }
    const [event] = parseEventLogs({
      abi: reserveReporterAbi,
      eventName: 'ReserveReported',
      logs: receipt.logs,
    })
    if (!event) throw new Error(`report ${hash} emitted no ReserveReported`)
    const { supply, reserves, backed, observedAt, messageId } = event.args
    this.reported.set(feed, Number(observedAt))
    record({ status: 'success', tx: hash, backed })
    this.db
      .prepare(
        'DELETE FROM reports WHERE feed = ? AND id < (SELECT MAX(id) - 1000 FROM reports WHERE feed = ?)',
      )
      .run(feed, feed)
    this.logger.info(
      {
        feed,
        asset: settings.asset,
        token: reserve.token,
        reason,
        backed,
        supply: formatUnits(supply, reserve.tokenDecimals),
        reserves: formatUnits(reserves, reserve.tokenDecimals),
        tx: hash,
        messageId,
      },
      backed ? 'reserves reported: backed' : 'reserves reported: NOT backed (breaker tripped, hub gate told)',
    )
  }

  private walletOf(settings: FeedSettings): ChainClients['wallet'] {
    const wallet = this.wallets.get(settings.chain)
    if (!wallet) throw new Error(`no wallet for chain "${settings.chain}"`)
    return wallet
  }

  /** Runs `task` after this key's earlier transactions on `chain` (they share its nonce there). */
  private queue<T>(chain: string, task: () => Promise<T>): Promise<T> {
    const run = (this.sending.get(chain) ?? Promise.resolve()).then(task)
    this.sending.set(
      chain,
      run.catch(() => undefined),
    )
    return run
  }

  /**
   * Own observation plus every valid one the peers give, one per oracle of the set, and the chain
   * time they were judged against (read after they came in: a peer may have stamped a second later).
   */
  async collect(view: FeedView): Promise<{ observations: SignedObservation[]; chainNow: number }> {
    const { settings } = view
    const { chainId, clock } = this.chainOf(settings)
    const own = await this.observe(settings)
    const timeout = Math.max(200, Math.min(1_000, this.context.fallbackMs / 2))
    const answers = await Promise.all(
      this.context.peerUrls().map((url) => fetchObservation(url, settings.address, chainId, timeout)),
    )
    const chainNow = await clock.freshStamp()
    const members = new Set(view.oracles.map((o) => o.toLowerCase()))
    const margin = Math.min(5, Math.floor(view.maxObservationAge / 4))
    const byOracle = new Map<string, SignedObservation>()
    for (const candidate of [own, ...answers]) {
      if (!candidate) continue
      const oracle = candidate.oracle.toLowerCase()
      if (!members.has(oracle) || candidate.value <= 0n) continue
      if (view.round && candidate.observedAt <= view.round.updatedAt) continue
      if (
        candidate.observedAt > chainNow ||
        chainNow - candidate.observedAt > view.maxObservationAge - margin
      )
        continue
      if ((byOracle.get(oracle)?.observedAt ?? -1) >= candidate.observedAt) continue
      if (candidate !== own) {
        const digest = observationDigest(chainId, settings.address, candidate.value, candidate.observedAt)
        const signer = await recoverMessageAddress({
          message: { raw: digest },
          signature: candidate.signature,
        }).catch(() => undefined)
        if (signer?.toLowerCase() !== oracle) continue
      }
      byOracle.set(oracle, {
        oracle: candidate.oracle,
        value: candidate.value,
        observedAt: candidate.observedAt,
        signature: candidate.signature,
      })
    }
    return { observations: [...byOracle.values()], chainNow }
  }

  private async transmit(view: FeedView): Promise<void> {
    const { settings } = view
    const feed = settings.key
    const { observations, chainNow } = await this.collect(view)
    const needed = 2 * view.faulty + 1
    if (observations.length < needed) {
      this.warnEvery(
        `quorum:${feed}`,
        { feed, asset: settings.asset, have: observations.length, needed },
        'too few fresh observations for a report',
      )
      return
    }
    const median = upperMedian(observations.map((o) => o.value))
    if (!roundDue(median, view, chainNow)) return // this node's own price disagrees with the others'
    const report = toReport(observations)
    // One transaction at a time per key and chain: feeds share the account's nonce there.
    await this.queue(settings.chain, () => this.send(view, report, median))
  }

  private async send(view: FeedView, report: Observation[], median: bigint): Promise<void> {
    const { settings } = view
    const feed = settings.key
    const record = (fields: Partial<TransmitRecord> & { status: string }) =>
      this.db
        .prepare(
          'INSERT INTO transmissions (feed, round_id, tx_hash, answer, observations, status, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          feed,
          fields.round_id ?? null,
          fields.tx_hash ?? null,
          median.toString(),
          report.length,
          fields.status,
          fields.reason ?? null,
          Date.now(),
        )
    const { public: client } = this.chainOf(settings).clients
    let hash: Hex
    try {
      hash = await this.walletOf(settings).writeContract({
        address: settings.address,
        abi: priceFeedAbi,
        functionName: 'transmit',
        args: [report],
      })
    } catch (error) {
      const reverted = revertName(error)
      if (reverted === 'PriceFeedObservationNotNewer') {
        // Another node moved the feed since our view: nothing to retry, the next tick sees the new round.
        record({ status: 'superseded', reason: reverted })
        this.logger.debug({ feed }, 'round already advanced by another node')
        return
      }
      const reason = reverted ?? (error instanceof ViemBaseError ? error.shortMessage : String(error))
      record({ status: 'failed', reason })
      this.warnEvery(`send:${feed}`, { feed, asset: settings.asset, reason }, 'transmit refused')
      return
    }
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: 30_000 })
    if (receipt.status !== 'success') {
      // Mined after another node's report for the same round: the feed refused ours as not newer.
      record({
        status: 'reverted',
        tx_hash: hash,
        reason: 'reverted on chain (another report landed first?)',
      })
      this.logger.info({ feed, tx: hash }, 'transmit reverted on chain: another report landed first')
      return
    }
    const [event] = parseEventLogs({ abi: priceFeedAbi, eventName: 'AnswerUpdated', logs: receipt.logs })
    const roundId = event?.args.roundId ?? 0n
    this.transmitted.set(feed, roundId)
    record({ status: 'success', tx_hash: hash, round_id: Number(roundId) })
    this.db
      .prepare(
        'DELETE FROM transmissions WHERE feed = ? AND id < (SELECT MAX(id) - 1000 FROM transmissions WHERE feed = ?)',
      )
      .run(feed, feed)
    this.logger.info(
      {
        feed,
        chain: settings.chain,
        asset: settings.asset,
        round: roundId.toString(),
        price: formatUnits(median, settings.decimals),
        observations: report.length,
        tx: hash,
      },
      'round transmitted',
    )
  }

  /** Logs a warning at most every 10 s per key (a stalled feed would otherwise log every tick). */
  private warnEvery(key: string, fields: Record<string, unknown>, message: string) {
    this.logEvery('warn', key, fields, message)
  }

  private logEvery(level: 'info' | 'warn', key: string, fields: Record<string, unknown>, message: string) {
    const now = Date.now()
    if (now - (this.warnedAt.get(key) ?? 0) < 10_000) return
    this.warnedAt.set(key, now)
    this.logger[level](fields, message)
  }
}

/** The name of the contract error a failed write reverted with, if it did. */
function revertName(error: unknown): string | undefined {
  if (!(error instanceof ViemBaseError)) return undefined
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
  return reverted instanceof ContractFunctionRevertedError ? reverted.data?.errorName : undefined
}

/** What GET /observation returns. */
export type ObservationAnswer = {
  oracle: Address
  feed: Address
  chainId: number
  asset: string
  value: string
  observedAt: number
  signature: Hex
  price: number
}

/** A peer's observation, or undefined when it is down, slow or answers nonsense. */
async function fetchObservation(
  url: string,
  feed: Address,
  chainId: number,
  timeoutMs: number,
): Promise<SignedObservation | undefined> {
  try {
    const response = await fetch(`${url}/observation?feed=${feed}&chainId=${chainId}`, {
      signal: AbortSignal.timeout(timeoutMs),
    })
    if (!response.ok) return undefined
    const body = (await response.json()) as Partial<ObservationAnswer>
    if (
      typeof body.oracle !== 'string' ||
      !isAddress(body.oracle) ||
      typeof body.value !== 'string' ||
      !/^-?\d+$/.test(body.value) ||
      !Number.isSafeInteger(body.observedAt) ||
      typeof body.signature !== 'string' ||
      !/^0x[0-9a-fA-F]+$/.test(body.signature)
    )
      return undefined
    return {
      oracle: body.oracle,
      value: BigInt(body.value),
      observedAt: body.observedAt!,
      signature: body.signature as Hex,
    }
  } catch {
    return undefined
  }
}
