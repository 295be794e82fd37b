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
import type { Logger } from './logger.js'
import { revertReason, shortReason } from './revertReason.js'
import type { Store } from './store.js'
import type { JournaledTx, TxsTable } from './txsTable.js'

export type TxRequest<Kind extends string = string> = {
  kind: Kind
  /** What the transaction is for (an account, an order id), written to the table's `subject` column. */
  subject?: string
  to: Hex
  data: Hex
  gas: bigint
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
}

export type Sent = { id: number; hash: Hex; nonce: number; sentAt: number; error?: string }

/** How a journaled transaction ended: mined (with its receipt), or not (dropped, refused). */
export type Settled<Row extends JournaledTx = JournaledTx> = {
  tx: Row
  receipt?: TransactionReceipt
  /** The mined block's timestamp (seconds), when mined and the sender reads block times. */
  blockTime?: number
  reason?: string
}

export type TxSenderOptions = {
  db: Store
  /** The service's `txs` table (see `createTxsSql`). */
  table: TxsTable
  client: PublicClient<Transport, Chain>
  account: LocalAccount
  chainId: number
  logger: Logger
  /** Names the errors of the contracts it calls, for the reason of a revert. */
  errorAbi: Abi
  /** A transaction with no receipt this long is looked up: sent again if the node forgot it, or dropped. */
  resendAfterMs: number
  /**
   * A broadcast the node never answered (transport error, timeout: it may have reached the node).
   * `resend`: the row stays `signed`, its nonce taken, and the very same bytes go out again on the next
   * `settle`, so what it carries is mined once at most; only a refusal fails it. `fail`: it fails like
   * a refusal, and the nonce is asked of the node again.
   */
  unanswered: 'resend' | 'fail'
  /** Reads the block time of every mined transaction, for `Settled.blockTime`. */
  blockTimes?: boolean
}

/**
 * A service's transactions on one chain: one account, one nonce sequence. Every transaction is signed
 * here and written to the `txs` journal before it is broadcast (`journal` lets the caller write its own
 * rows — what the transaction is for — in the same SQLite transaction), so a crash anywhere leaves a row
 * that `settle` finishes: the same bytes are sent again, or the receipt is read; never signed anew.
 * Sends are serialized, so nonces never leave gaps.
 */
export class TxSender<Row extends JournaledTx = JournaledTx> {
  private nonce: number | undefined
  private queue: Promise<unknown> = Promise.resolve()
  /** The rows of this chain: a `chain_id = ?` filter when the table holds several chains. */
  private readonly scope: { sql: string; params: number[] }

  constructor(private readonly options: TxSenderOptions) {
    this.scope = options.table.perChain
      ? { sql: 'chain_id = ? AND ', params: [options.chainId] }
      : { sql: '', params: [] }
  }

  /** Reads the account's next nonce now, so the first transaction does not wait for it. */
  prime(): Promise<void> {
    return this.enqueue(async () => {
      this.nonce ??= await this.nonceOf('pending')
    })
  }

