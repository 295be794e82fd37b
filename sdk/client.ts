import {
  type Account,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import type { ChainEntry } from './manifest.js'

/** A viem `Chain` for a manifest entry, so viem checks chain ids on every write. */
export function viemChain(entry: ChainEntry): Chain {
  return defineChain({
    id: entry.chainId,
    name: entry.name,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [entry.rpcUrl], ...(entry.wsUrl ? { webSocket: [entry.wsUrl] } : {}) } },
  })
}

/**
 * viem polls every 4 s by default; devnet blocks come every 0.25–2 s, so poll at a quarter block
 * (bounded) or waiting for a receipt would cost more than the block itself.
 */
export function pollingIntervalMs(entry: ChainEntry): number {
  return Math.min(1_000, Math.max(50, Math.floor((entry.blockTimeMs || 200) / 4)))
}

export type ChainClients = {
  chain: Chain
  public: PublicClient<Transport, Chain>
  wallet: WalletClient<Transport, Chain, Account>
}

export function createChainClients(entry: ChainEntry, account: Account): ChainClients {
  const chain = viemChain(entry)
  const transport = http(entry.rpcUrl, { batch: false, retryCount: 2 })
  const pollingInterval = pollingIntervalMs(entry)
  return {
    chain,
    public: createPublicClient({ chain, transport, pollingInterval }),
    wallet: createWalletClient({ chain, transport, account, pollingInterval }),
  }
}

/** A read-only client for a manifest chain (no account needed). */
export function createReadClient(entry: ChainEntry): PublicClient<Transport, Chain> {
  return createPublicClient({
    chain: viemChain(entry),
    transport: http(entry.rpcUrl),
    pollingInterval: pollingIntervalMs(entry),
  })
}
