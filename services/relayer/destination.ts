import {
  type Account,
  type Chain,
  createPublicClient,
  decodeEventLog,
  type Hex,
  http,
  keccak256,
  type LocalAccount,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
} from 'viem'
import { inboxAbi } from '../../sdk/abi/Inbox.js'
import { pollingIntervalMs, viemChain } from '../../sdk/client.js'
import { type ChainEntry, type Manifest, verifierContractName } from '../../sdk/manifest.js'
import { batchRoot } from '../../sdk/messaging/batch.js'
import { committeeProofs, deliveryCalldata, laneBatchDigest } from '../../sdk/messaging/delivery.js'
import { executionStateName } from '../../sdk/messaging/executionState.js'
import type { Logger } from '../core/logger.js'
import { backoffMs, sleep } from '../core/sleep.js'
import type { Store } from '../core/store.js'
import { CommitteeView, collectQuorum } from './quorum.js'
import { explainFailure } from './reasons.js'
import type { BatchRow } from './schema.js'

type Pending = { id: Hex; source_chain: number; nonce: number; encoded: Hex; attempts: number | null }
type Batch = { source: ChainEntry; from: number; messages: Pending[] }

/** How often failed messages are checked for a successful retry by someone else. */
const RECONCILE_EVERY_MS = 5_000
/** Delivery transactions per destination awaiting their receipts at once. */
const MAX_INFLIGHT = 4

/**
 * Delivers everything bound for one chain, one transaction at a time (the relayer account's nonce
 * on that chain is ours alone). Each batch is journaled — signed transaction bytes included —
 * before it is broadcast, so after a crash at any point `recover` finishes it: the same bytes are
 * re-sent, or the receipt is read, and the Inbox's exactly-once state settles the rest.
 */
export class DestinationWorker {
  private readonly client: PublicClient<Transport, Chain>
  private readonly inbox: Hex
  private idle: AbortController | undefined
  /** Batches being settled (receipt awaited), by batch id. */
  private readonly inflight = new Map<number, Promise<void>>()
  private readonly committees = new Map<string, CommitteeView>()

  constructor(
    private readonly db: Store,
    private readonly dest: ChainEntry,
    private readonly manifest: Manifest,
    private readonly account: LocalAccount,
    private readonly validatorUrls: readonly string[],
    private readonly logger: Logger,
    private readonly maxBatch: number,
  ) {
    this.client = createPublicClient({
      chain: viemChain(dest),
      transport: http(dest.rpcUrl),
      cacheTime: 0,
      pollingInterval: Math.min(50, pollingIntervalMs(dest)),
    })
    this.inbox = dest.contracts.Inbox as Hex
  }

  async run(signal: AbortSignal): Promise<void> {
    let failures = 0
    let reconciledAt = 0
    while (!signal.aborted) {
      try {
        this.recover()
        if (Date.now() - reconciledAt > RECONCILE_EVERY_MS) {
          reconciledAt = Date.now()
          await this.reconcileFailures()
        }
        const worked = await this.step()
        failures = 0
        if (!worked) await this.idleWait(signal)
      } catch (error) {
        this.logger.warn(
          { dest: this.dest.name, err: (error as Error).message },
          'relay step failed, backing off',
        )
        await sleep(backoffMs(failures++), signal)
      }
    }
    await Promise.allSettled(this.inflight.values())
  }

  /**
   * Failed messages can be retried by anyone (`isthmus retry`), so their state on the chain is
   * the truth: read it for every failure we hold and record the ones that have since succeeded.
   */
  private async reconcileFailures(): Promise<void> {
    const failed = this.db
      .prepare(
        "SELECT m.id, m.source_chain, m.nonce FROM deliveries d JOIN messages m ON m.id = d.id WHERE m.dest_chain = ? AND d.status = 'failure'",
      )
      .all(this.dest.chainId) as { id: Hex; source_chain: number; nonce: number }[]
    for (const message of failed) {
      const state = await this.client.readContract({
        address: this.inbox,
        abi: inboxAbi,
        functionName: 'executionState',
        args: [BigInt(message.source_chain), BigInt(message.nonce)],
      })
      if (executionStateName(state) !== 'success') continue
      this.db
        .prepare("UPDATE deliveries SET status = 'success', reason = NULL, updated_at = ? WHERE id = ?")
        .run(Date.now(), message.id)
    }
  }