  /** Signs, journals and broadcasts, one at a time. A failed broadcast is returned as `error` (the row failed). */
  send(request: TxRequest<Row['kind']>, journal?: (txId: number, hash: Hex) => void): Promise<Sent> {
    return this.enqueue(() => this.sendNow(request, journal))
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task)
    this.queue = run.catch(() => undefined)
    return run
  }

  private async sendNow(request: TxRequest, journal?: (txId: number, hash: Hex) => void): Promise<Sent> {
    const { db, client, account, logger, unanswered } = this.options
    this.nonce ??= await this.nonceOf('pending')
    const nonce = this.nonce
    const raw = await account.signTransaction({
      chainId: this.options.chainId,
      type: 'eip1559',
      to: request.to,
      data: request.data,
      nonce,
      gas: request.gas,
      maxFeePerGas: request.maxFeePerGas,
      maxPriorityFeePerGas: request.maxPriorityFeePerGas,
    })
    const hash = keccak256(raw)
    const id = db.transaction(() => {
      const id = this.insert(request, nonce, raw, hash)
      journal?.(id, hash)
      return id
    })()
    // The nonce is taken by a journaled transaction from here on, unless the node refuses it.
    this.nonce = nonce + 1
    try {
      await client.sendRawTransaction({ serializedTransaction: raw })
    } catch (error) {
      if (unanswered === 'resend' && isUnanswered(error)) {
        logger.warn(
          { tx: hash, err: shortReason(error) },
          'broadcast unanswered: will send the same bytes again',
        )
        return { id, hash, nonce, sentAt: Date.now() }
      }
      // The nonce may or may not be used now: ask the node again before the next transaction.
      this.nonce = undefined
      // Under `fail` the node may not have answered at all: failed, not necessarily refused.
      const reason = `broadcast ${unanswered === 'resend' ? 'refused' : 'failed'}: ${shortReason(error)}`
      this.fail(id, reason)
      return { id, hash, nonce, sentAt: Date.now(), error: reason }
    }
    const sentAt = Date.now()
    this.markSent(id, sentAt)
    return { id, hash, nonce, sentAt }
  }

  private insert(request: TxRequest, nonce: number, raw: Hex, hash: Hex): number {
    const { table } = this.options
    const chain = table.perChain ? 'chain_id, ' : ''
    const { lastInsertRowid } = this.options.db
      .prepare(
        `INSERT INTO txs (${chain}kind, ${table.subject}, nonce, raw_tx, hash, status, created_at)
         VALUES (${chain && '?, '}?, ?, ?, ?, ?, 'signed', ?)`,
      )
      .run(...this.scope.params, request.kind, request.subject ?? null, nonce, raw, hash, Date.now())
    return Number(lastInsertRowid)
  }

  private markSent(id: number, at: number): void {
    this.options.db.prepare("UPDATE txs SET status = 'sent', sent_at = ? WHERE id = ?").run(at, id)
  }

  private fail(id: number, reason: string): void {
    this.options.db
      .prepare("UPDATE txs SET status = 'failed', reason = ?, done_at = ? WHERE id = ?")
      .run(reason, Date.now(), id)
  }

  private nonceOf(blockTag: 'pending' | 'latest'): Promise<number> {
    return this.options.client.getTransactionCount({ address: this.options.account.address, blockTag })
  }

  private receiptOf(hash: Hex): Promise<TransactionReceipt | undefined> {
    return this.options.client.getTransactionReceipt({ hash }).catch(() => undefined)
  }

  /** The transactions of this chain in flight, in nonce order. */
  inFlight(): Row[] {
    return this.options.db
      .prepare(`SELECT * FROM txs WHERE ${this.scope.sql}status IN ('signed', 'sent') ORDER BY nonce`)
      .all(...this.scope.params) as Row[]
  }

  /**
   * Reads the receipts of every transaction in flight and records how each ended. One without a
   * receipt is looked up again — sent again with the same bytes if the node does not have it, failed as
   * dropped if its nonce was taken: a `signed` one (its broadcast unanswered, or a crash before it) at
   * once, a `sent` one after `resendAfterMs`, and every one when `recovering` (after a restart: the
   * node may have lost it meanwhile). `onSettled` runs inside the SQLite transaction that records the
   * end, so what the transaction was for (a liquidation's row, an order) ends in the same commit.
   */
  async settle(
    onSettled: (settled: Settled<Row>) => void = () => {},
    { recovering = false } = {},
  ): Promise<void> {
    const open = this.inFlight()
    if (!open.length) return
    const receipts = await Promise.all(open.map((tx) => this.receiptOf(tx.hash)))
    for (const [i, tx] of open.entries()) {
      const receipt = receipts[i]
      if (receipt) {
        await this.record(tx, receipt, onSettled)
      } else if (recovering || tx.status === 'signed' || this.stale(tx)) {
        await this.lookAgain(tx, onSettled)
      }
    }
  }

  private stale(tx: Row): boolean {
    return Date.now() - (tx.sent_at ?? tx.created_at) > this.options.resendAfterMs
  }

  private async record(tx: Row, receipt: TransactionReceipt, onSettled: (settled: Settled<Row>) => void) {
    const { db, client } = this.options
    const reason =
      receipt.status === 'success' ? undefined : `reverted on chain: ${await this.replay(tx, receipt)}`
    const status = reason ? 'failed' : 'confirmed'
    const blockTime = this.options.blockTimes
      ? Number((await client.getBlock({ blockNumber: receipt.blockNumber })).timestamp)
      : undefined
    db.transaction(() => {
      db.prepare(
        'UPDATE txs SET status = ?, reason = ?, block = ?, gas_used = ?, done_at = ? WHERE id = ?',
      ).run(
        status,
        reason ?? null,
        Number(receipt.blockNumber),
        receipt.gasUsed.toString(),
        Date.now(),
        tx.id,
      )
      onSettled({ tx: { ...tx, status }, receipt, blockTime, reason })
    })()
  }

  /** No receipt: the node may not have it (send the same bytes again), or another transaction took its nonce. */
  private async lookAgain(tx: Row, onSettled: (settled: Settled<Row>) => void): Promise<void> {
    const { db, client, logger } = this.options
    const known = await client.getTransaction({ hash: tx.hash }).catch(() => undefined)
    if (known) return
    if ((await this.nonceOf('latest')) > tx.nonce) {
      // Mined meanwhile? A receipt now means the receipt read above raced the block.
      if (await this.receiptOf(tx.hash)) return
      const reason = 'dropped: its nonce was used by another transaction'
      db.transaction(() => {
        this.fail(tx.id, reason)
        onSettled({ tx: { ...tx, status: 'failed' }, reason })
      })()
      return
    }
    try {
      await client.sendRawTransaction({ serializedTransaction: tx.raw_tx })
    } catch (error) {
      const reason = shortReason(error)
      if (!/already known|already imported/i.test(reason)) {
        logger.warn({ tx: tx.hash, err: reason }, 'could not send a journaled transaction again')
        return
      }
    }
    logger.info({ tx: tx.hash, kind: tx.kind, nonce: tx.nonce }, 'journaled transaction sent again')
    this.markSent(tx.id, Date.now())
  }

  /** Why a mined transaction reverted: the same call replayed on the state of its block. */
  private async replay(tx: Row, receipt: TransactionReceipt): Promise<string> {
    const parsed = parseTransaction(tx.raw_tx)
    try {
      await this.options.client.call({
        account: this.options.account.address,
        to: parsed.to ?? undefined,
        data: parsed.data,
        blockNumber: receipt.blockNumber,
      })
      return 'reverted (the replay succeeds: the state it saw inside its block differed)'
    } catch (error) {
      return revertReason(error, this.options.errorAbi)
    }
  }
}

/** The node never answered (the request may or may not have reached it): not a refusal. */
function isUnanswered(error: unknown): boolean {
  const e = error as { walk?: (fn: (e: unknown) => boolean) => unknown }
  return Boolean(e.walk?.((inner) => inner instanceof HttpRequestError || inner instanceof TimeoutError))
}
