import { HttpError, type Route } from './http.js'

/**
 * A GET route: `path` exactly, or a pattern whose match `handle` receives; `handle`'s result is the
 * 200 body. Another method on the path is a 405.
 */
export function getRoute(
  path: string | RegExp,
  handle: (url: URL, match: RegExpExecArray | null) => unknown,
): Route {
  return async (url, request) => {
    const match = typeof path === 'string' ? null : path.exec(url.pathname)
    if (typeof path === 'string' ? url.pathname !== path : !match) return undefined
    if (request.method !== 'GET') throw new HttpError(405, `${request.method} ${url.pathname}: GET only`)
    return { status: 200, body: handle(url, match) }
  }
}
