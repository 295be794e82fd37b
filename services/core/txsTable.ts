import type { Hex } from 'viem'
import type { Store } from './store.js'

/**
 * A service's `txs` table: the journal its `TxSender` writes every transaction to, signed bytes
 * included, before broadcasting it. The columns are the same for every service but two: the kinds of
 * transaction it sends, and the column naming what a transaction is for (an account, an order id).
 */
export type TxsTable = {
  /** The `kind` column's allowed values. */
  kinds: readonly string[]
  /** The column naming what a transaction is for (nullable text). */
  subject: string
  /**
   * Several chains share the table, each row carrying its `chain_id`; otherwise the whole table is one
   * chain's (the database is bound to that chain).
   */
  perChain: boolean
}

export type TxStatus = 'signed' | 'sent' | 'confirmed' | 'failed'

/** The columns every `txs` table has. */
export type JournaledTx<Kind extends string = string> = {
  id: number
  kind: Kind
  nonce: number
  raw_tx: Hex
  hash: Hex
  status: TxStatus
  reason: string | null
  block: number | null
  gas_used: string | null
  created_at: number
  sent_at: number | null
  done_at: number | null
}

/** The DDL of `table` (its migration fragment), with the index of the transactions in flight. */
export function createTxsSql({ kinds, subject, perChain }: TxsTable): string {
  return `CREATE TABLE txs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,${perChain ? '\n     chain_id INTEGER NOT NULL,' : ''}
     kind TEXT NOT NULL CHECK (kind IN (${kinds.map((k) => `'${k}'`).join(', ')})),
     ${subject} TEXT,
     nonce INTEGER NOT NULL,
     raw_tx TEXT NOT NULL,
     hash TEXT NOT NULL UNIQUE,
     status TEXT NOT NULL CHECK (status IN ('signed', 'sent', 'confirmed', 'failed')),
     reason TEXT,
     block INTEGER,
     gas_used TEXT,
     created_at INTEGER NOT NULL,
     sent_at INTEGER,
     done_at INTEGER
   );
   CREATE INDEX txs_open ON txs (${perChain ? 'chain_id, ' : ''}status) WHERE status IN ('signed', 'sent');`
}

/** A journaled transaction as the services' APIs show it. */
export type TxView = Pick<JournaledTx, 'hash' | 'status' | 'reason' | 'block'>

/** The journaled transaction `id`, as the APIs show it (null for none). */
export function txView(db: Store, id: number | null): TxView | null {
  if (id === null) return null
  const tx = db.prepare('SELECT hash, status, reason, block FROM txs WHERE id = ?').get(id) as
    | TxView
    | undefined
  return tx ? { hash: tx.hash, status: tx.status, reason: tx.reason, block: tx.block } : null
}
