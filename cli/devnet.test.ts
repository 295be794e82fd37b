import assert from 'node:assert/strict'
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createPublicClient, http } from 'viem'
import { freePortRange, isPortFree } from '../devnet/ports.js'
import { readManifest } from '../sdk/manifest.js'
import { runCli } from '../testing/cli.js'
import { applyBlockTimes, selectChains } from './commands/devnet.js'

const scratch = () => mkdtempSync(join(tmpdir(), 'isthmus-cli-'))

async function waitUntilFree(ports: number[], timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if ((await Promise.all(ports.map(isPortFree))).every(Boolean)) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

describe('isthmus devnet', () => {
  const runs: ReturnType<typeof runCli>[] = []
  after(() => {
    for (const run of runs) run.kill()
  })

  it('reaches the ready line with 4 chains of distinct ids, then stops cleanly on SIGTERM', async () => {
    const port = await freePortRange(4)
    const manifestPath = join(scratch(), 'devnet.json')
    const run = runCli([
      'devnet',
      '--port',
      String(port),
      '--manifest',
      manifestPath,
      '--block-time',
      'l1=500',
    ])
    runs.push(run)
    const ready = await run.waitForLine(/^ready in /)
    assert.match(ready, /^ready in \d+\.\d\d s: 4 chains, manifest .*devnet\.json \(Ctrl-C to stop\)$/)

    const manifest = await readManifest(manifestPath)
    const ids = await Promise.all(
      manifest.chains.map((c) => createPublicClient({ transport: http(c.rpcUrl) }).getChainId()),
    )
    assert.deepEqual(ids, [31_001, 31_002, 31_003, 31_004])
    assert.equal(manifest.chains[0]!.blockTimeMs, 500)
    run.child.kill('SIGTERM')
    const exit = await run.exited
    assert.equal(exit.code, 0, exit.stderr)
    assert.match(
      exit.stdout,
      /^l1 {4}chain 31001 {2}http:\/\/127\.0\.0\.1:\d+ {2}block 500 ms {2}final after 6 blocks {2}Outbox 0x[0-9a-fA-F]{40}, Inbox 0x[0-9a-fA-F]{40}, \+\d+ more in the manifest$/m,
    )
    assert.match(exit.stdout, /^validator-4 {2}http:\/\/127\.0\.0\.1:\d+$/m)
    assert.match(exit.stdout, /^relayer {6}http:\/\/127\.0\.0\.1:\d+$/m)
    assert.match(exit.stdout, /^oracle-3 {5}http:\/\/127\.0\.0\.1:\d+$/m)
    assert.match(exit.stdout, /stopping \(SIGTERM\)/)
    assert.ok(!existsSync(manifestPath), 'the manifest of a stopped devnet is removed')
    assert.ok(await waitUntilFree([port, port + 1, port + 2, port + 3]))
  })

  it('takes its chains down with it when killed with SIGKILL', async () => {
    const port = await freePortRange(2)
    const run = runCli([
      'devnet',
      '--chains',
      '2',
      '--port',
      String(port),
      '--manifest',
      join(scratch(), 'm.json'),
    ])
    runs.push(run)
    await run.waitForLine(/^ready in /)
    const relayerUrl = (await run.waitForLine(/^relayer /)).split(/\s+/)[1]!
    const relayerPort = Number(new URL(relayerUrl).port)
    run.child.kill('SIGKILL')
    await run.exited
    assert.ok(await waitUntilFree([port, port + 1]), 'no anvil outlives the devnet command')
    assert.ok(await waitUntilFree([relayerPort]), 'no service outlives it either')
  })

  it('stops cleanly when its supervisor goes away (its stdin pipe closes)', async () => {
    const port = await freePortRange(1)
    const run = runCli(['devnet', '--chains', '1', '--no-services', '--port', String(port)])
    runs.push(run)
    await run.waitForLine(/^ready in /)
    // What a test runner killed on its timeout leaves behind: the pipe to the devnet closes.
    run.child.stdin?.end()
    const exit = await run.exited
    assert.equal(exit.code, 0, exit.stderr)
    assert.match(exit.stdout, /stopping \(supervisor gone\)/)
    assert.ok(await waitUntilFree([port]), 'no anvil outlives it')
  })

  it('reports a port in use in one line and exits 1', async () => {
    const port = await freePortRange(1)
    const blocker = createServer().listen(port, '127.0.0.1')
    await new Promise((r) => blocker.once('listening', r))
    try {
      const exit = await runCli(['devnet', '--chains', 'l1', '--port', String(port)]).exited
      assert.equal(exit.code, 1)
      assert.equal(
        exit.stderr,
        `isthmus devnet: port ${port} (chain l1) is already in use: stop what holds it, or pass --port <first port>\n`,
      )
    } finally {
      blocker.close()
    }
  })

  it('reports a bad flag in one line and exits 2', async () => {
    const exit = await runCli(['devnet', '--chainz', '2']).exited
    assert.equal(exit.code, 2)
    assert.equal(exit.stderr, "isthmus devnet: Unknown option '--chainz' (see: isthmus devnet --help)\n")
  })

  it('reports a missing contract build in one line and exits 1', async () => {
    const dir = scratch()
    const repo = process.cwd()
    for (const entry of readdirSync(repo)) {
      if (['node_modules', 'out', 'cache', '.git', '.isthmus', 'sdk'].includes(entry)) continue
      cpSync(join(repo, entry), join(dir, entry), { recursive: true })
    }
    cpSync(join(repo, 'sdk'), join(dir, 'sdk'), {
      recursive: true,
      filter: (src) => !src.includes('/sdk/abi'),
    })
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'))
    try {
      const exit = await runCli(['devnet', '--chains', '1', '--port', String(await freePortRange(1))], {
        cwd: dir,
      }).exited
      assert.equal(exit.code, 1)
      assert.equal(
        exit.stderr,
        'isthmus: the contracts are not built in this checkout: run `npm run build`\n',
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('devnet flags', () => {
  it('--chains takes a count or names', () => {
    assert.deepEqual(
      selectChains('2').map((c) => c.name),
      ['l1', 'hub'],
    )
    assert.deepEqual(
      selectChains('hub,bank').map((c) => c.name),
      ['hub', 'bank'],
    )
    assert.throws(() => selectChains('5'), /--chains 5: the topology has 4 chains/)
    assert.throws(() => selectChains('hub,moon'), /unknown chain "moon"/)
    assert.throws(() => selectChains('0'), /positive whole number/)
  })

  it('--block-time sets every chain or named ones', () => {
    const chains = selectChains('l1,hub')
    assert.deepEqual(
      applyBlockTimes(chains, '100').map((c) => c.blockTimeMs),
      [100, 100],
    )
    assert.deepEqual(
      applyBlockTimes(chains, 'hub=0').map((c) => c.blockTimeMs),
      [2_000, 0],
    )
    assert.throws(() => applyBlockTimes(chains, 'base=100'), /"base=100" does not name a chain/)
    assert.throws(() => applyBlockTimes(chains, '-1'), /milliseconds ≥ 0/)
  })
})
