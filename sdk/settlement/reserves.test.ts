import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { createLogger } from '../../services/core/logger.js'
import { type RunningOracleNodes, startOracleNodes } from '../../services/oracle/oracle.js'
import { startTestDevnet, type TestChain, type TestDevnet } from '../../testing/devnet.js'
import {
  contractAddress,
  deliverOnHub,
  faucet,
  mined,
  pushPrice,
  sentMessage,
  tokenUnits,
} from '../../testing/margin.js'
import { eventually, tempDir } from '../../testing/messaging.js'
import { reserveReporterAbi } from '../abi/ReserveReporter.js'
import { writeManifest } from '../manifest.js'
import { MintRefusedError, faucet as sdkFaucet } from '../margin/actions.js'
import { type ReserveStatusReport, readReserveStatus, reserveSymbols } from './reserves.js'

const command = fileURLToPath(new URL('../../cli/commands/reserves.ts', import.meta.url))

/**
 * `isthmus reserves <args>` in a child process: the command module's own `run(argv)` (what
 * bin/isthmus calls), so the test does not depend on its registration in cli/main.ts. Errors
 * print as bin/isthmus prints them: one line, exit 2 for usage, 1 otherwise.
 */
function reserves(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = `const m = await import(${JSON.stringify(command)});
try { await m.run(process.argv.slice(1)) } catch (e) {
  console.error(e.shortMessage ?? e.message); process.exitCode = e.name === 'UsageError' ? 2 : 1 }`
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    )
  })
}

