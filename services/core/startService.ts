import { type Route, serveJson } from './http.js'
import type { Logger } from './logger.js'
import { openStore, type Store } from './store.js'

/** What every service's options say about where it keeps its state and serves its API. */
export type ServiceOptions = {
  dbPath: string
  /** HTTP port; 0 picks a free one. */
  port: number
  host?: string | undefined
  logger: Logger
  /** Aborting stops the service (like `stop()`). */
  signal?: AbortSignal | undefined
}

/** What makes one service: its schema, its catch-up, its API and its loops. */
export type ServiceParts<Service> = {
  migrations: readonly string[]
  /** Builds the service and catches it up, before its API serves; the database is closed if it throws. */
  init(db: Store, signal: AbortSignal): Promise<Service>
  routes(service: Service): Route[]
  /** The service's loops, until `signal` aborts. */
  run(service: Service, signal: AbortSignal): Promise<unknown>
}

export type RunningService<Service> = { service: Service; url: string; stop(): Promise<void> }

/**
 * Starts a service: opens (and migrates) its database at `options.dbPath`, catches it up, serves its JSON API, then runs
 * its loops. `stop()` — or aborting `signal` — ends the loops, closes the API, waits for the loops to
 * return and only then closes the database; it is idempotent.
 */
export async function startService<Service>(
  options: ServiceOptions,
  parts: ServiceParts<Service>,
): Promise<RunningService<Service>> {
  const { port, host, logger } = options
  const db = openStore(options.dbPath, parts.migrations)
  const controller = new AbortController()
  const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal
  let service: Service
  try {
    service = await parts.init(db, signal)
  } catch (error) {
    db.close()
    throw error
  }
  const server = await serveJson(parts.routes(service), { port, host, logger })
  const running = parts.run(service, signal)
  let stopped: Promise<void> | undefined
  const stop = () => {
    stopped ??= (async () => {
      controller.abort()
      await server.close()
      await running
      db.close()
    })()
    return stopped
  }
  options.signal?.addEventListener('abort', () => void stop(), { once: true })
  return { service, url: server.url, stop }
}
