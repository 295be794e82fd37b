import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { mnemonicToAccount } from 'viem/accounts'
import { DEVNET_MNEMONIC, DEVNET_ROLES } from '../devnet/topology.js'
import { writeManifest } from '../sdk/manifest.js'
import { startTestDevnet, type TestDevnet } from '../testing/devnet.js'
import { tempDir } from '../testing/messaging.js'

const command = fileURLToPath(new URL('./commands/solver.ts', import.meta.url))

/**
 * Runs `isthmus solver <args>` in a child process, loading the command module directly (the same
 * `run(argv)` bin/isthmus calls) so the test does not depend on its registration in cli/main.ts.
 */
function runSolver(args: string[], env: NodeJS.ProcessEnv = {}) {
  const script = `const m = await import(${JSON.stringify(command)}); await m.run(process.argv.slice(1))`
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ISTHMUS_LOG_LEVEL: 'warn', ...env } },
  )
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const line = output.split('\n').find((l) => / ready http:\/\//.test(l))
      if (line) resolve(line)
    })
    exited.then((code) => reject(new Error(`exited with ${code}: ${output}`)))
  })
  ready.catch(() => undefined) // awaited by the test; an exit after the test is not an error
  return { child, ready, exited, output: () => output }
}

describe('isthmus solver on a devnet manifest', () => {
  let devnet: TestDevnet
  const dir = tempDir('cli-solver')
  const manifestPath = join(dir, 'devnet.json')
  let solver: ReturnType<typeof runSolver> | undefined

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub', 'base'] })
    await writeManifest(manifestPath, devnet.manifest)
  })
  after(async () => {
    solver?.child.kill('SIGKILL')
    await devnet.stop()
  })

  it('runs as the devnet solver account (mnemonic 20), serves /status, stops on SIGTERM', async () => {
    solver = runSolver(['--manifest', manifestPath, '--data', join(dir, 'data'), '--min-spread-bps', '12'], {
      ISTHMUS_SOLVER_KEY: '',
    })
    const line = await solver.ready
    const expected = mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: DEVNET_ROLES.solver }).address
    assert.match(line, new RegExp(`^solver ${expected} ready http://127\\.0\\.0\\.1:\\d+$`))
    const status = (await (await fetch(`${line.split(' ready ')[1]}/status`)).json()) as {
      solver: string
      minSpreadBps: number
      chains: { name: string; originSettler: string }[]
    }
    assert.equal(status.solver, expected)
    assert.equal(status.minSpreadBps, 12)
    assert.deepEqual(status.chains.map((c) => c.name).sort(), ['base', 'hub'])
    solver.child.kill('SIGTERM')
    assert.equal(await solver.exited, 0, solver.output())
  })

  it('refuses a malformed key or spread before touching any chain', async () => {
    const badKey = runSolver(['--manifest', manifestPath, '--data', join(dir, 'bad')], {
      ISTHMUS_SOLVER_KEY: '0x1234',
    })
    assert.notEqual(await badKey.exited, 0)
    assert.match(badKey.output(), /ISTHMUS_SOLVER_KEY must be a 32-byte hex private key/)
    const badSpread = runSolver(['--manifest', manifestPath, '--min-spread-bps', 'lots'])
    assert.notEqual(await badSpread.exited, 0)
    assert.match(badSpread.output(), /--min-spread-bps expects a whole number/)
  })
})