  private committeeFor(verifier: Hex): CommitteeView {
    let view = this.committees.get(verifier)
    if (!view) {
      view = new CommitteeView(this.client, verifier)
      this.committees.set(verifier, view)
    }
    return view
  }

  /** New messages are final: stop idling now rather than at the next poll. */
  wake(): void {
    this.idle?.abort()
  }

  private async idleWait(signal: AbortSignal): Promise<void> {
    this.idle = new AbortController()
    await sleep(500, AbortSignal.any([signal, this.idle.signal]))
    this.idle = undefined
  }

  /** Settles, in the background, every open batch nobody is settling: left by a crash, or by a failed settle. */
  recover(): void {
    const open = this.db
      .prepare("SELECT * FROM batches WHERE dest_chain = ? AND status IN ('signed', 'sent') ORDER BY id")
      .all(this.dest.chainId) as BatchRow[]
    for (const batch of open) if (!this.inflight.has(batch.id)) this.track(batch)
  }

  /** Relays the next batch, if any. Returns whether there was one. */
  async step(): Promise<boolean> {
    const batch = this.nextBatch()
    if (!batch) return false
    const { source, from, messages } = batch
    const to = from + messages.length - 1
    const ids = messages.map((m) => m.id)
    const root = batchRoot(ids)
    const verifier = this.dest.contracts[verifierContractName(source.name)] as Hex
    let prepared: { data: Hex; quorum: Awaited<ReturnType<typeof collectQuorum>> }
    const t0 = performance.now()
    try {
      const quorum = await collectQuorum({
        validatorUrls: this.validatorUrls,
        query: { source: source.chainId, dest: this.dest.chainId, from, to },
        root,
        digestFor: (epoch) => laneBatchDigest(source, this.dest, { epoch, root, leafCount: ids.length }),
        committee: this.committeeFor(verifier),
      })
      const proofs = committeeProofs(ids, quorum.epoch, quorum.signatures)
      const data = deliveryCalldata(
        messages.map((m) => m.encoded),
        proofs,
      )
      prepared = { data, quorum }
    } catch (error) {
      this.postpone(messages, (error as Error).message)
      throw error
    }
    await this.submit(batch, to, root, prepared.data, prepared.quorum, performance.now() - t0)
    return true
  }

  private async submit(
    batch: Batch,
    to: number,
    root: Hex,
    data: Hex,
    quorum: { epoch: number; signers: Hex[]; signatures: Hex[] },
    quorumMs: number,
  ) {
    const { source, from, messages } = batch
    const account = this.account as Account & LocalAccount
    let raw: Hex
    let nonce: number
    const t1 = performance.now()
    try {
      const [gas, fees, pendingNonce] = await Promise.all([
        this.client.estimateGas({ account, to: this.inbox, data }),
        this.client.estimateFeesPerGas(),
        this.client.getTransactionCount({ address: account.address, blockTag: 'pending' }),
      ])
      nonce = pendingNonce
      raw = await account.signTransaction({
        chainId: this.dest.chainId,
        type: 'eip1559',
        to: this.inbox,
        data,
        nonce,
        gas: (gas * 13n) / 10n,
        maxFeePerGas: fees.maxFeePerGas * 2n,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
      })
    } catch (error) {
      this.postpone(messages, `could not prepare the delivery: ${(error as Error).message.split('\n')[0]}`)
      throw error
    }
    const now = Date.now()
    const hash = keccak256(raw)
    const batchId = this.db.transaction(() => {
      const { lastInsertRowid } = this.db
        .prepare(
          `INSERT INTO batches (source_chain, dest_chain, first_nonce, last_nonce, epoch, root, signers, signatures,
             raw_tx, tx_hash, tx_nonce, status, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'signed', ?, ?)`,
        )
        .run(
          source.chainId,
          this.dest.chainId,
          from,
          to,
          quorum.epoch,
          root,
          JSON.stringify(quorum.signers),
          JSON.stringify(quorum.signatures),
          raw,
          hash,
          nonce,
          now,
          now,
        )
      const upsert = this.db.prepare(
        `INSERT INTO deliveries (id, status, batch_id, attempts, updated_at) VALUES (?, 'submitted', ?, 1, ?)
         ON CONFLICT (id) DO UPDATE SET status = 'submitted', batch_id = excluded.batch_id,
           attempts = attempts + 1, updated_at = excluded.updated_at`,
      )
      for (const m of messages) upsert.run(m.id, lastInsertRowid, now)
      return Number(lastInsertRowid)
    })()
    const prepareMs = performance.now() - t1
    const t2 = performance.now()
    const sent = this.broadcast(batchId, raw).then(
      () =>
        this.logger.info(
          { dest: this.dest.name, batch: batchId, quorumMs, prepareMs, broadcastMs: performance.now() - t2 },
          'batch sent',
        ),
      (error: Error) =>
        this.logger.warn(
          { batch: batchId, err: error.message },
          'broadcast failed; settling from the journal',
        ),
    )
    await sent
    // The receipt is awaited in the background, so the next batch need not wait a block for it.
    this.track(this.db.prepare('SELECT * FROM batches WHERE id = ?').get(batchId) as BatchRow)
    if (this.inflight.size >= MAX_INFLIGHT) await Promise.race(this.inflight.values())
  }

