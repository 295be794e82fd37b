import {
  type Abi,
  BaseError,
  type Chain,
  ContractFunctionRevertedError,
  decodeErrorResult,
  type Hex,
  keccak256,
  type LocalAccount,
  type PublicClient,
  parseTransaction,
  type TransactionReceipt,
  type Transport,
} from 'viem'
import type { Logger } from '../core/logger.js'
import type { Store } from '../core/store.js'
import type { TxKind, TxRow } from './schema.js'

export type TxRequest = {
  kind: TxKind
  account?: string
  to: Hex
  data: Hex
  gas: bigint
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
}

export type Sent = { id: number; hash: Hex; nonce: number; sentAt: number; error?: string }

/** How a journaled transaction ended: mined (with its receipt), or not (dropped, refused). */
export type Settled = { tx: TxRow; receipt?: TransactionReceipt; reason?: string }

/** A transaction with no receipt this long is looked up: re-sent if the node forgot it, or dropped. */
const RESEND_AFTER_MS = 30_000

/**
 * The keeper's transactions, one account, one nonce sequence. Every transaction is signed here and
 * written to the `txs` journal before it is broadcast (`journal` lets the caller write its own rows in
 * the same SQLite transaction), so a crash anywhere leaves a row that `recover` finishes: the same
 * bytes are sent again, or the receipt is read. Sends are serialized, so nonces never leave gaps.
 */
