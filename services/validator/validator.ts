import type { LocalAccount } from 'viem'
import type { Manifest } from '../../sdk/manifest.js'
import { HttpError, type Route, serveJson } from '../core/http.js'
import type { Logger } from '../core/logger.js'
import { openStore } from '../core/store.js'
import { createIndexers, followChains } from '../indexer/follow.js'
import { type BatchRequest, BatchSigner, MAX_BATCH } from './batchSigner.js'
import { validatorMigrations } from './schema.js'

export type ValidatorOptions = {
  manifest: Manifest
  account: LocalAccount
  dbPath: string
  /** 0 picks a free port. */
  port: number
  logger: Logger
}

export type RunningValidator = {
  url: string
  address: `0x${string}`
  stop(): Promise<void>
}

/**
 * A validator: follows every chain's Outbox up to its final block, and signs batch roots of final
 * messages on request (docs/messaging.md, "Validator API"). Its state is one SQLite file, so a
 * restart resumes where it stopped and never signs a range differently.
 */
export async function startValidator(options: ValidatorOptions): Promise<RunningValidator> {
  const { manifest, account, logger } = options
  const db = openStore(options.dbPath, validatorMigrations)
  const indexers = createIndexers(db, manifest, logger)
  const signer = new BatchSigner(db, manifest, account, indexers, logger)
  const controller = new AbortController()

  const health: Route = async (url) => {
    if (url.pathname !== '/health') return undefined
    const chains = Object.fromEntries(
      [...indexers.values()].map((indexer) => {
        const cursor = db
          .prepare('SELECT block_number FROM cursors WHERE chain_id = ?')
          .pluck()
          .get(indexer.chain.chainId)
        return [indexer.chain.name, { finalIndexed: cursor ?? null, halted: indexer.halted ?? null }]
      }),
    )
    return { status: 200, body: { ok: true, address: account.address, chains } }
  }
  const batch: Route = async (url) => {
    if (url.pathname !== '/v1/batch') return undefined
    return { status: 200, body: await signer.sign(parseBatchRequest(url)) }
  }
  const server = await serveJson([health, batch], { port: options.port, logger })
  const following = followChains(indexers, logger, controller.signal)
  logger.info({ url: server.url, address: account.address }, 'validator started')

  return {
    url: server.url,
    address: account.address,
    async stop() {
      controller.abort()
      // Stop listening first: the port is free at once even if a loop still waits on a dead RPC.
      await server.close()
      await following
      db.close()
    },
  }
}

function parseBatchRequest(url: URL): BatchRequest {
  const read = (name: string) => {
    const value = url.searchParams.get(name)
    const n = Number(value)
    if (value === null || !Number.isSafeInteger(n) || n < 0) {
      throw new HttpError(
        400,
        `query parameter ${name} must be a whole number ≥ 0, got ${JSON.stringify(value)}`,
      )
    }
    return n
  }
  const request = { source: read('source'), dest: read('dest'), from: read('from'), to: read('to') }
  if (request.to < request.from)
    throw new HttpError(400, `to (${request.to}) is below from (${request.from})`)
  if (request.to - request.from + 1 > MAX_BATCH)
    throw new HttpError(400, `at most ${MAX_BATCH} messages per batch`)
  return request
}
