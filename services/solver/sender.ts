import {
  type Abi,
  type Chain,
  type Hex,
  HttpRequestError,
  keccak256,
  type LocalAccount,
  type PublicClient,
  parseTransaction,
  TimeoutError,
  type TransactionReceipt,
  type Transport,
} from 'viem'
import type { Logger } from '../core/logger.js'
import type { Store } from '../core/store.js'
import { revertReason, shortReason } from '../keeper/sender.js'
import type { TxKind, TxRow } from './schema.js'

export type TxRequest = {
  kind: TxKind
  orderId?: Hex
  to: Hex
  data: Hex
  gas: bigint
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
}

export type Sent = { id: number; hash: Hex; nonce: number; sentAt: number; error?: string }

/** How a journaled transaction ended: mined (with its receipt), or not (dropped, refused). */
export type Settled = {
  tx: TxRow
  receipt?: TransactionReceipt
  /** The mined block's timestamp (seconds), when mined. */
  blockTime?: number
  reason?: string
}

/** A transaction with no receipt this long is looked up: re-sent if the node forgot it, or dropped. */
const RESEND_AFTER_MS = 15_000

/**
 * The solver's transactions on one chain: one account, one nonce sequence, rows of the shared `txs`
 * journal with this chain's id. Every transaction is signed and written before it is broadcast
 * (`journal` writes the caller's rows — an order's fill — in the same SQLite transaction). A
 * broadcast that never got an answer (transport error, timeout) leaves the row `signed`: the very
 * same bytes are sent again later, so the fill it carries can be mined once at most; a node that
 * answered with a refusal fails the row.
 */
