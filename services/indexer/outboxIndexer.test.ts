import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { createPublicClient, http } from 'viem'
import { viemChain } from '../../sdk/client.js'
import type { ChainEntry } from '../../sdk/manifest.js'
import { startTestDevnet, type TestDevnet } from '../../testing/devnet.js'
import { sendMessage } from '../../testing/messaging.js'
import { createLogger } from '../core/logger.js'
import { openStore } from '../core/store.js'
import { IndexerHaltedError, OutboxIndexer } from './outboxIndexer.js'
import { indexerMigrations } from './schema.js'

type JsonRpc = { method: string; result?: unknown }

/**
 * A JSON-RPC proxy in front of a real anvil that lies about `eth_getLogs`: the fault a bad or
 * compromised RPC provider would inject. Everything else passes through untouched.
 */
async function lyingRpc(
  upstream: string,
  lie: (result: unknown[]) => unknown[],
): Promise<{ url: string; server: Server }> {
  const server = createServer(async (request, response) => {
    let body = ''
    for await (const chunk of request) body += chunk
    const upstreamResponse = await fetch(upstream, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    })
    const answer = (await upstreamResponse.json()) as JsonRpc
    const asked = JSON.parse(body) as JsonRpc
    if (asked.method === 'eth_getLogs' && Array.isArray(answer.result)) answer.result = lie(answer.result)
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify(answer))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

describe('OutboxIndexer against an RPC that lies', () => {
  let devnet: TestDevnet
  const servers: Server[] = []

  before(async () => {
    devnet = await startTestDevnet({ chains: ['l1', 'hub'] })
  })
  after(async () => {
    for (const server of servers) server.close()
    await devnet.stop()
  })

  const indexerBehind = async (lie: (logs: unknown[]) => unknown[]) => {
    const l1 = devnet.chain('l1')
    const proxy = await lyingRpc(l1.entry.rpcUrl, lie)
    servers.push(proxy.server)
    const chain: ChainEntry = { ...l1.entry, rpcUrl: proxy.url }
    const client = createPublicClient({ chain: viemChain(chain), transport: http(proxy.url), cacheTime: 0 })
    const db = openStore(':memory:', indexerMigrations)
    return { db, indexer: new OutboxIndexer(db, chain, client, createLogger('indexer-test')) }
  }

  const sendFinal = async () => {
    const l1 = devnet.chain('l1')
    const sent = await sendMessage(l1, devnet.chain('hub'), 'watched')
    await l1.test.mine({ blocks: 7 })
    return sent
  }

  it('halts when the RPC drops a log: the Outbox root on chain does not match what it was shown', async () => {
    const { db, indexer } = await indexerBehind(() => [])
    await sendFinal()
    await assert.rejects(indexer.poll(), (error: unknown) => {
      return (
        error instanceof IndexerHaltedError &&
        /^l1: root-mismatch: Outbox root at block \d+ is 0x/.test(error.shortMessage)
      )
    })
    assert.equal(
      db.prepare('SELECT COUNT(*) FROM messages').pluck().get(),
      0,
      'nothing from a lying RPC is stored',
    )
    assert.match(indexer.halted!, /^root-mismatch/)
    await assert.rejects(indexer.poll(), /root-mismatch/, 'and it stays halted')
  })

  it('halts when the RPC alters a message: its id no longer matches', async () => {
    // MessageSent data: leafIndex, offset, length, then the message; its byte 71 is the payload's first.
    const payloadByte = 2 + (96 + 71) * 2
    const { db, indexer } = await indexerBehind((logs) =>
      logs.map((log) => {
        const l = log as { data: string }
        const flipped = l.data.slice(payloadByte, payloadByte + 2) === 'ff' ? '00' : 'ff'
        return { ...l, data: `${l.data.slice(0, payloadByte)}${flipped}${l.data.slice(payloadByte + 2)}` }
      }),
    )
    await sendFinal()
    await assert.rejects(
      indexer.poll(),
      /^IndexerHaltedError: l1: bad-log: MessageSent 0x[0-9a-f]{64} in 0x[0-9a-f]{64} is inconsistent/,
    )
    assert.equal(db.prepare('SELECT COUNT(*) FROM messages').pluck().get(), 0)
  })

  it('stores messages as they are when the RPC is honest, and the roots agree', async () => {
    const { db, indexer } = await indexerBehind((logs) => logs)
    const sent = await sendFinal()
    assert.ok((await indexer.poll()) >= 1)
    assert.equal(db.prepare('SELECT id FROM messages WHERE id = ?').pluck().get(sent.id), sent.id)
    assert.equal(indexer.halted, undefined)
  })
})
