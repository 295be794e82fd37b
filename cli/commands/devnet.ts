import { resolve } from 'node:path'
import { DEFAULT_FIRST_PORT, type Devnet, startDevnet } from '../../devnet/devnet.js'
import { type ChainSpec, defaultTopology } from '../../devnet/topology.js'
import { parseFlags, parsePositiveInt, UsageError } from '../usage.js'

export const help = `isthmus devnet: start the local multi-chain devnet, deploy, and run until Ctrl-C

  --chains <n | a,b>     how many chains of the default topology, or which ones (default: all 4: ${defaultTopology.map((c) => c.name).join(', ')})
  --port <n>             first JSON-RPC port; chain i listens on n+i (default ${DEFAULT_FIRST_PORT})
  --block-time <ms>      block time of every chain, or per chain: l1=2000,hub=250 (0 = a block per transaction)
  --manifest <path>      where to write the manifest (default .isthmus/devnet.json)
  --no-services          chains and contracts only: no validators, no relayer`

export const DEFAULT_MANIFEST = '.isthmus/devnet.json'

export function selectChains(value: string | undefined): ChainSpec[] {
  if (value === undefined) return [...defaultTopology]
  if (/^\d+$/.test(value)) {
    const n = parsePositiveInt('--chains', value)
    if (n > defaultTopology.length) {
      throw new UsageError(`--chains ${n}: the topology has ${defaultTopology.length} chains`)
    }
    return defaultTopology.slice(0, n)
  }
  return value.split(',').map((name) => {
    const spec = defaultTopology.find((c) => c.name === name)
    if (!spec) {
      throw new UsageError(
        `--chains: unknown chain "${name}" (known: ${defaultTopology.map((c) => c.name).join(', ')})`,
      )
    }
    return spec
  })
}

export function applyBlockTimes(chains: ChainSpec[], value: string | undefined): ChainSpec[] {
  if (value === undefined) return chains
  const parseMs = (text: string) => {
    const ms = Number(text)
    if (!Number.isFinite(ms) || ms < 0)
      throw new UsageError(`--block-time expects milliseconds ≥ 0, got "${text}"`)
    return ms
  }
  if (!value.includes('=')) return chains.map((c) => ({ ...c, blockTimeMs: parseMs(value) }))
  const overrides = new Map<string, number>()
  for (const pair of value.split(',')) {
    const [name, ms] = pair.split('=')
    if (!name || ms === undefined || !chains.some((c) => c.name === name)) {
      throw new UsageError(`--block-time: "${pair}" does not name a chain of this devnet`)
    }
    overrides.set(name, parseMs(ms))
  }
  return chains.map((c) => ({ ...c, blockTimeMs: overrides.get(c.name) ?? c.blockTimeMs }))
}

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('devnet', argv, {
    chains: { type: 'string' },
    port: { type: 'string' },
    'block-time': { type: 'string' },
    manifest: { type: 'string' },
    'no-services': { type: 'boolean' },
  })
  const chains = applyBlockTimes(selectChains(flags.chains), flags['block-time'])
  const firstPort = flags.port === undefined ? DEFAULT_FIRST_PORT : parsePositiveInt('--port', flags.port)
  const manifestPath = resolve(flags.manifest ?? DEFAULT_MANIFEST)

  const started = performance.now()
  const devnet = await startDevnet({ chains, firstPort, manifestPath, services: !flags['no-services'] })
  printChains(devnet)
  printServices(devnet)
  const seconds = ((performance.now() - started) / 1000).toFixed(2)
  console.log(
    `ready in ${seconds} s: ${chains.length} chains, manifest ${flags.manifest ?? DEFAULT_MANIFEST} (Ctrl-C to stop)`,
  )
  await supervise(devnet)
}

function printServices(devnet: Devnet): void {
  for (const service of devnet.services) console.log(`${service.name.padEnd(12)} ${service.url}`)
}

function printChains(devnet: Devnet): void {
  const width = Math.max(...devnet.chains.map((c) => c.spec.name.length))
  for (const { spec, entry } of devnet.chains) {
    const shown = ['Outbox', 'Inbox'].filter((name) => entry.contracts[name])
    const more = Object.keys(entry.contracts).length - shown.length
    const contracts = [
      ...shown.map((name) => `${name} ${entry.contracts[name]}`),
      ...(more > 0 ? [`+${more} more in the manifest`] : []),
    ].join(', ')
    const mining = spec.blockTimeMs > 0 ? `block ${spec.blockTimeMs} ms` : 'block per tx'
    console.log(
      `${spec.name.padEnd(width)}  chain ${spec.chainId}  ${entry.rpcUrl}  ${mining}  final after ${spec.finalityConfirmations} blocks  ${contracts}`,
    )
  }
}

/**
 * Runs until SIGINT/SIGTERM or, when supervised, until stdin closes (clean stop, exit 0), or until a
 * chain dies (stop the rest, exit 1).
 */
function supervise(devnet: Devnet): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false
    const supervised = process.env.ISTHMUS_SUPERVISED === '1'
    const stop = (reason: string, error?: Error) => {
      if (stopping) return
      stopping = true
      // A stdin still read would keep the process alive after the devnet stopped.
      if (supervised) process.stdin.destroy()
      console.log(`stopping (${reason})`)
      devnet.stop().then(() => (error ? reject(error) : resolve()), reject)
    }
    process.once('SIGINT', () => stop('SIGINT'))
    process.once('SIGTERM', () => stop('SIGTERM'))
    // Under a supervisor (a test, a script): stop when its pipe closes, so a supervisor that dies
    // (a test killed on its timeout) never leaves a devnet running behind it.
    if (supervised) {
      process.stdin.on('end', () => stop('supervisor gone'))
      process.stdin.resume()
    }
    for (const { spec, anvil } of devnet.chains) {
      anvil.exited.then((code) =>
        stop(`chain ${spec.name} exited`, new Error(`chain ${spec.name} exited with code ${code}`)),
      )
    }
  })
}
