import type { Hex } from 'viem'

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
   CREATE TABLE txs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     chain_id INTEGER NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('approve', 'fill')),
     order_id TEXT,
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
   CREATE INDEX txs_open ON txs (chain_id, status) WHERE status IN ('signed', 'sent');
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

export type TxKind = 'approve' | 'fill'
export type TxStatus = 'signed' | 'sent' | 'confirmed' | 'failed'

export type TxRow = {
  id: number
  chain_id: number
  kind: TxKind
  order_id: Hex | null
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
