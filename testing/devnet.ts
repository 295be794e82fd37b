/**
 * Devnets inside tests: start real anvil chains, get viem clients for them, move time, snapshot,
 * and reorg. Always pair `startTestDevnet` with `after(() => devnet.stop())`; even when a test
 * process dies without stopping, the anvil watchdog (devnet/anvil.ts) ends the chains with it.
 */
import {
  type Chain,
  type Client,
  createClient,
  createTestClient,
  type Hash,
  type Hex,
  http,
  rpcSchema,
  type TestClient,
  type TransactionRequest,
  type Transport,
} from 'viem'
import { type PrivateKeyAccount, privateKeyToAccount } from 'viem/accounts'
import { type Devnet, type DevnetOptions, startDevnet } from '../devnet/devnet.js'
import { freePortRange } from '../devnet/ports.js'
import { type ChainSpec, defaultTopology } from '../devnet/topology.js'
import { type ChainClients, createChainClients, pollingIntervalMs } from '../sdk/client.js'
import type { ChainEntry, Manifest } from '../sdk/manifest.js'

/** anvil_reorg is anvil's own; viem has no action for it, so it gets a typed schema here. */
type AnvilReorgSchema = [
  {
    Method: 'anvil_reorg'
    Parameters: [depth: number, txBlockPairs: (readonly [Record<string, string>, number])[]]
    ReturnType: null
  },
]

export type TestChain = ChainClients & {
  entry: ChainEntry
  test: TestClient<'anvil', Transport, Chain>
  reorgRpc: Client<Transport, Chain, undefined, AnvilReorgSchema>
  /** The funded devnet accounts, in mnemonic order; `accounts[0]` deployed the contracts. */
  accounts: PrivateKeyAccount[]
}

export type TestDevnet = {
  manifest: Manifest
  chains: Record<string, TestChain>
  chain(name: string): TestChain
  devnet: Devnet
  stop(): Promise<void>
}

export type TestDevnetOptions = Omit<DevnetOptions, 'chains' | 'firstPort'> & {
  /** Chain names of the default topology (default: all) or full specs. */
  chains?: readonly (string | ChainSpec)[]
  /** Overrides every chain's block time; 0 (the default here) mines a block per transaction. */
  blockTimeMs?: number
}

export async function startTestDevnet(options: TestDevnetOptions = {}): Promise<TestDevnet> {
  const specs = (options.chains ?? defaultTopology).map((c) => {
    const spec = typeof c === 'string' ? defaultTopology.find((d) => d.name === c) : c
    if (!spec) throw new Error(`unknown chain "${String(c)}"`)
    return { ...spec, blockTimeMs: options.blockTimeMs ?? 0 }
  })
  const devnet = await startDevnet({
    ...options,
    chains: specs,
    firstPort: await freePortRange(specs.length),
  })
  const accounts = devnet.manifest.accounts.map((a) => privateKeyToAccount(a.privateKey as Hex))
  const chains: Record<string, TestChain> = {}
  for (const { entry } of devnet.chains) {
    const clients = createChainClients(entry, accounts[0]!)
    const test = createTestClient({
      mode: 'anvil',
      chain: clients.chain,
      transport: http(entry.rpcUrl),
      pollingInterval: pollingIntervalMs(entry),
    })
    const reorgRpc = createClient({
      chain: clients.chain,
      transport: http(entry.rpcUrl),
      rpcSchema: rpcSchema<AnvilReorgSchema>(),
    })
    chains[entry.name] = { ...clients, entry, test, reorgRpc, accounts }
  }
  return {
    manifest: devnet.manifest,
    chains,
    chain(name) {
      const chain = chains[name]
      if (!chain) throw new Error(`no chain "${name}" in this test devnet`)
      return chain
    },
    devnet,
    stop: () => devnet.stop(),
  }
}

/** Moves the chain's clock forward and mines a block so the new time is visible to contracts. */
export async function timeTravel(chain: TestChain, seconds: number): Promise<void> {
  await chain.test.increaseTime({ seconds })
  await chain.test.mine({ blocks: 1 })
}

export function snapshot(chain: TestChain): Promise<Hex> {
  return chain.test.snapshot()
}

/** Restores a snapshot. Anvil consumes the snapshot id, so take a new one to revert again. */
export function revert(chain: TestChain, id: Hex): Promise<void> {
  return chain.test.revert({ id })
}

export type ReorgTransaction = {
  /** Sent from an unlocked devnet account; `from` must be one of them. Gas defaults to 1M (see below). */
  request: TransactionRequest & { from: Hex }
  /** Which of the new blocks gets it: 0 is the first block after the fork point, depth − 1 the head. */
  blockOffset: number
}

export type ReorgResult = { forkBlock: bigint; head: { number: bigint; hash: Hash } }

/**
 * Drops the last `depth` blocks and mines `depth` different ones in their place (anvil_reorg), so
 * the head keeps its height but not its hash; `transactions` go into the new blocks. Transactions
 * of the dropped blocks are gone unless resent.
 */
export async function reorg(
  chain: TestChain,
  depth: number,
  transactions: readonly ReorgTransaction[] = [],
): Promise<ReorgResult> {
  const head = await chain.public.getBlockNumber({ cacheTime: 0 })
  if (BigInt(depth) > head) throw new Error(`cannot reorg ${depth} blocks of a chain at height ${head}`)
  const pairs = transactions.map(({ request, blockOffset }) => {
    if (blockOffset < 0 || blockOffset >= depth)
      throw new Error(`blockOffset ${blockOffset} outside 0..${depth - 1}`)
    return [jsonTransaction(request), blockOffset] as const
  })
  await chain.reorgRpc.request({ method: 'anvil_reorg', params: [depth, pairs] })
  const block = await chain.public.getBlock({ blockTag: 'latest' })
  return { forkBlock: head - BigInt(depth), head: { number: block.number, hash: block.hash } }
}

function jsonTransaction(request: ReorgTransaction['request']): Record<string, string> {
  const json: Record<string, string> = { from: request.from }
  if (request.to) json.to = request.to
  if (request.data) json.data = request.data
  if (request.value !== undefined) json.value = `0x${request.value.toString(16)}`
  // anvil estimates gas against the state *before* the reorg, which can be cheaper than the state
  // the transaction lands in (a warm slot that the reorg clears) and then runs out of gas.
  json.gas = `0x${(request.gas ?? 1_000_000n).toString(16)}`
  return json
}
