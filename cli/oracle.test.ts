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
import { devnetOracleKey, feedsFromManifest } from './commands/oracle.js'

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
  let bank: TestChain
  let oracle: ReturnType<typeof runOracle>
  const feeds: Record<string, Address> = {}
  let reserveFeed: Address
  const dir = tempDir('cli-oracle')
  const manifestPath = join(dir, 'devnet.json')

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub', 'bank'], deploy: false, blockTimeMs: 250 })
    hub = devnet.chain('hub')
    bank = devnet.chain('bank')
    const oracles = DEVNET_ROLES.oracles.map((_, i) => devnetOracleKey(devnet.manifest, i).address)
    // What the devnet does: deploy the feeds with the oracle set; the oracle keys pay for their
    // transmits (the devnet funds them; set here so this test does not depend on it).
    for (const chain of [hub, bank])
      for (const oracleAddress of oracles)
        await chain.test.setBalance({ address: oracleAddress, value: parseEther('100') })
    const deployFeed = async (chain: TestChain, description: string) => {
      const hash = await chain.wallet.deployContract({
        abi: priceFeedAbi,
        bytecode: priceFeedBytecode,
        args: [chain.accounts[0]!.address, 8, description, 300],
      })
      const address = (await chain.public.waitForTransactionReceipt({ hash })).contractAddress!
      const set = await chain.wallet.writeContract({
        address,
        abi: priceFeedAbi,
        functionName: 'setOracles',
        args: [oracles, DEVNET_ROLES.oraclesFaulty],
      })
      await chain.public.waitForTransactionReceipt({ hash: set })
      return address
    }
    for (const asset of ['WETH', 'USDC']) {
      feeds[asset] = await deployFeed(hub, `${asset} / USD`)
      hub.entry.contracts[`PriceFeed.${asset}`] = feeds[asset]
    }
    // A proof-of-reserve feed on another chain, for a token there (no ReserveReporter: no reports).
    reserveFeed = await deployFeed(bank, 'TBILL reserves')
    bank.entry.contracts['ReserveFeed.TBILL'] = reserveFeed
    bank.entry.contracts.TBILL = bank.accounts[9]!.address
    await writeManifest(manifestPath, devnet.manifest)
  })
  after(async () => {
    oracle?.child.kill('SIGKILL')
    await devnet.stop()
  })

  const answer = async (asset: string, chain = hub, address = feeds[asset]!) => {
    const round = await chain.public.readContract({ address, abi: priceFeedAbi, functionName: 'latestRound' })
    if (round === 0n) return undefined
    const [, value] = await chain.public.readContract({
      address,
      abi: priceFeedAbi,
      functionName: 'latestRoundData',
    })
    return value
  }

  it('feeds: the hub prices and the reserve feeds of every chain; --chain keeps to one chain', () => {
    const all = feedsFromManifest(devnet.manifest, undefined)
    assert.deepEqual(
      all.map((f) => [f.chain, f.kind ?? 'price', f.asset, f.address, f.token]),
      [
        ['hub', 'price', 'WETH', feeds.WETH, undefined],
        ['hub', 'price', 'USDC', feeds.USDC, undefined],
        ['bank', 'reserve', 'TBILL', reserveFeed, bank.accounts[9]!.address],
      ],
    )
    assert.equal(all[2]!.reporter, undefined, 'no ReserveReporter on bank in this manifest')
    assert.deepEqual(
      feedsFromManifest(devnet.manifest, 'hub').map((f) => f.asset),
      ['WETH', 'USDC'],
    )
    assert.deepEqual(
      feedsFromManifest(devnet.manifest, 'bank').map((f) => [f.kind, f.asset]),
      [['reserve', 'TBILL']],
    )
    assert.throws(() => feedsFromManifest(devnet.manifest, 'l1'), /no chain named "l1"/)
  })

  it('--index 0,1,2,3 starts the 4 devnet oracle keys (mnemonic 15–18) and pushes every PriceFeed.<SYMBOL> and the reserves on bank', async () => {
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
    const reserves = await eventually(
      'a reserve round on bank',
      () => answer('TBILL', bank, reserveFeed),
      15_000,
    )
    assert.equal(reserves, parseUnits('50000000', 8), 'the devnet custodian level')
  })

  it('POST /shock on a devnet crashes WETH on chain within seconds; SIGTERM stops cleanly', async () => {
    const url = (await oracle.lines)[0]!.split(' ready ')[1]!
    const set = await fetch(`${url}/reserves`, {
      method: 'POST',
      body: JSON.stringify({ asset: 'TBILL', factor: 0.5 }),
    })
    assert.equal(set.status, 200, oracle.output())
    await eventually(
      'halved reserves on bank',
      async () =>
        (await answer('TBILL', bank, reserveFeed)) === parseUnits('25000000', 8) ? true : undefined,
      5_000,
    )
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
