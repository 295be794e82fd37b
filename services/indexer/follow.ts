import { createPublicClient, http } from 'viem'
import { pollingIntervalMs, viemChain } from '../../sdk/client.js'
import type { Manifest } from '../../sdk/manifest.js'
import type { Logger } from '../core/logger.js'
import { backoffMs, sleep } from '../core/sleep.js'
import type { Store } from '../core/store.js'
import { IndexerHaltedError, OutboxIndexer } from './outboxIndexer.js'

/** An indexer per chain of the manifest that has an Outbox, keyed by chain id. */
export function createIndexers(db: Store, manifest: Manifest, logger: Logger): Map<number, OutboxIndexer> {
  const indexers = new Map<number, OutboxIndexer>()
  for (const chain of manifest.chains) {
    if (!chain.contracts.Outbox) continue
    const client = createPublicClient({
      chain: viemChain(chain),
      transport: http(chain.rpcUrl),
      cacheTime: 0,
      pollingInterval: pollingIntervalMs(chain),
    })
    indexers.set(chain.chainId, new OutboxIndexer(db, chain, client, logger))
  }
  return indexers
}

/**
 * Polls every indexer until `signal` aborts: every quarter block (at most 100 ms), backing off on RPC
 * errors, and stopping for good on a chain whose indexer halted on an incident.
 */
export async function followChains(
  indexers: Map<number, OutboxIndexer>,
  logger: Logger,
  signal: AbortSignal,
  onProgress: (chainId: number, stored: number) => void = () => {},
): Promise<void> {
  await Promise.all(
    [...indexers.values()].map(async (indexer) => {
      let failures = 0
      while (!signal.aborted && !indexer.halted) {
        try {
          const stored = await indexer.poll()
          if (stored) onProgress(indexer.chain.chainId, stored)
          failures = 0
          // At least every 100 ms: seeing finality late is latency the user feels on every message.
          await sleep(Math.min(100, pollingIntervalMs(indexer.chain)), signal)
        } catch (error) {
          if (error instanceof IndexerHaltedError) break
          logger.warn(
            { chain: indexer.chain.name, err: (error as Error).message },
            'indexer poll failed, retrying',
          )
          await sleep(backoffMs(failures++), signal)
        }
      }
    }),
  )
}
