import { indexerMigrations } from '../indexer/schema.js'

/** The validator's database: the indexer's tables plus every signature it ever gave. */
export const validatorMigrations = [
  ...indexerMigrations,
  `CREATE TABLE signatures (
     source_chain INTEGER NOT NULL,
     dest_chain INTEGER NOT NULL,
     first_nonce INTEGER NOT NULL,
     last_nonce INTEGER NOT NULL,
     epoch INTEGER NOT NULL,
     root TEXT NOT NULL,
     leaf_count INTEGER NOT NULL,
     signature TEXT NOT NULL,
     signed_at INTEGER NOT NULL,
     PRIMARY KEY (source_chain, dest_chain, first_nonce, last_nonce, epoch)
   );`,
]