  private track(batch: BatchRow): void {
    const settling = this.settle(batch)
      .catch((error: Error) =>
        this.logger.warn(
          { dest: this.dest.name, batch: batch.id, err: error.message },
          'settling failed; retried from the journal',
        ),
      )
      .finally(() => this.inflight.delete(batch.id))
    this.inflight.set(batch.id, settling)
  }

  private async broadcast(batchId: number, raw: Hex): Promise<void> {
    await this.client.sendRawTransaction({ serializedTransaction: raw })
    const now = Date.now()
    this.db.transaction(() => {
      this.db.prepare("UPDATE batches SET status = 'sent', updated_at = ? WHERE id = ?").run(now, batchId)
      this.db
        .prepare('UPDATE deliveries SET sent_at = COALESCE(sent_at, ?) WHERE batch_id = ?')
        .run(now, batchId)
    })()
  }

  /** Brings a journaled batch to an end state from whatever the chain says about it now. */
  private async settle(batch: BatchRow): Promise<void> {
    let receipt = await this.client.getTransactionReceipt({ hash: batch.tx_hash }).catch(() => undefined)
    if (!receipt) {
      const known = await this.client.getTransaction({ hash: batch.tx_hash }).catch(() => undefined)
      if (!known) {
        const accountNonce = await this.client.getTransactionCount({
          address: this.account.address,
          blockTag: 'pending',
        })
        if (accountNonce > batch.tx_nonce)
          return this.drop(batch, 'its nonce was used by another transaction')
        await this.broadcast(batch.id, batch.raw_tx) // journaled but never sent (or dropped): the same bytes again
      }
      receipt = await this.client.waitForTransactionReceipt({ hash: batch.tx_hash, timeout: 120_000 })
    }
    this.record(batch, receipt)
  }

