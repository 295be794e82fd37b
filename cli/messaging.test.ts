import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createPublicClient, http } from 'viem'
import { freePortRange } from '../devnet/ports.js'
import { readManifest } from '../sdk/manifest.js'
import { runCli } from '../testing/cli.js'
import { eventually, tempDir } from '../testing/messaging.js'

type MessageReport = {
  id: string
  status: string
  failureReason: string | null
  source: { chain: string; final: boolean; block: string }
  destination: { chain: string; state: string; executions: { state: string; blockNumber: string }[] }
  relayer: { status: string; signers: string[] } | null
}

/** The acceptance path, through the real CLI on a devnet started as `npm start` starts it. */
describe('isthmus send / message / messages / retry on a running devnet', () => {
  const dir = tempDir('cli-messaging')
  const manifest = join(dir, 'devnet.json')
  let devnet: ReturnType<typeof runCli>
  const cli = async (...args: string[]) => {
    const exit = await runCli([...args, '--manifest', manifest]).exited
    assert.equal(exit.code, 0, `isthmus ${args.join(' ')}: ${exit.stderr}`)
    return exit.stdout
  }
  const report = async (id: string) => JSON.parse(await cli('message', id, '--json')) as MessageReport

  before(async () => {
    // l1 keeps its real finality depth (6 blocks) with faster blocks so the test stays short.
    devnet = runCli([
      'devnet',
      '--port',
      String(await freePortRange(4)),
      '--manifest',
      manifest,
      '--block-time',
      'l1=300',
    ])
    await devnet.waitForLine(/^ready in /, 60_000)
  })
  after(async () => {
    devnet.child.kill('SIGTERM')
    await devnet.exited
  })

  it('a message sent on l1 is delivered on hub after l1 finality, visible through `isthmus message <id> --json`', async () => {
    const { id } = JSON.parse(await cli('send', '--from', 'l1', '--to', 'hub', '--json')) as { id: string }
    assert.match(id, /^0x[0-9a-f]{64}$/)
    const early = await report(id)
    if (!early.source.final) assert.equal(early.status, 'awaiting finality')
    const delivered = await eventually('delivery', async () => {
      const r = await report(id)
      return r.status === 'success' ? r : undefined
    })
    assert.equal(delivered.source.final, true)
    // Delivered only after l1 finality: the hub block that executed it is no older than the l1
    // block that made the message final (its block + the 6-block rule).
    const m = await readManifest(manifest)
    const l1 = createPublicClient({ transport: http(m.chains[0]!.rpcUrl) })
    const hub = createPublicClient({ transport: http(m.chains[1]!.rpcUrl) })
    const finalOnL1 = await l1.getBlock({ blockNumber: BigInt(delivered.source.block) + 6n })
    const executedOnHub = await hub.getBlock({
      blockNumber: BigInt(delivered.destination.executions[0]!.blockNumber),
    })
    assert.ok(executedOnHub.timestamp >= finalOnL1.timestamp)
    assert.deepEqual(delivered.destination, {
      chain: 'hub',
      state: 'success',
      executions: [delivered.destination.executions[0]],
    })
    assert.equal(delivered.relayer?.status, 'success')
    assert.equal(delivered.relayer?.signers.length, 3)
    assert.match(await cli('messages'), new RegExp(`${id}  l1→hub #0  success`))
  })

  it('a failing message shows its reason in words, and `isthmus retry` recovers it with more gas', async () => {
    const burn = '0x6275726e0003d090' // "burn" + 250,000 gas: more than the 100,000 limit
    const { id } = JSON.parse(
      await cli(
        'send',
        '--from',
        'hub',
        '--to',
        'base',
        '--payload',
        burn,
        '--gas-limit',
        '100000',
        '--json',
      ),
    ) as { id: string }
    const failed = await eventually('the failure', async () => {
      const r = await report(id)
      return r.status === 'failure' ? r : undefined
    })
    assert.equal(
      failed.failureReason,
      'the receiver reverted without a reason, or ran out of gas: retry with a higher gas limit',
    )
    const retried = JSON.parse(await cli('retry', id, '--gas-limit', '400000', '--json')) as { state: string }
    assert.equal(retried.state, 'success')
    const after = await report(id)
    assert.equal(after.status, 'success')
    assert.deepEqual(
      after.destination.executions.map((e) => e.state),
      ['failure', 'success'],
    )
  })

  it('refuses to retry a message that did not fail', async () => {
    const { id } = JSON.parse(await cli('send', '--from', 'hub', '--to', 'bank', '--json')) as { id: string }
    const exit = await runCli(['retry', id, '--manifest', manifest]).exited
    assert.equal(exit.code, 1)
    assert.match(
      exit.stderr,
      new RegExp(
        `^isthmus retry: message ${id} is (untouched|success) on bank: only a failed message can be retried\\n$`,
      ),
    )
  })

  it('says clearly when an id is unknown or malformed', async () => {
    const unknown = await runCli(['message', `0x${'ab'.repeat(32)}`, '--manifest', manifest]).exited
    assert.equal(unknown.code, 1)
    assert.equal(
      unknown.stderr,
      `isthmus message: no message 0x${'ab'.repeat(32)} on any chain of the manifest\n`,
    )
    const malformed = await runCli(['message', '0x1234', '--manifest', manifest]).exited
    assert.equal(malformed.code, 2)
    assert.equal(malformed.stderr, 'isthmus message: "0x1234" is not a message id (32-byte hex)\n')
  })
})
