/**
 * npm run bench:devnet — how fast the devnet starts and how much it carries.
 *   cold start of the default 4 chains to ready, deploy included (median of RUNS)
 *   signed transactions per second per chain over HTTP (accepted, and mined)
 *   memory (RSS) of each anvil process after the load, and of the devnet's Node process
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { encodeFunctionData, type Hex, stringToHex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { startDevnet } from '../devnet/devnet.js'
import { freePortRange } from '../devnet/ports.js'
import { DEVNET_MNEMONIC } from '../devnet/topology.js'
import { chainProbeAbi } from '../sdk/abi/ChainProbe.js'
import { createChainClients } from '../sdk/client.js'
import { tempDir } from '../testing/messaging.js'
import { median, type ResultRow, report } from './lib/results.js'

const RUNS = Number(process.env.RUNS ?? 3)
const TXS = Number(process.env.TXS ?? 1_000)
const CONCURRENCY = 32

const rssMiB = (pid: number) => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match ? Number(match[1]) / 1024 : Number.NaN
}

const rows: ResultRow[] = []
const starts: number[] = []
for (let run = 0; run < RUNS; run++) {
  const firstPort = await freePortRange(4)
  const t0 = performance.now()
  const devnet = await startDevnet({ firstPort })
  starts.push(performance.now() - t0)
  if (run < RUNS - 1) {
    await devnet.stop()
    continue
  }

  // Load each chain in turn with pre-signed pings, CONCURRENCY requests in flight.
  const sender = mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: 5 })
  for (const { entry, anvil } of devnet.chains) {
    const { public: client } = createChainClients(entry, sender)
    const fees = await client.estimateFeesPerGas()
    const nonce0 = await client.getTransactionCount({ address: sender.address })
    const data = encodeFunctionData({
      abi: chainProbeAbi,
      functionName: 'ping',
      args: [stringToHex('bench', { size: 32 })],
    })
    const raws: Hex[] = await Promise.all(
      Array.from({ length: TXS }, (_, i) =>
        sender.signTransaction({
          chainId: entry.chainId,
          type: 'eip1559',
          to: entry.contracts.ChainProbe as Hex,
          data,
          nonce: nonce0 + i,
          gas: 100_000n,
          maxFeePerGas: fees.maxFeePerGas * 4n,
          maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
        }),
      ),
    )
    const t1 = performance.now()
    const hashes: Hex[] = new Array(TXS)
    let next = 0
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TXS) {
          const i = next++
          hashes[i] = await client.sendRawTransaction({ serializedTransaction: raws[i]! })
        }
      }),
    )
    const accepted = performance.now() - t1
    await client.waitForTransactionReceipt({ hash: hashes[TXS - 1]!, timeout: 120_000 })
    const mined = performance.now() - t1
    const chain = entry.name
    rows.push(
      {
        system: 'isthmus devnet (anvil)',
        operation: 'signed txs accepted over HTTP',
        chain,
        value: TXS / (accepted / 1000),
        unit: 'tx/s',
      },
      {
        system: 'isthmus devnet (anvil)',
        operation: 'signed txs mined',
        chain,
        value: TXS / (mined / 1000),
        unit: 'tx/s',
        blockTimeMs: entry.blockTimeMs,
      },
      {
        system: 'isthmus devnet (anvil)',
        operation: 'anvil RSS after load',
        chain,
        value: rssMiB(anvil.pid),
        unit: 'MiB',
      },
    )
  }
  const anvilTotal = devnet.chains.reduce((sum, c) => sum + rssMiB(c.anvil.pid), 0)
  rows.push(
    {
      system: 'isthmus devnet (anvil)',
      operation: 'all anvil processes RSS',
      chain: 'all',
      value: anvilTotal,
      unit: 'MiB',
    },
    {
      system: 'isthmus devnet (anvil)',
      operation: 'devnet Node process RSS',
      chain: 'all',
      value: process.memoryUsage().rss / 2 ** 20,
      unit: 'MiB',
    },
  )
  await devnet.stop()
}
// As `npm start` runs it: the same plus the validator committee and the relayer as processes.
const withServices: number[] = []
for (let run = 0; run < RUNS; run++) {
  const t0 = performance.now()
  const devnet = await startDevnet({
    firstPort: await freePortRange(4),
    manifestPath: join(tempDir('bench-devnet'), 'devnet.json'),
    services: true,
  })
  withServices.push(performance.now() - t0)
  await devnet.stop()
}

rows.unshift(
  {
    system: 'isthmus devnet (anvil)',
    operation: 'cold start to ready, 4 chains + deploy + services, as npm start (median)',
    chain: 'all',
    value: median(withServices) / 1000,
    unit: 's',
    runs: RUNS,
  },
  {
    system: 'isthmus devnet (anvil)',
    operation: 'cold start to ready, 4 chains + deploy (median)',
    chain: 'all',
    value: median(starts) / 1000,
    unit: 's',
    runs: RUNS,
  },
  {
    system: 'isthmus devnet (anvil)',
    operation: 'cold start to ready (slowest run)',
    chain: 'all',
    value: Math.max(...starts) / 1000,
    unit: 's',
    runs: RUNS,
  },
)

await report('devnet', rows, {
  machine: `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  load: `${TXS} pre-signed ChainProbe.ping transactions per chain, ${CONCURRENCY} in flight, viem http (fetch)`,
  note: 'cold start is bounded below by l1 mining the deploy block (2 s block time)',
})
