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
 * The devnet's off-chain side: every validator of the manifest's committee, the relayer pointed at
 * them, the oracle nodes (prices and reserves), the keeper and the intent solver. Only the relayer
 * waits (for the validators' URLs); the rest start side by side, since each Node start-up costs a
 * second or two of ready time. Each URL is added to `manifest.services` in that order.
 */
export async function startMessagingServices(
  manifest: Manifest,
  manifestPath: string,
  dataDir: string,
  onStarted: (service: ServiceProcess) => Promise<void>,
): Promise<ServiceProcess[]> {
  const logDir = join(dataDir, 'logs')
  const started: ServiceProcess[] = []
  const spawnTracked = async (name: string, args: string[], expected = 1) => {
    const service = await spawnService(
      name,
      [...args, '--manifest', resolve(manifestPath), '--data', dataDir],
      logDir,
      expected,
    )
    started.push(service)
    return service
  }
  // One process per kind of service (the committee, the oracle nodes): five Node start-ups would cost seconds.
  const validatorCount = manifest.messaging?.validators.length ?? 0
  const committee = spawnTracked(
    'validators',
    ['validator', '--index', indexes(validatorCount)],
    validatorCount,
  )
  const relayer = committee.then((c) =>
    spawnTracked('relayer', ['relayer', '--validators', c.urls.join(',')]),
  )
  const oracleCount = manifest.oracles?.nodes.length ?? 0
  const hasFeeds = manifest.chains.some((c) =>
    Object.keys(c.contracts).some((n) => n.startsWith('PriceFeed.')),
  )
  const oracles =
    oracleCount && hasFeeds
      ? spawnTracked('oracles', ['oracle', '--index', indexes(oracleCount)], oracleCount)
      : undefined
  const agents = [
    manifest.chains.some((c) => c.contracts.MarginEngine) && 'keeper',
    manifest.chains.some((c) => c.contracts.OriginSettler) && 'solver',
  ]
    .filter((name): name is string => Boolean(name))
    .map((name) => spawnTracked(name, [name]))
  const all = await Promise.allSettled([committee, relayer, ...(oracles ? [oracles] : []), ...agents])
  const failed = all.find((r) => r.status === 'rejected')
  if (failed) {
    await Promise.all(started.map((s) => s.stop()))
    throw failed.reason
  }
  const [validators, relay, ...rest] = all.map((r) => (r as PromiseFulfilledResult<ServiceProcess>).value)
  const services = [
    ...perUrl(validators!, 'validator'),
    relay!,
    ...(oracles ? perUrl(rest.shift()!, 'oracle') : []),
    ...rest,
  ]
  for (const service of services) await onStarted(service)
  return services
}

const indexes = (count: number) => [...Array(count).keys()].join(',')

/** A process hosting several services (validators, oracle nodes) as one entry per URL: `<name>-<i>`. */
const perUrl = (process: ServiceProcess, name: string): ServiceProcess[] =>
  process.urls.map((url, i) => ({ ...process, name: `${name}-${i}`, url }))
