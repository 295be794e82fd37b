import type { LocalAccount } from 'viem'
import type { Manifest } from '../../sdk/manifest.js'
import { decodeMessage } from '../../sdk/messaging/message.js'
import { HttpError, type Route, serveJson } from '../core/http.js'
import type { Logger } from '../core/logger.js'
import { openStore, type Store } from '../core/store.js'
import { createIndexers, followChains } from '../indexer/follow.js'
import { DestinationWorker } from './destination.js'
import { relayerMigrations } from './schema.js'

export type RelayerOptions = {
  manifest: Manifest
  account: LocalAccount
  dbPath: string
  /** 0 picks a free port. */
  port: number
  validatorUrls: readonly string[]
  logger: Logger
  /** Messages per delivery transaction at most (default 32). */
  maxBatch?: number
}

export type RunningRelayer = { url: string; stop(): Promise<void> }

/**
 * The relayer: indexes every Outbox up to its final block, gets each batch signed by a quorum of
 * validators, delivers it, and keeps every step in SQLite so that a crash anywhere resumes without
 * losing or repeating a delivery. Serves its view of every message for the CLI and the API.
 */
export async function startRelayer(options: RelayerOptions): Promise<RunningRelayer> {
  const { manifest, logger } = options
  const db = openStore(options.dbPath, relayerMigrations)
  const indexers = createIndexers(db, manifest, logger)
  const controller = new AbortController()
  const workers = manifest.chains
    .filter((chain) => chain.contracts.Inbox)
    .map(
      (dest) =>
        new DestinationWorker(
          db,
          dest,
          manifest,
          options.account,
          options.validatorUrls,
          logger,
          options.maxBatch ?? 32,
        ),
    )
  const server = await serveJson(routes(db, manifest), { port: options.port, logger })
  const running = Promise.all([
    followChains(indexers, logger, controller.signal, () => {
      for (const worker of workers) worker.wake()
    }),
    ...workers.map((worker) => worker.run(controller.signal)),
  ])
  logger.info(
    { url: server.url, account: options.account.address, validators: options.validatorUrls.length },
    'relayer started',
  )
  return {
    url: server.url,
    async stop() {
      controller.abort()
      // Stop listening first: the port is free at once even if a loop still waits on a dead RPC.
      await server.close()
      await running
      db.close()
    },
  }
}

const MESSAGE_VIEW = `
  SELECT m.*, COALESCE(d.status, 'pending') AS status, d.reason, d.attempts, d.sent_at, d.done_at, d.dest_tx,
         d.dest_block, b.epoch, b.root, b.signers, b.signatures, b.tx_hash AS batch_tx, b.first_nonce, b.last_nonce
  FROM messages m LEFT JOIN deliveries d ON d.id = m.id LEFT JOIN batches b ON b.id = d.batch_id`

type MessageView = Record<string, unknown> & {
  encoded: `0x${string}`
  signers: string | null
  signatures: string | null
  final_at: number
  sent_at: number | null
  done_at: number | null
}

/** Turns a row into what the CLI and API show: decoded message, JSON arrays, latencies in ms. */
function present(row: MessageView) {
  const { encoded, signers, signatures, ...rest } = row
  const message = decodeMessage(encoded)
  return {
    ...rest,
    encoded,
    message: {
      ...message,
      nonce: message.nonce.toString(),
      sourceChainId: message.sourceChainId.toString(),
      destChainId: message.destChainId.toString(),
    },
    signers: signers ? (JSON.parse(signers) as string[]) : [],
    signatures: signatures ? (JSON.parse(signatures) as string[]) : [],
    latencyMs: {
      finalToSent: row.sent_at ? row.sent_at - row.final_at : null,
      finalToDone: row.done_at ? row.done_at - row.final_at : null,
    },
  }
}

function routes(db: Store, manifest: Manifest): Route[] {
  const health: Route = async (url) =>
    url.pathname === '/health'
      ? { status: 200, body: { ok: true, chains: manifest.chains.map((c) => c.name) } }
      : undefined
  const list: Route = async (url) => {
    if (url.pathname !== '/v1/messages') return undefined
    const status = url.searchParams.get('status')
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 100) || 100, 1_000)
    const rows = db
      .prepare(
        `SELECT * FROM (${MESSAGE_VIEW}) WHERE (? IS NULL OR status = ?) ORDER BY final_at DESC LIMIT ?`,
      )
      .all(status, status, limit) as MessageView[]
    return { status: 200, body: { messages: rows.map(present) } }
  }
  const one: Route = async (url) => {
    const match = /^\/v1\/messages\/(0x[0-9a-fA-F]{64})$/.exec(url.pathname)
    if (!match) return undefined
    const row = db.prepare(`${MESSAGE_VIEW} WHERE m.id = ?`).get(match[1]!.toLowerCase()) as
      | MessageView
      | undefined
    if (!row) throw new HttpError(404, `message ${match[1]} is not final yet or unknown to this relayer`)
    return { status: 200, body: present(row) }
  }
  const stats: Route = async (url) => {
    if (url.pathname !== '/v1/stats') return undefined
    const latencies = db
      .prepare(
        'SELECT d.sent_at - m.final_at FROM deliveries d JOIN messages m ON m.id = d.id WHERE d.sent_at IS NOT NULL ORDER BY d.sent_at',
      )
      .pluck()
      .all() as number[]
    const counts = db.prepare(`SELECT status, COUNT(*) AS n FROM (${MESSAGE_VIEW}) GROUP BY status`).all()
    const since = Number(url.searchParams.get('since') ?? 0)
    const window = db
      .prepare(
        `SELECT MIN(m.final_at) AS firstFinalAt, MAX(d.done_at) AS lastDoneAt, COUNT(*) AS delivered
         FROM deliveries d JOIN messages m ON m.id = d.id WHERE d.done_at IS NOT NULL AND m.final_at >= ?`,
      )
      .get(since)
    return { status: 200, body: { counts, finalToSentMs: latencies, window } }
  }
  return [health, list, one, stats]
}
