import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type Address, parseEther, parseUnits } from 'viem'
import { DEVNET_ROLES } from '../devnet/topology.js'
import { priceFeedAbi, priceFeedBytecode } from '../sdk/abi/PriceFeed.js'
import { writeManifest } from '../sdk/manifest.js'
import { startTestDevnet, type TestChain, type TestDevnet } from '../testing/devnet.js'
import { eventually, tempDir } from '../testing/messaging.js'
import { devnetOracleKey } from './commands/oracle.js'

const command = fileURLToPath(new URL('./commands/oracle.ts', import.meta.url))

/**
 * Runs `isthmus oracle <args>` in a child process. It loads the command module directly (the same
 * `run(argv)` bin/isthmus calls) so the test does not depend on its registration in cli/main.ts.
 */
function runOracle(args: string[]): { child: ChildProcess; lines: Promise<string[]>; output: () => string } {
  const script = `const m = await import(${JSON.stringify(command)}); await m.run(process.argv.slice(1))`
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ISTHMUS_LOG_LEVEL: 'warn' },
    },
  )
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const lines = new Promise<string[]>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const ready = stdout.split('\n').filter((l) => / ready http:\/\//.test(l))
      if (ready.length === DEVNET_ROLES.oracles.length) resolve(ready)
    })
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${stdout}${stderr}`)))
  })
  return { child, lines, output: () => stdout + stderr }
}

describe('isthmus oracle on a devnet manifest', () => {
  let devnet: TestDevnet
  let hub: TestChain
  let oracle: ReturnType<typeof runOracle>
  const feeds: Record<string, Address> = {}
  const dir = tempDir('cli-oracle')
  const manifestPath = join(dir, 'devnet.json')

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub'], deploy: false, blockTimeMs: 250 })
    hub = devnet.chain('hub')
    const oracles = DEVNET_ROLES.oracles.map((_, i) => devnetOracleKey(devnet.manifest, i).address)
    // What the devnet does: deploy the feeds with the oracle set; the oracle keys pay for their
    // transmits (the devnet funds them; set here so this test does not depend on it).
    for (const oracleAddress of oracles)
      await hub.test.setBalance({ address: oracleAddress, value: parseEther('100') })
    for (const [asset, decimals] of [
      ['WETH', 8],
      ['USDC', 8],
    ] as const) {
      const hash = await hub.wallet.deployContract({
        abi: priceFeedAbi,
        bytecode: priceFeedBytecode,
        args: [hub.accounts[0]!.address, decimals, `${asset} / USD`, 300],
      })
      const address = (await hub.public.waitForTransactionReceipt({ hash })).contractAddress!
      const set = await hub.wallet.writeContract({
        address,
        abi: priceFeedAbi,
        functionName: 'setOracles',
        args: [oracles, DEVNET_ROLES.oraclesFaulty],
      })
      await hub.public.waitForTransactionReceipt({ hash: set })
      feeds[asset] = address
      hub.entry.contracts[`PriceFeed.${asset}`] = address
    }
    await writeManifest(manifestPath, devnet.manifest)
  })
  after(async () => {
    oracle?.child.kill('SIGKILL')
    await devnet.stop()
  })

  const answer = async (asset: string) => {
    const round = await hub.public.readContract({
      address: feeds[asset]!,
      abi: priceFeedAbi,
      functionName: 'latestRound',
    })
    if (round === 0n) return undefined
    const [, value] = await hub.public.readContract({
      address: feeds[asset]!,
      abi: priceFeedAbi,
      functionName: 'latestRoundData',
    })
    return value
  }

  it('--index 0,1,2,3 starts the 4 devnet oracle keys (mnemonic 15–18) and pushes every PriceFeed.<SYMBOL>', async () => {
    oracle = runOracle(['--manifest', manifestPath, '--data', join(dir, 'data'), '--index', '0,1,2,3'])
    const lines = await oracle.lines
    const withoutSection = { ...devnet.manifest, oracles: undefined }
    assert.deepEqual(
      DEVNET_ROLES.oracles.map((_, i) => devnetOracleKey(withoutSection, i).address),
      DEVNET_ROLES.oracles.map((_, i) => devnetOracleKey(devnet.manifest, i).address),
      'the mnemonic fallback gives the same keys as the manifest section',
    )
    assert.deepEqual(
      lines.map((l) => l.split(' ')[1]),
      DEVNET_ROLES.oracles.map((_, i) => devnetOracleKey(devnet.manifest, i).address),
    )
    const weth = await eventually('a WETH round', () => answer('WETH'), 15_000)
    assert.ok(weth > parseUnits('2950', 8) && weth < parseUnits('3050', 8), `WETH near 3000: ${weth}`)
    const usdc = await eventually('a USDC round', () => answer('USDC'), 15_000)
    assert.ok(usdc > parseUnits('0.99', 8) && usdc < parseUnits('1.01', 8), `USDC near 1: ${usdc}`)
  })

  it('POST /shock on a devnet crashes WETH on chain within seconds; SIGTERM stops cleanly', async () => {
    const url = (await oracle.lines)[0]!.split(' ready ')[1]!
    const response = await fetch(`${url}/shock`, {
      method: 'POST',
      body: JSON.stringify({ asset: 'WETH', factor: 0.6 }),
    })
    assert.equal(response.status, 200, oracle.output())
    await eventually(
      'the crash on chain',
      async () => ((await answer('WETH'))! < parseUnits('1850', 8) ? true : undefined),
      5_000,
    )
    type Status = { feeds: { asset: string; shock: number; onChain: { price: number } | null }[] }
    // /status shows the chain as of the nodes' last tick.
    const weth = await eventually('the crash in /status', async () => {
      const status = (await (await fetch(`${url}/status`)).json()) as Status
      const feed = status.feeds.find((f) => f.asset === 'WETH')!
      return feed.onChain && feed.onChain.price < 1_850 ? feed : undefined
    })
    assert.equal(weth.shock, 0.6)

    const exited = new Promise<number | null>((resolve) => oracle.child.once('exit', resolve))
    oracle.child.kill('SIGTERM')
    assert.equal(await exited, 0, oracle.output())
  })
})
