import type { Hex } from 'viem'
import { createTxsSql, type JournaledTx, type TxsTable } from '../core/txsTable.js'

/** The solver's `txs` journal: every chain's transactions, rows by order. */
export const solverTxs = {
  kinds: ['approve', 'fill'],
  subject: 'order_id',
  perChain: true,
} as const satisfies TxsTable

/**
 * The solver's database. `cursors` holds, per origin chain, the last block whose OriginSettler logs
 * are stored: logs and cursor are written in one SQLite transaction, so a restart neither misses nor
 * doubles an event. `txs` is a journal over every chain: a transaction is written, signed bytes
 * included, before it is broadcast, and an order's one fill (`orders.fill_tx_id`, unique) is written
 * in that same commit — so a fill is sent at most once, and after a crash it is re-sent with the same
 * bytes or read back by hash, never signed anew. Amounts are decimal strings (SQLite integers stop at 2^63).
 */
export const solverMigrations = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE cursors (chain_id INTEGER PRIMARY KEY, block INTEGER NOT NULL);
   ${createTxsSql(solverTxs)}
   CREATE TABLE orders (
     id TEXT PRIMARY KEY,
     origin_chain_id INTEGER NOT NULL,
     destination_chain_id INTEGER NOT NULL,
     user TEXT NOT NULL,
     nonce TEXT NOT NULL,
     fill_deadline INTEGER NOT NULL,
     input_token TEXT NOT NULL,
     input_amount TEXT NOT NULL,
     output_token TEXT NOT NULL,
     output_amount TEXT NOT NULL,
     recipient TEXT NOT NULL,
     origin_data TEXT NOT NULL,
     open_block INTEGER NOT NULL,
     open_tx TEXT NOT NULL,
     opened_at INTEGER NOT NULL,
     seen_at INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('new', 'skipped', 'filling', 'filled', 'failed', 'repaid')),
     code TEXT,
     reason TEXT,
     gas_estimate TEXT,
     gas_cost TEXT,
     expected_profit TEXT,
     fill_tx_id INTEGER UNIQUE REFERENCES txs (id),
     fill_sent_at INTEGER,
     fill_block INTEGER,
     fill_time INTEGER,
     filled_at INTEGER,
     message_id TEXT,
     outcome TEXT CHECK (outcome IN ('settled', 'refunded')),
     paid_to TEXT,
     paid_amount TEXT,
     outcome_tx TEXT,
     outcome_block INTEGER,
     outcome_at INTEGER,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX orders_todo ON orders (destination_chain_id, status) WHERE status IN ('new', 'skipped');`,
]

export type TxKind = (typeof solverTxs.kinds)[number]

export type TxRow = JournaledTx<TxKind> & { chain_id: number; order_id: Hex | null }

/**
 * new: seen, not decided yet; skipped: not worth or not possible to fill (`code` says why; an
 * `insufficient-balance` skip is looked at again until the deadline is too close); filling: the fill
 * is journaled or in flight; filled: mined; failed: the fill reverted or was dropped; repaid: the
 * origin paid the solver the escrow.
 */
export type OrderStatus = 'new' | 'skipped' | 'filling' | 'filled' | 'failed' | 'repaid'

export type OrderRow = {
  id: Hex
  origin_chain_id: number
  destination_chain_id: number
  user: string
  nonce: string
  fill_deadline: number
  input_token: string
  input_amount: string
  output_token: string
  output_amount: string
  recipient: string
  origin_data: Hex
  open_block: number
  open_tx: string
  opened_at: number
  seen_at: number
  status: OrderStatus
  code: string | null
  reason: string | null
  gas_estimate: string | null
  gas_cost: string | null
  expected_profit: string | null
  fill_tx_id: number | null
  fill_sent_at: number | null
  fill_block: number | null
  fill_time: number | null
  filled_at: number | null
  message_id: string | null
  outcome: 'settled' | 'refunded' | null
  paid_to: string | null
  paid_amount: string | null
  outcome_tx: string | null
  outcome_block: number | null
  outcome_at: number | null
  updated_at: number
}
