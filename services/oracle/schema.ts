/** An oracle node's database (one per key). */
export const oracleMigrations = [
  `CREATE TABLE observations (
     feed TEXT PRIMARY KEY,
     value TEXT NOT NULL,
     observed_at INTEGER NOT NULL,
     signature TEXT NOT NULL,
     price REAL NOT NULL,
     signed_at INTEGER NOT NULL
   );
   CREATE TABLE transmissions (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     feed TEXT NOT NULL,
     round_id INTEGER,
     tx_hash TEXT,
     answer TEXT,
     observations INTEGER NOT NULL,
     status TEXT NOT NULL,
     reason TEXT,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX transmissions_by_feed ON transmissions (feed, id);
   CREATE TABLE shocks (
     asset TEXT PRIMARY KEY,
     factor REAL NOT NULL,
     updated_at INTEGER NOT NULL
   );`,
  // Feeds of several chains: observation and transmission keys become `<chainId>:<address>` (rows
  // under a bare address are no longer read). Reserve feeds: the custodian override, the reports.
  `CREATE TABLE reserve_overrides (
     asset TEXT PRIMARY KEY,
     amount REAL NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE reports (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     feed TEXT NOT NULL,
     token TEXT NOT NULL,
     tx_hash TEXT,
     backed INTEGER,
     reason TEXT NOT NULL,
     status TEXT NOT NULL,
     detail TEXT,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX reports_by_feed ON reports (feed, id);`,
]