export class ChainSender {
  private nonce: number | undefined
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly db: Store,
    readonly client: PublicClient<Transport, Chain>,
    private readonly account: LocalAccount,
    readonly chainId: number,
    private readonly logger: Logger,
    private readonly errorAbi: Abi,
  ) {}

  /** Signs, journals and broadcasts, one at a time. */
  send(request: TxRequest, journal?: (txId: number, hash: Hex) => void): Promise<Sent> {
    const run = this.queue.then(() => this.sendNow(request, journal))
    this.queue = run.catch(() => undefined)
    return run
  }

  private async sendNow(request: TxRequest, journal?: (txId: number, hash: Hex) => void): Promise<Sent> {
    this.nonce ??= await this.client.getTransactionCount({
      address: this.account.address,
      blockTag: 'pending',
    })
    const nonce = this.nonce
    const raw = await this.account.signTransaction({
      chainId: this.chainId,
      type: 'eip1559',
      to: request.to,
      data: request.data,
      nonce,
      gas: request.gas,
      maxFeePerGas: request.maxFeePerGas,
      maxPriorityFeePerGas: request.maxPriorityFeePerGas,
    })
    const hash = keccak256(raw)
    const id = this.db.transaction(() => {
      const { lastInsertRowid } = this.db
        .prepare(
          `INSERT INTO txs (chain_id, kind, order_id, nonce, raw_tx, hash, status, created_at)
           VALUES (?, ?, ?, ?, ?, ?, 'signed', ?)`,
        )
        .run(this.chainId, request.kind, request.orderId ?? null, nonce, raw, hash, Date.now())
      journal?.(Number(lastInsertRowid), hash)
      return Number(lastInsertRowid)
    })()
    // The nonce is taken by a journaled transaction from here on, whatever the broadcast does.
    this.nonce = nonce + 1
    try {
      await this.client.sendRawTransaction({ serializedTransaction: raw })
    } catch (error) {
      if (unanswered(error)) {
        this.logger.warn(
          { tx: hash, err: shortReason(error) },
          'broadcast unanswered: will send the same bytes again',
        )
        return { id, hash, nonce, sentAt: Date.now() }
      }
      this.nonce = undefined
      const reason = `broadcast refused: ${shortReason(error)}`
      this.fail(id, reason)
      return { id, hash, nonce, sentAt: Date.now(), error: reason }
    }
    const sentAt = Date.now()
    this.db.prepare("UPDATE txs SET status = 'sent', sent_at = ? WHERE id = ?").run(sentAt, id)
    return { id, hash, nonce, sentAt }
  }

  private fail(id: number, reason: string): void {
    this.db
      .prepare("UPDATE txs SET status = 'failed', reason = ?, done_at = ? WHERE id = ?")
      .run(reason, Date.now(), id)
  }

  /** The transactions of this chain in flight, in nonce order. */
  inFlight(): TxRow[] {
    return this.db
      .prepare("SELECT * FROM txs WHERE chain_id = ? AND status IN ('signed', 'sent') ORDER BY nonce")
      .all(this.chainId) as TxRow[]
  }

  /**
   * Reads the receipts of every transaction in flight and records how each ended; a `signed` one (its
   * broadcast unanswered, or a crash before it) is sent again with the same bytes at once, a `sent` one
   * the node has forgotten after a while too (at once when `recovering`, after a restart: the node may
   * have lost it meanwhile). `onSettled` runs inside the SQLite transaction that
   * records the end, so the order it was for ends in the same commit.
   */
  async settle(onSettled: (settled: Settled) => void = () => {}, { recovering = false } = {}): Promise<void> {
    for (const tx of this.inFlight()) {
      const receipt = await this.client.getTransactionReceipt({ hash: tx.hash }).catch(() => undefined)
      if (!receipt) {
        const stale = Date.now() - (tx.sent_at ?? tx.created_at) > RESEND_AFTER_MS
        if (recovering || tx.status === 'signed' || stale) await this.lookAgain(tx, onSettled)
        continue
      }
      const reason =
        receipt.status === 'success' ? undefined : `reverted on chain: ${await this.replay(tx, receipt)}`
      const status = reason ? 'failed' : 'confirmed'
      const { timestamp } = await this.client.getBlock({ blockNumber: receipt.blockNumber })
      this.db.transaction(() => {
        this.db
          .prepare('UPDATE txs SET status = ?, reason = ?, block = ?, gas_used = ?, done_at = ? WHERE id = ?')
          .run(
            status,
            reason ?? null,
            Number(receipt.blockNumber),
            receipt.gasUsed.toString(),
            Date.now(),
            tx.id,
          )
        onSettled({ tx: { ...tx, status }, receipt, blockTime: Number(timestamp), reason })
      })()
    }
  }

  /** No receipt: the node may not have it (send the same bytes again), or another transaction took its nonce. */
  private async lookAgain(tx: TxRow, onSettled: (settled: Settled) => void): Promise<void> {
    const known = await this.client.getTransaction({ hash: tx.hash }).catch(() => undefined)
    if (known) return
    const used = await this.client.getTransactionCount({ address: this.account.address, blockTag: 'latest' })
    if (used > tx.nonce) {
      // Mined meanwhile? A receipt now means the receipt read above raced the block.
      if (await this.client.getTransactionReceipt({ hash: tx.hash }).catch(() => undefined)) return
      const reason = 'dropped: its nonce was used by another transaction'
      this.db.transaction(() => {
        this.fail(tx.id, reason)
        onSettled({ tx: { ...tx, status: 'failed' }, reason })
      })()
      return
    }
    try {
      await this.client.sendRawTransaction({ serializedTransaction: tx.raw_tx })
    } catch (error) {
      const reason = shortReason(error)
      if (!/already known|already imported/i.test(reason)) {
        this.logger.warn({ tx: tx.hash, err: reason }, 'could not send a journaled transaction again')
        return
      }
    }
    this.logger.info({ tx: tx.hash, kind: tx.kind, nonce: tx.nonce }, 'journaled transaction sent again')
    this.db.prepare("UPDATE txs SET status = 'sent', sent_at = ? WHERE id = ?").run(Date.now(), tx.id)
  }

  /** Why a mined transaction reverted: the same call replayed on the state of its block. */
  private async replay(tx: TxRow, receipt: TransactionReceipt): Promise<string> {
    const parsed = parseTransaction(tx.raw_tx)
    try {
      await this.client.call({
        account: this.account.address,
        to: parsed.to ?? undefined,
        data: parsed.data,
        blockNumber: receipt.blockNumber,
      })
      return 'reverted (the replay succeeds: the state it saw inside its block differed)'
    } catch (error) {
      return revertReason(error, this.errorAbi)
    }
  }
}

/** The node never answered (the request may or may not have reached it): not a refusal. */
function unanswered(error: unknown): boolean {
  const e = error as { walk?: (fn: (e: unknown) => boolean) => unknown }
  return Boolean(e.walk?.((inner) => inner instanceof HttpRequestError || inner instanceof TimeoutError))
}
