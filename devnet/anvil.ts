import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BaseError } from '../sdk/errors.js'

export type AnvilOptions = {
  port: number
  chainId: number
  /** 0 = mine one block per transaction; otherwise interval mining (anvil takes fractional seconds). */
  blockTimeMs: number
  mnemonic: string
  accounts: number
  /** Where anvil's own log goes (default: a file in the OS temp folder, named after the port). */
  logFile?: string
  /** Makes the node's own `safe`/`finalized` tags trail the head (finalized = head − 2·slots). */
  slotsInAnEpoch?: number
  hardfork?: string
}

export type AnvilProcess = {
  rpcUrl: string
  wsUrl: string
  /** Process id of anvil itself (not of its watchdog shell), for memory figures. */
  pid: number
  /** Resolves when the process has exited, for any reason. */
  exited: Promise<number | null>
  stop(): Promise<void>
}

export class AnvilError extends BaseError {
  override name = 'AnvilError'
}

const platformPackages: Record<string, string> = {
  'linux-x64': '@foundry-rs/anvil-linux-amd64',
  'linux-arm64': '@foundry-rs/anvil-linux-arm64',
  'darwin-x64': '@foundry-rs/anvil-darwin-amd64',
  'darwin-arm64': '@foundry-rs/anvil-darwin-arm64',
}

/** The anvil binary from the pinned npm platform package (no PATH lookup, no download). */
export function anvilBinary(): string {
  const pkg = platformPackages[`${process.platform}-${process.arch}`]
  if (!pkg) throw new AnvilError(`anvil has no npm package for ${process.platform}-${process.arch}`)
  try {
    return createRequire(import.meta.url).resolve(`${pkg}/bin/anvil`)
  } catch (cause) {
    throw new AnvilError(`${pkg} is not installed: run npm install`, { cause })
  }
}

/*
 * anvil is started under a tiny shell watchdog holding the write end of a pipe from us: when this
 * Node process ends in any way (even SIGKILL) the pipe closes, `read` returns, and the watchdog
 * kills anvil. That is how a child never outlives its test or its devnet command. The watchdog
 * prints anvil's pid so we can measure it. anvil logs every request: that goes to a file, never
 * through a pipe to us, so a busy or blocked Node event loop can never stall the chain.
 */
const WATCHDOG = `
exec 3<&0
log="$1"; shift
"$@" </dev/null >"$log" 2>&1 &
child=$!
echo "pid $child"
( read -r _ <&3; kill "$child" 2>/dev/null ) &
watcher=$!
wait "$child"
rc=$?
kill "$watcher" 2>/dev/null
exit $rc
`

export async function startAnvil(options: AnvilOptions): Promise<AnvilProcess> {
  const args = [
    '--host',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--chain-id',
    String(options.chainId),
    '--mnemonic',
    options.mnemonic,
    '--accounts',
    String(options.accounts),
    '--balance',
    '1000000',
  ]
  if (options.blockTimeMs > 0) args.push('--block-time', String(options.blockTimeMs / 1000))
  if (options.slotsInAnEpoch) args.push('--slots-in-an-epoch', String(options.slotsInAnEpoch))
  if (options.hardfork) args.push('--hardfork', options.hardfork)
  // Extra anvil flags for every chain, e.g. ISTHMUS_ANVIL_ARGS="--steps-tracing" to profile gas.
  args.push(...(process.env.ISTHMUS_ANVIL_ARGS?.split(/\s+/).filter(Boolean) ?? []))

  const logFile = options.logFile ?? join(tmpdir(), `isthmus-anvil-${options.port}.log`)
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'anvil-watchdog', logFile, anvilBinary(), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
    detached: true, // own process group: Ctrl-C reaches the devnet command, which stops chains in order
  })
  const output = collectOutput(child, logFile)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const rpcUrl = `http://127.0.0.1:${options.port}`
  try {
    const pid = await Promise.race([
      waitForReady(rpcUrl, output.pid),
      exited.then((code) => {
        throw new AnvilError(`anvil on port ${options.port} exited with code ${code} before it was ready`, {
          details: output.tail(),
        })
      }),
    ])
    return { rpcUrl, wsUrl: `ws://127.0.0.1:${options.port}`, pid, exited, stop: () => stop(child, exited) }
  } catch (error) {
    await stop(child, exited)
    throw error
  }
}

/** anvil's pid from the watchdog, and the end of anvil's log for error messages. */
function collectOutput(child: ChildProcess, logFile: string) {
  let resolvePid: (pid: number) => void = () => {}
  const pid = new Promise<number>((resolve) => {
    resolvePid = resolve
  })
  let buffered = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    const match = /^pid (\d+)$/m.exec(buffered)
    if (match) resolvePid(Number(match[1]))
  })
  const tail = () => {
    try {
      return readFileSync(logFile, 'utf8').trim().split('\n').slice(-8).join('\n')
    } catch {
      return `(no log at ${logFile})`
    }
  }
  return { pid, tail }
}

async function waitForReady(rpcUrl: string, pid: Promise<number>, timeoutMs = 15_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    try {
      const response = await fetch(rpcUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      })
      if (response.ok) return await pid
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new AnvilError(`anvil at ${rpcUrl} did not answer within ${timeoutMs} ms`)
}

/** Closing stdin makes the watchdog stop anvil; SIGKILL to the group is the fallback. */
async function stop(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  child.stdin?.end()
  const timer = setTimeout(() => {
    if (child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // the group is already gone
      }
    }
  }, 5_000)
  await exited
  clearTimeout(timer)
}
