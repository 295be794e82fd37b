/**
 * Tables every service that follows Outboxes keeps (validator and relayer alike). Only messages in
 * blocks final under their chain's rule are ever stored, so a reorg the rule covers never touches them.
 */
export const indexerMigrations = [
  `CREATE TABLE messages (
     id TEXT PRIMARY KEY,
     source_chain INTEGER NOT NULL,
     dest_chain INTEGER NOT NULL,
     nonce INTEGER NOT NULL,
     leaf_index INTEGER NOT NULL,
     sender TEXT NOT NULL,
     receiver TEXT NOT NULL,
     encoded TEXT NOT NULL,
     block_number INTEGER NOT NULL,
     block_hash TEXT NOT NULL,
     tx_hash TEXT NOT NULL,
     source_time INTEGER NOT NULL,
     final_at INTEGER NOT NULL,
     UNIQUE (source_chain, dest_chain, nonce),
     UNIQUE (source_chain, leaf_index)
   );
   CREATE TABLE cursors (
     chain_id INTEGER PRIMARY KEY,
     block_number INTEGER NOT NULL,
     block_hash TEXT NOT NULL
   );
   CREATE TABLE incidents (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     chain_id INTEGER NOT NULL,
     kind TEXT NOT NULL,
     detail TEXT NOT NULL,
     at INTEGER NOT NULL
   );`,
]

export type MessageRow = {
  id: `0x${string}`
  source_chain: number
  dest_chain: number
  nonce: number
  leaf_index: number
  sender: string
  receiver: string
  encoded: `0x${string}`
  block_number: number
  block_hash: string
  tx_hash: string
  /** Timestamp of the source block, ms. */
  source_time: number
  /** When this service saw the message final, ms. */
  final_at: number
}
