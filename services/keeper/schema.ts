import { createTxsSql, type JournaledTx, type TxsTable } from '../core/txsTable.js'

/** The keeper's `txs` journal: one chain (the hub's, the database is bound to it), rows by account. */
export const keeperTxs = {
  kinds: ['approve', 'margin_call', 'liquidation'],
  subject: 'account',
  perChain: false,
} as const satisfies TxsTable

/**
 * The keeper's database. `txs` is a journal: a transaction is written, signed bytes included,
 * before it is broadcast, so after a crash at any point it is re-sent or read back by hash.
 * `accounts` holds every account seen in the engine's events with its last evaluated health;
 * `call_id` marks an open margin-call episode (one call per episode, across restarts).
 * Amounts and WAD values are decimal strings (SQLite integers stop at 2^63).
 */
export const keeperMigrations = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   ${createTxsSql(keeperTxs)}
   CREATE TABLE margin_calls (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     account TEXT NOT NULL,
     block INTEGER NOT NULL,
     lhf TEXT NOT NULL,
     call_level TEXT NOT NULL,
     collateral_usd TEXT NOT NULL,
     debt_usd TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     resolved_block INTEGER,
     resolved_at INTEGER,
     tx_id INTEGER REFERENCES txs (id),
     tx_error TEXT,
     payload TEXT NOT NULL,
     webhook_status TEXT NOT NULL CHECK (webhook_status IN ('none', 'pending', 'delivered', 'failed')),
     webhook_attempts INTEGER NOT NULL DEFAULT 0,
     webhook_next_at INTEGER NOT NULL DEFAULT 0,
     webhook_error TEXT
   );
   CREATE INDEX margin_calls_webhook ON margin_calls (webhook_next_at) WHERE webhook_status = 'pending';
   CREATE TABLE accounts (
     address TEXT PRIMARY KEY,
     discovered_block INTEGER NOT NULL,
     lhf TEXT,
     collateral_usd TEXT,
     liquidation_value_usd TEXT,
     debt_usd TEXT,
     checked_block INTEGER,
     checked_at INTEGER,
     error TEXT,
     call_id INTEGER REFERENCES margin_calls (id),
     skip_code TEXT
   );
   CREATE TABLE liquidations (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     account TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'failed', 'skipped')),
     code TEXT,
     reason TEXT,
     chain_id INTEGER,
     token TEXT,
     asset_id INTEGER,
     repay_amount TEXT,
     expected_repaid TEXT,
     expected_seized TEXT,
     seized_value_usd TEXT,
     gas_estimate TEXT,
     gas_cost_usd TEXT,
     profit_usd TEXT,
     lhf TEXT,
     trigger_block INTEGER NOT NULL,
     trigger_kind TEXT NOT NULL,
     reaction_ms REAL,
     tx_id INTEGER REFERENCES txs (id),
     repaid TEXT,
     seized TEXT,
     bonus TEXT,
     lhf_before TEXT,
     lhf_after TEXT,
     mined_block INTEGER,
     blocks_to_inclusion INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   -- Never two liquidations of one account in flight.
   CREATE UNIQUE INDEX liquidations_one_pending ON liquidations (account) WHERE status = 'pending';
   CREATE INDEX liquidations_account ON liquidations (account, id);`,
]

export type TxKind = (typeof keeperTxs.kinds)[number]

export type TxRow = JournaledTx<TxKind> & { account: string | null }

export type AccountRow = {
  address: string
  discovered_block: number
  lhf: string | null
  collateral_usd: string | null
  liquidation_value_usd: string | null
  debt_usd: string | null
  checked_block: number | null
  checked_at: number | null
  error: string | null
  call_id: number | null
  skip_code: string | null
}

export type MarginCallRow = {
  id: number
  account: string
  block: number
  lhf: string
  call_level: string
  collateral_usd: string
  debt_usd: string
  created_at: number
  resolved_block: number | null
  resolved_at: number | null
  tx_id: number | null
  tx_error: string | null
  payload: string
  webhook_status: 'none' | 'pending' | 'delivered' | 'failed'
  webhook_attempts: number
  webhook_next_at: number
  webhook_error: string | null
}

export type LiquidationRow = {
  id: number
  account: string
  status: 'pending' | 'confirmed' | 'failed' | 'skipped'
  code: string | null
  reason: string | null
  chain_id: number | null
  token: string | null
  asset_id: number | null
  repay_amount: string | null
  expected_repaid: string | null
  expected_seized: string | null
  seized_value_usd: string | null
  gas_estimate: string | null
  gas_cost_usd: string | null
  profit_usd: string | null
  lhf: string | null
  trigger_block: number
  trigger_kind: string
  reaction_ms: number | null
  tx_id: number | null
  repaid: string | null
  seized: string | null
  bonus: string | null
  lhf_before: string | null
  lhf_after: string | null
  mined_block: number | null
  blocks_to_inclusion: number | null
  created_at: number
  updated_at: number
}
