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
import type { ChainClients } from '../../sdk/client.js'
import {
  type Observation,
  observationDigest,
  signObservation,
  toReport,
} from '../../sdk/oracles/observation.js'
import type { Logger } from '../core/logger.js'
import type { Store } from '../core/store.js'
import type { PriceSource } from './sources.js'

/** A feed as the nodes work with it (decimals known). */
export type FeedSettings = {
  address: Address
  asset: string
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

export type NodeContext = {
  chainId: number
  clients: ChainClients
  clock: Clock
  source: PriceSource
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
  private readonly tracking = new Map<string, { roundId: bigint; dueSince: number | undefined }>()
  private readonly inflight = new Map<string, Promise<void>>()
  private readonly stepping = new Set<Promise<void>>()
  /**
   * The round this node last created per feed (this run): it does not transmit again until its view
   * shows it. The history, with every attempt, is the transmissions table.
   */
  private readonly transmitted = new Map<string, bigint>()
  private sending: Promise<unknown> = Promise.resolve()
  private readonly warnedAt = new Map<string, number>()

  constructor(
    readonly account: LocalAccount,
    private readonly wallet: ChainClients['wallet'],
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
  }

  /** The source price of an asset now, with this node's shock applied. */
  sourcePrice(asset: string): number {
    return this.context.source.price(asset, this.context.clock.now()) * this.shock(asset)
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
    const feed = settings.address.toLowerCase()
    // One signature at a time per feed: two concurrent callers must not sign two values for one stamp.
    for (let busy = this.observing.get(feed); busy; busy = this.observing.get(feed))
      await busy.catch(() => undefined)
    const last = this.latest.get(feed)
    const observedAt = this.context.clock.stamp()
    if (last && observedAt <= last.observedAt) return last
    const work = (async () => {
      const price = this.sourcePrice(settings.asset)
      const value = toUnits(price, settings.decimals)
      const signed = await signObservation(
        this.account,
        this.context.chainId,
        settings.address,
        value,
        observedAt,
      )
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

  lastObservation(feed: Address) {
    return this.latest.get(feed.toLowerCase())
  }

  lastTransmit(feed: Address): TransmitRecord | undefined {
    return this.db
      .prepare(
        'SELECT round_id, tx_hash, answer, observations, status, reason, created_at FROM transmissions WHERE feed = ? ORDER BY id DESC LIMIT 1',
      )
      .get(feed.toLowerCase()) as TransmitRecord | undefined
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
    const feed = view.settings.address.toLowerCase()
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
    // Nothing signed in the latest round's second can go into the next one: wait for the next second.
    if (view.round && own.observedAt <= view.round.updatedAt) return
    if (!roundDue(own.value, view, this.context.clock.stamp())) {
      track.dueSince = undefined
      return
    }
    const now = this.context.clock.now()
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

  /** Waits for the running step and background transmissions (on stop, once `stopped` is set). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.stepping)
    await Promise.allSettled(this.inflight.values())
  }

  /**
   * Own observation plus every valid one the peers give, one per oracle of the set, and the chain
   * time they were judged against (read after they came in: a peer may have stamped a second later).
   */
  async collect(view: FeedView): Promise<{ observations: SignedObservation[]; chainNow: number }> {
    const { settings } = view
    const own = await this.observe(settings)
    const timeout = Math.max(200, Math.min(1_000, this.context.fallbackMs / 2))
    const answers = await Promise.all(
      this.context.peerUrls().map((url) => fetchObservation(url, settings.address, timeout)),
    )
    const chainNow = await this.context.clock.freshStamp()
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
        const digest = observationDigest(
          this.context.chainId,
          settings.address,
          candidate.value,
          candidate.observedAt,
        )
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
    const feed = settings.address.toLowerCase()
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
    // One transaction at a time per key: feeds share the account's nonce.
    const send = this.sending.then(() => this.send(view, report, median))
    this.sending = send.catch(() => undefined)
    await send
  }

  private async send(view: FeedView, report: Observation[], median: bigint): Promise<void> {
    const { settings } = view
    const feed = settings.address.toLowerCase()
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
    const { public: client } = this.context.clients
    let hash: Hex
    try {
      hash = await this.wallet.writeContract({
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
    const now = Date.now()
    if (now - (this.warnedAt.get(key) ?? 0) < 10_000) return
    this.warnedAt.set(key, now)
    this.logger.warn(fields, message)
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
  timeoutMs: number,
): Promise<SignedObservation | undefined> {
  try {
    const response = await fetch(`${url}/observation?feed=${feed}`, {
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
