import { createServer } from 'node:net'

/** Resolves true when nothing listens on 127.0.0.1:`port` (checked by binding it briefly). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/**
 * `count` consecutive ports that are free right now, picked at random above 20000 so parallel test
 * files rarely collide (a collision still fails loudly: anvil cannot bind).
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = 20_000 + Math.floor(Math.random() * 40_000)
    const ports = Array.from({ length: count }, (_, i) => first + i)
    if ((await Promise.all(ports.map(isPortFree))).every(Boolean)) return first
  }
  throw new Error(`no ${count} consecutive free ports found on 127.0.0.1`)
}
