/**
 * npm run bench:messaging — messaging gas side by side with Hyperlane, relayer latency, throughput.
 *
 * 1. Gas, one run, same anvil build and hardfork: Isthmus (l1 → hub) and Hyperlane 12.1.0's own
 *    contracts from npm (on hub), 3-of-5 validators, 32-byte payloads, the same receiver contract.
 * 2. Relayer latency from "the relayer saw the message final" to "delivery transaction sent",
 *    p50/p99, on the devnet exactly as `npm start` runs it (validators and relayer as processes).
 * 3. Sustained delivery rate: a burst of messages, from the first send to the last delivery.
 */
import os from 'node:os'
import { join } from 'node:path'
import { encodeFunctionData, type Hex, stringToHex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { startDevnet } from '../devnet/devnet.js'
import { freePortRange } from '../devnet/ports.js'
import { DEVNET_MNEMONIC } from '../devnet/topology.js'
import { outboxAbi } from '../sdk/abi/Outbox.js'
import { createChainClients } from '../sdk/client.js'
import type { ChainEntry } from '../sdk/manifest.js'
import { startTestDevnet } from '../testing/devnet.js'
import { tempDir, validatorAccounts } from '../testing/messaging.js'
import { median, percentile, type ResultRow, report } from './lib/results.js'
import { measureIsthmusGas } from './messagingGas.js'
import { measureHyperlane } from './peers/hyperlane.js'

const LATENCY_MESSAGES = Number(process.env.LATENCY_MESSAGES ?? 40)
const BURST = Number(process.env.BURST ?? 300)

async function gasRows(): Promise<ResultRow[]> {
  const devnet = await startTestDevnet({ chains: ['l1', 'hub'] })
  try {
    const validators = validatorAccounts(devnet)
    const isthmus = await measureIsthmusGas(devnet.chain('l1'), devnet.chain('hub'), validators.slice(0, 3))
    const hub = devnet.chain('hub')
    const hyperlane = await measureHyperlane({
      rpcUrl: hub.entry.rpcUrl,
      chainId: hub.entry.chainId,
      deployer: hub.accounts[0]!,
      validators,
      threshold: 3,
      recipient: hub.entry.contracts.BenchReceiver as Hex,
    })
    return [...isthmus, ...hyperlane]
  } finally {
    await devnet.stop()
  }
}

/** Sends `count` messages from several devnet users, signed locally and sent back to back. */
async function sendMany(source: ChainEntry, dest: ChainEntry, count: number, spacingMs = 0): Promise<void> {
  const senders = [3, 4, 5, 6].map((addressIndex) => mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex }))
  const clients = senders.map((account) => createChainClients(source, account))
  const nonces = await Promise.all(
    clients.map((c) =>
      c.public.getTransactionCount({ address: c.wallet.account.address, blockTag: 'pending' }),
    ),
  )
  const fees = await clients[0]!.public.estimateFeesPerGas()
  const pending: Promise<Hex>[] = []
  for (let i = 0; i < count; i++) {
    const k = i % senders.length
    const data = encodeFunctionData({
      abi: outboxAbi,
      functionName: 'send',
      args: [
        BigInt(dest.chainId),
        dest.contracts.BenchReceiver as Hex,
        stringToHex(`bench ${i}`, { size: 32 }),
        100_000,
      ],
    })
    const raw = await senders[k]!.signTransaction({
      chainId: source.chainId,
      type: 'eip1559',
      to: source.contracts.Outbox as Hex,
      data,
      gas: 200_000n,
      nonce: nonces[k]!++,
      maxFeePerGas: fees.maxFeePerGas * 4n,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    })
    pending.push(clients[k]!.public.sendRawTransaction({ serializedTransaction: raw }))
    if (spacingMs) await new Promise((r) => setTimeout(r, spacingMs))
  }
  await Promise.all(pending)
}

type Stats = {
  counts: { status: string; n: number }[]
  finalToSentMs: number[]
  window: { firstFinalAt: number; lastDoneAt: number; delivered: number }
}

async function stats(relayer: string, since = 0): Promise<Stats> {
  return (await (await fetch(`${relayer}/v1/stats?since=${since}`)).json()) as Stats
}

async function waitDelivered(relayer: string, total: number, timeoutMs: number): Promise<Stats> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const s = await stats(relayer)
    const done = s.counts
      .filter((c) => c.status === 'success' || c.status === 'failure')
      .reduce((n, c) => n + c.n, 0)
    if (done >= total) return s
    if (Date.now() > deadline) throw new Error(`only ${done} of ${total} delivered after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function serviceRows(): Promise<ResultRow[]> {
  const manifestPath = join(tempDir('bench-messaging'), 'devnet.json')
  const devnet = await startDevnet({ firstPort: await freePortRange(4), manifestPath, services: true })
  try {
    const [, hub, base] = devnet.manifest.chains as [ChainEntry, ChainEntry, ChainEntry, ChainEntry]
    const relayer = devnet.manifest.services.relayer!
    // Latency: messages one at a time, each becoming final on its own.
    await sendMany(hub, base, LATENCY_MESSAGES, 150)
    const latency = (await waitDelivered(relayer, LATENCY_MESSAGES, 120_000)).finalToSentMs
    // Throughput: a burst both ways between the two fastest chains.
    const started = performance.now()
    const startedAt = Date.now()
    await Promise.all([sendMany(hub, base, BURST / 2), sendMany(base, hub, BURST / 2)])
    await waitDelivered(relayer, LATENCY_MESSAGES + BURST, 300_000)
    const seconds = (performance.now() - started) / 1000
    const { window } = await stats(relayer, startedAt)
    const deliverySeconds = (window.lastDoneAt - window.firstFinalAt) / 1000
    const system = 'Isthmus relayer (devnet, npm start)'
    return [
      {
        system,
        operation: 'finality seen → delivery tx sent, p50',
        value: median(latency),
        unit: 'ms',
        messages: latency.length,
      },
      {
        system,
        operation: 'finality seen → delivery tx sent, p99',
        value: percentile(latency, 99),
        unit: 'ms',
        messages: latency.length,
      },
      {
        system,
        operation: `burst of ${BURST} (hub ⇄ base), first send → last delivery (finality wait included)`,
        value: BURST / seconds,
        unit: 'msg/s',
      },
      {
        system,
        operation: `burst of ${BURST}, deliveries per second once final`,
        value: window.delivered / deliverySeconds,
        unit: 'msg/s',
      },
    ]
  } finally {
    await devnet.stop()
  }
}

const rows = [...(await gasRows()), ...(await serviceRows())]
await report('messaging', rows, {
  machine: `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  gas: 'receipts gasUsed on anvil (default hardfork), 32-byte payload, 3-of-5 validators, the same BenchReceiver behind both',
  goals:
    'send ≤ 50,000; verify+deliver one 3-of-5 ≤ 60,000; per message in a batch of 8 or 32 ≤ 25,000; p50 ≤ 100 ms',
  latency:
    'from the relayer storing the message as final to its delivery transaction being broadcast (relayer DB timestamps)',
})