describe('reserve status of a reserve-backed token (bank) and the hub gate', () => {
  let devnet: TestDevnet
  let bank: TestChain
  let manifestPath: string
  const dir = tempDir('reserves-status')

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub', 'bank'] })
    bank = devnet.chain('bank')
    manifestPath = join(dir, 'devnet.json')
    await writeManifest(manifestPath, devnet.manifest)
  })
  after(() => devnet.stop())

  const read = () => readReserveStatus(devnet.manifest, 'TBILL')

  it('before any reserve round: no reserves, a stale feed, not backed, and the hub gate fails closed', async () => {
    assert.deepEqual(reserveSymbols(devnet.manifest), ['TBILL'])
    const status = await read()
    assert.equal(status.chain.name, 'bank')
    assert.equal(status.chain.supply, '0')
    assert.equal(status.chain.reserves, null)
    assert.equal(status.chain.feedStale, true)
    assert.equal(status.chain.isBacked, false)
    assert.equal(status.chain.maxFeedAgeSeconds, 300)
    assert.equal(status.reporter?.lastReport, null)
    assert.equal(status.reporter?.minIntervalSeconds, 60)
    assert.deepEqual(
      { tracked: status.hub?.tracked, isEligible: status.hub?.isEligible, status: status.hub?.status },
      { tracked: true, isEligible: false, status: null },
    )
    await assert.rejects(
      readReserveStatus(devnet.manifest, 'GOLD'),
      /no reserve feed ReserveFeed\.GOLD .*it has: TBILL/,
    )
  })

  it('supply, reserves, feed age and backing on bank; the gate after a delivered report; a shortfall before the breaker syncs', async () => {
    const pushed = await pushPrice(devnet, 'ReserveFeed.TBILL', 1_000, { chain: 'bank' })
    await faucet(bank, 'TBILL', bank.accounts[3]!.address, tokenUnits('TBILL', 600))
    let status = await read()
    assert.equal(status.chain.supply, '600')
    assert.equal(status.chain.reserves, '1000')
    assert.equal(status.chain.headroom, '400')
    assert.equal(status.chain.feedRound, Number(pushed.roundId))
    assert.equal(status.chain.feedUpdatedAt, Number(pushed.updatedAt))
    assert.equal(status.chain.feedAgeSeconds, status.chain.time - Number(pushed.updatedAt))
    assert.deepEqual(
      [status.chain.feedStale, status.chain.breakerTripped, status.chain.isBacked],
      [false, false, true],
    )

    const hash = await bank.wallet.writeContract({
      address: contractAddress(bank, 'ReserveReporter'),
      abi: reserveReporterAbi,
      functionName: 'report',
      args: [contractAddress(bank, 'TBILL')],
    })
    const receipt = await mined(bank, hash, 'report')
    await deliverOnHub(devnet, 'bank', sentMessage(bank, receipt))
    status = await read()
    assert.equal(status.reporter?.lastReport?.backed, true)
    assert.equal(status.hub?.isEligible, true)
    assert.deepEqual(status.hub?.status && { ...status.hub.status, observedAt: 0 }, {
      supply: '600',
      reserves: '1000',
      backed: true,
      observedAt: 0,
    })

    await pushPrice(devnet, 'ReserveFeed.TBILL', 500, { chain: 'bank' })
    status = await read()
    assert.equal(status.chain.headroom, '-100')
    assert.equal(status.chain.isBacked, false)
    assert.equal(status.chain.breakerTripped, false, 'nothing synced the breaker yet')
    assert.equal(status.hub?.isEligible, true, 'the hub has not been told')

    // The faucet's mint would return false (it finds the token short and only trips the breaker):
    // a refusal, and nothing is sent.
    const nonce = await bank.public.getTransactionCount({ address: bank.accounts[0]!.address })
    await assert.rejects(
      sdkFaucet(devnet.manifest, 'bank', 'TBILL', bank.accounts[3]!.address, '1', bank.accounts[0]!),
      (error: unknown) =>
        error instanceof MintRefusedError &&
        error.reason === 'ReserveBreakerTripped' &&
        error.shortMessage === 'minting TBILL on bank refused: ReserveBreakerTripped',
    )
    assert.equal(await bank.public.getTransactionCount({ address: bank.accounts[0]!.address }), nonce)
    assert.equal((await read()).chain.breakerTripped, false)
  })

  it('isthmus reserves prints it (text and --json); an unknown symbol is an error', async () => {
    const text = await reserves(['--manifest', manifestPath])
    assert.equal(text.code, 0, text.stderr)
    const lines = text.stdout.split('\n')
    assert.match(lines[0]!, /^TBILL on bank \(token 0x[0-9a-fA-F]{40}, reserve feed 0x[0-9a-fA-F]{40}\)$/)
    assert.match(lines[1]!, /supply 600 {3}reserves 500 {3}headroom -100/)
    assert.match(lines[2]!, /reserve feed round 2, \d+ s old \(max 300 s\): fresh/)
    assert.match(lines[3]!, /breaker ok {3}isBacked NO/)
    assert.match(lines[4]!, /reporter 0x.*: last report \d+ s ago: backed \(heartbeat 60 s\)/)
    assert.match(lines[5]!, /hub gate 0x.*: eligible as collateral/)
    assert.match(lines[6]!, /last accepted report: supply 600, reserves 1,000, backed/)

    const json = await reserves(['TBILL', '--json', '--manifest', manifestPath])
    assert.equal(json.code, 0, json.stderr)
    const report = JSON.parse(json.stdout) as ReserveStatusReport
    const direct = await read()
    assert.deepEqual(
      { ...report.chain, time: 0, feedAgeSeconds: 0 },
      { ...direct.chain, time: 0, feedAgeSeconds: 0 },
    )
    assert.deepEqual(report.hub, direct.hub)

    const unknown = await reserves(['GOLD', '--manifest', manifestPath])
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /no reserve feed ReserveFeed\.GOLD/)
  })

  describe('isthmus reserves set', () => {
    let nodes: RunningOracleNodes
    const feed = () => contractAddress(bank, 'ReserveFeed.TBILL')

    before(async () => {
      nodes = await startOracleNodes({
        manifest: devnet.manifest,
        feeds: [
          {
            address: feed(),
            asset: 'TBILL',
            chain: 'bank',
            kind: 'reserve',
            token: contractAddress(bank, 'TBILL'),
            reporter: contractAddress(bank, 'ReserveReporter'),
          },
        ],
        nodes: devnet.manifest.oracles!.nodes.map((n) => ({
          account: privateKeyToAccount(n.privateKey as Hex),
        })),
        source: { kind: 'manual', price: () => 1 },
        dataDir: tempDir('reserves-set'),
        logger: createLogger('reserves-set-test'),
        devnet: true,
        tickMs: 150,
        fallbackMs: 1_000,
      })
      nodes.nodes.forEach((node, i) => {
        devnet.manifest.services[`oracle-${i}`] = node.url
      })
      await writeManifest(manifestPath, devnet.manifest)
    })
    after(() => nodes.stop())

    const onChain = (tokens: bigint) =>
      eventually(`reserves of ${tokens} on bank`, async () => {
        const status = await read()
        return status.chain.reserves === String(tokens) ? status : undefined
      })

    it('posts to every oracle node of the manifest; the nodes push the round and report; reset goes back', async () => {
      const set = await reserves(['set', 'TBILL', '700', '--manifest', manifestPath])
      assert.equal(set.code, 0, set.stderr)
      assert.match(
        set.stdout,
        /^TBILL reserves reported by the custodian: 700 \(override\)\n {2}taken by 4 oracle node\(s\): /,
      )
      const status = await onChain(700n)
      assert.equal(status.chain.isBacked, true)

      const reset = await reserves(['set', 'TBILL', 'reset', '--manifest', manifestPath])
      assert.equal(reset.code, 0, reset.stderr)
      assert.match(reset.stdout, /50,000,000 \(its own level\)/)
      await onChain(50_000_000n)
    })

    it('refuses a bad amount (usage) and an asset without a reserve feed (the nodes)', async () => {
      const bad = await reserves(['set', 'TBILL', '0', '--manifest', manifestPath])
      assert.equal(bad.code, 2)
      assert.match(bad.stderr, /positive number of whole tokens or "reset"/)
      const unknown = await reserves(['set', 'WETH', '5', '--manifest', manifestPath])
      assert.equal(unknown.code, 2)
      assert.match(
        unknown.stderr,
        /no oracle node took the change: oracle-0: no reserve feed for asset "WETH"/,
      )
      const stray = await reserves(['TBILL', 'extra', '--manifest', manifestPath])
      assert.equal(stray.code, 2)
    })
  })
})
