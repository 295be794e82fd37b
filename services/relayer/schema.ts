import { indexerMigrations } from '../indexer/schema.js'

/**
 * The relayer's database: the indexer's tables, a journal of batch transactions (written before a
 * transaction is broadcast, so a crash at any point is resumed by re-sending the same signed bytes),
 * and one delivery row per message the relayer has acted on (no row = waiting to be relayed).
 */
export const relayerMigrations = [
  ...indexerMigrations,
  `CREATE TABLE batches (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     source_chain INTEGER NOT NULL,
     dest_chain INTEGER NOT NULL,
     first_nonce INTEGER NOT NULL,
     last_nonce INTEGER NOT NULL,
     epoch INTEGER NOT NULL,
     root TEXT NOT NULL,
     signers TEXT NOT NULL,
     signatures TEXT NOT NULL,
     raw_tx TEXT NOT NULL,
     tx_hash TEXT NOT NULL,
     tx_nonce INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('signed', 'sent', 'mined', 'reverted', 'dropped')),
     gas_used INTEGER,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX batches_open ON batches (status) WHERE status IN ('signed', 'sent');
   CREATE TABLE deliveries (
     id TEXT PRIMARY KEY REFERENCES messages (id),
     status TEXT NOT NULL CHECK (status IN ('retrying', 'submitted', 'success', 'failure')),
     batch_id INTEGER REFERENCES batches (id),
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL DEFAULT 0,
     reason TEXT,
     sent_at INTEGER,
     done_at INTEGER,
     dest_tx TEXT,
     dest_block INTEGER,
     updated_at INTEGER NOT NULL
   );`,
]

export type DeliveryStatus = 'pending' | 'retrying' | 'submitted' | 'success' | 'failure'

export type BatchRow = {
  id: number
  source_chain: number
  dest_chain: number
  first_nonce: number
  last_nonce: number
  epoch: number
  root: `0x${string}`
  signers: string
  signatures: string
  raw_tx: `0x${string}`
  tx_hash: `0x${string}`
  tx_nonce: number
  status: 'signed' | 'sent' | 'mined' | 'reverted' | 'dropped'
}