  private record(batch: BatchRow, receipt: TransactionReceipt): void {
    const now = Date.now()
    if (receipt.status !== 'success') {
      this.logger.warn({ batch: batch.id, tx: receipt.transactionHash }, 'delivery transaction reverted')
      this.db.transaction(() => {
        this.db
          .prepare("UPDATE batches SET status = 'reverted', gas_used = ?, updated_at = ? WHERE id = ?")
          .run(Number(receipt.gasUsed), now, batch.id)
        this.retryLater(batch.id, 'the delivery transaction reverted', now)
      })()
      return
    }
    const outcomes = new Map<Hex, { status: 'success' | 'failure'; reason: string | null }>()
    for (const log of receipt.logs) {
      if (log.address.toLowerCase() !== this.inbox.toLowerCase()) continue
      const event = decodeEventLog({ abi: inboxAbi, data: log.data, topics: log.topics, strict: false })
      if (event.eventName === 'ExecutionStateChanged' && event.args.messageId) {
        const failed = executionStateName(event.args.state ?? 0) === 'failure'
        outcomes.set(event.args.messageId, {
          status: failed ? 'failure' : 'success',
          reason: failed ? explainFailure(event.args.returnData ?? '0x') : null,
        })
      }
      if (event.eventName === 'ExecutionSkipped' && event.args.messageId) {
        const failed = executionStateName(event.args.state ?? 0) === 'failure'
        outcomes.set(event.args.messageId, {
          status: failed ? 'failure' : 'success',
          reason: failed ? 'executed earlier by someone else, and failed: see its first execution' : null,
        })
      }
    }
    this.db.transaction(() => {
      this.db
        .prepare("UPDATE batches SET status = 'mined', gas_used = ?, updated_at = ? WHERE id = ?")
        .run(Number(receipt.gasUsed), now, batch.id)
      const update = this.db.prepare(
        'UPDATE deliveries SET status = ?, reason = ?, done_at = ?, dest_tx = ?, dest_block = ?, updated_at = ? WHERE id = ?',
      )
      for (const [id, outcome] of outcomes) {
        update.run(
          outcome.status,
          outcome.reason,
          now,
          receipt.transactionHash,
          Number(receipt.blockNumber),
          now,
          id,
        )
      }
    })()
    this.logger.info(
      { dest: this.dest.name, batch: batch.id, messages: outcomes.size, gas: receipt.gasUsed },
      'batch delivered',
    )
  }

  private drop(batch: BatchRow, why: string): void {
    const now = Date.now()
    this.db.transaction(() => {
      this.db.prepare("UPDATE batches SET status = 'dropped', updated_at = ? WHERE id = ?").run(now, batch.id)
      this.retryLater(batch.id, `batch transaction dropped: ${why}`, now, 0)
    })()
  }

  private retryLater(batchId: number, reason: string, now: number, delay = 1_000): void {
    this.db
      .prepare(
        "UPDATE deliveries SET status = 'retrying', reason = ?, next_attempt_at = ?, updated_at = ? WHERE batch_id = ? AND status = 'submitted'",
      )
      .run(reason, now + delay, now, batchId)
  }

  /** Marks messages to be tried again later, with exponential backoff per message. */
  private postpone(messages: readonly Pending[], reason: string): void {
    const now = Date.now()
    const upsert = this.db.prepare(
      `INSERT INTO deliveries (id, status, attempts, next_attempt_at, reason, updated_at) VALUES (?, 'retrying', 1, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET status = 'retrying', attempts = attempts + 1,
         next_attempt_at = excluded.next_attempt_at, reason = excluded.reason, updated_at = excluded.updated_at`,
    )
    this.db.transaction(() => {
      for (const m of messages) upsert.run(m.id, now + backoffMs(m.attempts ?? 0, 25, 5_000), reason, now)
    })()
  }

  /** The oldest waiting messages of one lane, consecutive nonces only (a batch is a nonce range). */
  private nextBatch(): Batch | undefined {
    const rows = this.db
      .prepare(
        `SELECT m.id, m.source_chain, m.nonce, m.encoded, d.attempts FROM messages m
         LEFT JOIN deliveries d ON d.id = m.id
         WHERE m.dest_chain = ? AND (d.id IS NULL OR (d.status = 'retrying' AND d.next_attempt_at <= ?))
         ORDER BY m.final_at, m.source_chain, m.nonce LIMIT 512`,
      )
      .all(this.dest.chainId, Date.now()) as Pending[]
    const first = rows[0]
    if (!first) return undefined
    const lane = rows.filter((r) => r.source_chain === first.source_chain).sort((a, b) => a.nonce - b.nonce)
    const start = lane.findIndex((r) => r.id === first.id)
    const messages: Pending[] = []
    for (const row of lane.slice(start)) {
      if (messages.length === this.maxBatch || row.nonce !== first.nonce + messages.length) break
      messages.push(row)
    }
    const source = this.manifest.chains.find((c) => c.chainId === first.source_chain)!
    return { source, from: first.nonce, messages }
  }
}
