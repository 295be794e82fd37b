import { type ChildProcess, spawn } from 'node:child_process'
import { openSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BaseError } from '../sdk/errors.js'
import type { Manifest } from '../sdk/manifest.js'

export type ServiceProcess = {
  name: string
  /** The first URL the process printed; `urls` has all of them (a process may host several services). */
  url: string
  urls: string[]
  child: ChildProcess
  stop(): Promise<void>
}

export class ServiceStartError extends BaseError {
  override name = 'ServiceStartError'
}

const cli = fileURLToPath(new URL('../bin/isthmus', import.meta.url))

/**
 * Starts one service as its own process (`bin/isthmus <args>`), waits for its "ready <url>" line,
 * and keeps its stdin open: the service exits when that pipe closes, so it ends with the devnet
 * even when the devnet is killed outright. Logs go to `<logDir>/<name>.log`.
 */
export async function spawnService(
  name: string,
  args: string[],
  logDir: string,
  expected = 1,
): Promise<ServiceProcess> {
  await mkdir(logDir, { recursive: true })
  const log = openSync(join(logDir, `${name}.log`), 'a')
  const child = spawn(cli, args, {
    stdio: ['pipe', 'pipe', log],
    env: { ...process.env, ISTHMUS_SUPERVISED: '1' },
  })
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  const urls = await new Promise<string[]>((resolveUrls, reject) => {
    let output = ''
    const timer = setTimeout(
      () => reject(new ServiceStartError(`${name} did not become ready in 30 s`)),
      30_000,
    )
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const found = [...output.matchAll(/ ready (http:\/\/\S+)/g)].map((m) => m[1]!)
      if (found.length >= expected) {
        clearTimeout(timer)
        resolveUrls(found)
      }
    })
    exited.then((code) => {
      clearTimeout(timer)
      reject(
        new ServiceStartError(
          `${name} exited with code ${code} before it was ready: see ${join(logDir, `${name}.log`)}`,
        ),
      )
    })
  })
  return {
    name,
    url: urls[0]!,
    urls,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.stdin?.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/**
 * The devnet's off-chain side: every validator of the manifest's committee, then the relayer
 * pointed at them, then the oracle nodes (prices and reserves), then the keeper and the intent
 * solver. Each URL is added to `manifest.services` as it comes up.
 */
export async function startMessagingServices(
  manifest: Manifest,
  manifestPath: string,
  dataDir: string,
  onStarted: (service: ServiceProcess) => Promise<void>,
): Promise<ServiceProcess[]> {
  const logDir = join(dataDir, 'logs')
  const started: ServiceProcess[] = []
  try {
    // One process for the whole devnet committee: five Node start-ups would cost seconds of ready time.
    const count = manifest.messaging?.validators.length ?? 0
    const committee = await spawnService(
      'validators',
      [
        'validator',
        '--manifest',
        resolve(manifestPath),
        '--data',
        dataDir,
        '--index',
        [...Array(count).keys()].join(','),
      ],
      logDir,
      count,
    )
    started.push(committee)
    const validators = committee.urls.map((url, i) => ({ ...committee, name: `validator-${i}`, url }))
    for (const v of validators) await onStarted(v)
    const relayer = await spawnService(
      'relayer',
      [
        'relayer',
        '--manifest',
        resolve(manifestPath),
        '--data',
        dataDir,
        '--validators',
        validators.map((v) => v.url).join(','),
      ],
      logDir,
    )
    started.push(relayer)
    await onStarted(relayer)
    const oracles = await startOracles(manifest, manifestPath, dataDir, logDir, started)
    for (const o of oracles) await onStarted(o)
    const services = [...validators, relayer, ...oracles]
    // The keeper and the solver depend on nothing but the chains: they start side by side.
    const agents = [
      manifest.chains.some((c) => c.contracts.MarginEngine) && 'keeper',
      manifest.chains.some((c) => c.contracts.OriginSettler) && 'solver',
    ].filter((name): name is string => Boolean(name))
    const spawned = await Promise.allSettled(
      agents.map((name) =>
        spawnService(name, [name, '--manifest', resolve(manifestPath), '--data', dataDir], logDir),
      ),
    )
    for (const result of spawned) if (result.status === 'fulfilled') started.push(result.value)
    const failed = spawned.find((r) => r.status === 'rejected')
    if (failed) throw failed.reason
    for (const result of spawned) {
      const service = (result as PromiseFulfilledResult<ServiceProcess>).value
      await onStarted(service)
      services.push(service)
    }
    return services
  } catch (error) {
    await Promise.all(started.map((s) => s.stop()))
    throw error
  }
}

/** The price oracle nodes, all in one process, when the hub has price feeds to push. */
async function startOracles(
  manifest: Manifest,
  manifestPath: string,
  dataDir: string,
  logDir: string,
  started: ServiceProcess[],
): Promise<ServiceProcess[]> {
  const count = manifest.oracles?.nodes.length ?? 0
  const hasFeeds = manifest.chains.some((c) =>
    Object.keys(c.contracts).some((n) => n.startsWith('PriceFeed.')),
  )
  if (!count || !hasFeeds) return []
  const process = await spawnService(
    'oracles',
    [
      'oracle',
      '--manifest',
      resolve(manifestPath),
      '--data',
      dataDir,
      '--index',
      [...Array(count).keys()].join(','),
    ],
    logDir,
    count,
  )
  started.push(process)
  return process.urls.map((url, i) => ({ ...process, name: `oracle-${i}`, url }))
}
