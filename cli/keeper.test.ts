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

const command = fileURLToPath(new URL('./commands/keeper.ts', import.meta.url))

/**
 * Runs `isthmus keeper <args>` in a child process. It loads the command module directly (the same
 * `run(argv)` bin/isthmus calls) so the test does not depend on its registration in cli/main.ts.
 */
function runKeeper(args: string[], env: NodeJS.ProcessEnv = {}) {
  const script = `const m = await import(${JSON.stringify(command)}); await m.run(process.argv.slice(1))`
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ISTHMUS_LOG_LEVEL: 'warn', ...env } },
  )
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const line = stdout.split('\n').find((l) => / ready http:\/\//.test(l))
      if (line) resolve(line)
    })
    exited.then((code) => reject(new Error(`exited with ${code}: ${stdout}${stderr}`)))
  })
  ready.catch(() => undefined) // awaited by the test; an exit after the test is not an error
  return { child, ready, exited, output: () => stdout + stderr }
}

describe('isthmus keeper on a devnet manifest', () => {
  let devnet: TestDevnet
  const dir = tempDir('cli-keeper')
  const manifestPath = join(dir, 'devnet.json')
  let keeper: ReturnType<typeof runKeeper> | undefined

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub'] })
    await writeManifest(manifestPath, devnet.manifest)
  })
  after(async () => {
    keeper?.child.kill('SIGKILL')
    await devnet.stop()
  })

  it('runs as the devnet keeper account (mnemonic 19), serves /status, stops on SIGTERM', async () => {
    keeper = runKeeper(['--manifest', manifestPath, '--data', join(dir, 'data')], { ISTHMUS_KEEPER_KEY: '' })
    const line = await keeper.ready
    const expected = mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: DEVNET_ROLES.keeper }).address
    assert.match(line, new RegExp(`^keeper ${expected} ready http://127\\.0\\.0\\.1:\\d+$`))
    const status = (await (await fetch(`${line.split(' ready ')[1]}/status`)).json()) as {
      keeper: string
      engine: string
      marginCallLevel: number
    }
    assert.equal(status.keeper, expected)
    assert.equal(status.engine, devnet.manifest.chains[0]!.contracts.MarginEngine)
    assert.equal(status.marginCallLevel, 1.1)
    keeper.child.kill('SIGTERM')
    assert.equal(await keeper.exited, 0, keeper.output())
  })
})