export class TxSender {
  private nonce: number | undefined
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly db: Store,
    private readonly client: PublicClient<Transport, Chain>,
    private readonly account: LocalAccount,
    private readonly chainId: number,
    private readonly logger: Logger,
    private readonly errorAbi: Abi,
  ) {}

  /** Reads the account's next nonce now, so the first transaction does not wait for it. */
  prime(): Promise<void> {
    const run = this.queue.then(async () => {
      this.nonce ??= await this.client.getTransactionCount({
        address: this.account.address,
        blockTag: 'pending',
      })
    })
    this.queue = run.catch(() => undefined)
    return run
  }

  /** Signs, journals and broadcasts. A broadcast error is returned as `error` (the row is then failed). */
  send(request: TxRequest, journal?: (txId: number, hash: Hex) => void): Promise<Sent> {
    const run = this.queue.then(() => this.sendNow(request, journal))
    this.queue = run.catch(() => undefined)
    return run
  }

  private async sendNow(request: TxRequest, journal?: (txId: number, hash: Hex) => void): Promise<Sent> {
    if (this.nonce === undefined) {
      this.nonce = await this.client.getTransactionCount({
        address: this.account.address,
        blockTag: 'pending',
      })
    }
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
          `INSERT INTO txs (kind, account, nonce, raw_tx, hash, status, created_at)
           VALUES (?, ?, ?, ?, ?, 'signed', ?)`,
        )
        .run(request.kind, request.account ?? null, nonce, raw, hash, Date.now())
      journal?.(Number(lastInsertRowid), hash)
      return Number(lastInsertRowid)
    })()
    try {
      await this.client.sendRawTransaction({ serializedTransaction: raw })
    } catch (error) {
      // The nonce may or may not be used now: ask the node again before the next transaction.
      this.nonce = undefined
      const reason = `broadcast failed: ${shortReason(error)}`
      this.fail(id, reason)
      return { id, hash, nonce, sentAt: Date.now(), error: reason }
    }
    this.nonce = nonce + 1
    const sentAt = Date.now()
    this.db.prepare("UPDATE txs SET status = 'sent', sent_at = ? WHERE id = ?").run(sentAt, id)
    return { id, hash, nonce, sentAt }
  }

  private fail(id: number, reason: string): void {
    this.db
      .prepare("UPDATE txs SET status = 'failed', reason = ?, done_at = ? WHERE id = ?")
      .run(reason, Date.now(), id)
  }

  /**
   * After a restart: transactions journaled but perhaps never broadcast go out again with the same
   * bytes (in nonce order, so none waits behind a gap); one whose nonce another transaction took is
   * failed as dropped.
   */
  async recover(): Promise<void> {
    const signed = this.db
      .prepare("SELECT * FROM txs WHERE status = 'signed' ORDER BY nonce")
      .all() as TxRow[]
    for (const tx of signed) {
      await this.rebroadcast(tx)
    }
  }

  private async rebroadcast(tx: TxRow): Promise<void> {
    const receipt = await this.client.getTransactionReceipt({ hash: tx.hash }).catch(() => undefined)
    if (!receipt) {
      const used = await this.client.getTransactionCount({
        address: this.account.address,
        blockTag: 'latest',
      })
      if (used > tx.nonce) {
        this.fail(tx.id, 'dropped: its nonce was used by another transaction')
        return
      }
      try {
        await this.client.sendRawTransaction({ serializedTransaction: tx.raw_tx })
      } catch (error) {
        const reason = shortReason(error)
        if (!/already known|already imported/i.test(reason)) {
          this.logger.warn({ tx: tx.hash, err: reason }, 'could not re-send a journaled transaction')
          return
        }
      }
      this.logger.info({ tx: tx.hash, kind: tx.kind, nonce: tx.nonce }, 'journaled transaction sent again')
    }
    this.nonce = undefined
    this.db
      .prepare("UPDATE txs SET status = 'sent', sent_at = COALESCE(sent_at, ?) WHERE id = ?")
      .run(Date.now(), tx.id)
  }

  /** The transactions in flight, by hash. */
  inFlight(): TxRow[] {
    return this.db
      .prepare("SELECT * FROM txs WHERE status IN ('signed', 'sent') ORDER BY nonce")
      .all() as TxRow[]
  }

  /**
   * Reads the receipts of every transaction in flight and records how each ended. `onSettled` runs
   * inside the SQLite transaction that records it, so what the transaction was for (a liquidation's
   * row) ends in the same commit.
   */
  async settle(onSettled: (settled: Settled) => void = () => {}): Promise<void> {
    const open = this.inFlight()
    if (!open.length) return
    const receipts = await Promise.all(
      open.map((tx) => this.client.getTransactionReceipt({ hash: tx.hash }).catch(() => undefined)),
    )
    for (const [i, tx] of open.entries()) {
      const receipt = receipts[i]
      if (!receipt) {
        if (tx.status === 'signed' || Date.now() - (tx.sent_at ?? tx.created_at) > RESEND_AFTER_MS) {
          await this.lookAgain(tx, onSettled)
        }
        continue
      }
      const reason =
        receipt.status === 'success' ? undefined : `reverted on chain: ${await this.replay(tx, receipt)}`
      const status = reason ? 'failed' : 'confirmed'
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
        onSettled({ tx: { ...tx, status }, receipt, reason })
      })()
    }
  }

  /** No receipt for long: the node may have dropped it (re-send) or another transaction took its nonce. */
  private async lookAgain(tx: TxRow, onSettled: (settled: Settled) => void): Promise<void> {
    const known = await this.client.getTransaction({ hash: tx.hash }).catch(() => undefined)
    if (known) return
    const used = await this.client.getTransactionCount({ address: this.account.address, blockTag: 'latest' })
    if (used > tx.nonce) {
      const reason = 'dropped: its nonce was used by another transaction'
      this.db.transaction(() => {
        this.fail(tx.id, reason)
        onSettled({ tx: { ...tx, status: 'failed' }, reason })
      })()
      return
    }
    await this.rebroadcast(tx)
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

/** The first line of an error, without viem's request dump. */
export function shortReason(error: unknown): string {
  if (error instanceof BaseError) return error.details || error.shortMessage
  return (error as Error).message.split('\n')[0]!
}

/** A revert as `ErrorName(arg, …)` when `abi` knows it; otherwise the node's words. */
export function revertReason(error: unknown, abi: Abi): string {
  if (error instanceof BaseError) {
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError)
    if (revert instanceof ContractFunctionRevertedError && revert.data) {
      return `${revert.data.errorName}(${(revert.data.args ?? []).map(String).join(', ')})`
    }
    const data = findRevertData(error)
    if (data && data !== '0x') {
      try {
        const decoded = decodeErrorResult({ abi, data })
        return `${decoded.errorName}(${(decoded.args ?? []).map(String).join(', ')})`
      } catch {
        return `unknown error ${data.slice(0, 10)}`
      }
    }
    return error.details || error.shortMessage
  }
  return (error as Error).message.split('\n')[0]!
}

function findRevertData(error: BaseError): Hex | undefined {
  let found: Hex | undefined
  error.walk((e) => {
    const data = (e as { data?: unknown }).data
    if (typeof data === 'string' && data.startsWith('0x')) found = data as Hex
    return false
  })
  return found
}
