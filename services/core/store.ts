import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'

export type Store = Database.Database

/**
 * Opens (creating if needed) a service's SQLite database. WAL with synchronous=NORMAL survives the
 * process being killed at any instruction: a committed transaction is on disk, an uncommitted one is
 * gone whole. `migrations[i]` runs once, in order, tracked by `user_version`.
 */
export function openStore(path: string, migrations: readonly string[]): Store {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 5000')
  db.pragma('foreign_keys = ON')
  const applied = db.pragma('user_version', { simple: true }) as number
  for (let version = applied; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version]!)
      db.pragma(`user_version = ${version + 1}`)
    })()
  }
  return db
}
