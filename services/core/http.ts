import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BaseError } from '../../sdk/errors.js'
import type { Logger } from './logger.js'

/** A handler's answer: an HTTP status and a JSON body. */
export type JsonResponse = { status: number; body: unknown }
export type Route = (url: URL, request: IncomingMessage) => Promise<JsonResponse | undefined>

/** An answer other than 200: its status and message reach the client as `{ error, ...extra }`. */
export class HttpError extends BaseError {
  override name = 'HttpError'

  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

const json = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v))

/**
 * A small JSON-over-HTTP server: routes are tried in order, the first answer wins; errors become
 * `{ error }` with their status (500 for anything unexpected, which is also logged).
 */
export async function serveJson(
  routes: readonly Route[],
  { port, host = '127.0.0.1', logger }: { port: number; host?: string; logger: Logger },
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? host}`)
    const reply = ({ status, body }: JsonResponse) => {
      response.writeHead(status, { 'content-type': 'application/json' })
      response.end(json(body))
    }
    const handle = async () => {
      for (const route of routes) {
        const answer = await route(url, request)
        if (answer) return reply(answer)
      }
      reply({ status: 404, body: { error: `no route for ${request.method} ${url.pathname}` } })
    }
    handle().catch((error: unknown) => {
      if (error instanceof HttpError)
        return reply({ status: error.status, body: { error: error.message, ...error.extra } })
      logger.error({ err: error, path: url.pathname }, 'request failed')
      reply({ status: 500, body: { error: (error as Error).message } })
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const { port: bound } = server.address() as AddressInfo
  return {
    server,
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
