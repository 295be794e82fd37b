import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type Address, type Hex, type PrivateKeyAccount, parseUnits } from 'viem'
import { DEVNET_ROLES } from '../devnet/topology.js'
import { writeManifest } from '../sdk/manifest.js'
import { fillIntent, findIntent, readIntent } from '../sdk/settlement/intents.js'
import { startTestDevnet, type TestChain, type TestDevnet, timeTravel } from '../testing/devnet.js'
import { balanceOf, contractAddress, faucet } from '../testing/margin.js'
import { eventually, tempDir } from '../testing/messaging.js'
import { latestTimestamp, relayAll } from '../testing/settlement.js'

const modulePath = (path: string) => JSON.stringify(fileURLToPath(new URL(path, import.meta.url)))

/**
 * `isthmus intent <args>` in a child process. It loads the command module directly and ends its
 * errors the way cli/main.ts does (one line on stderr; exit 2 for a usage error, 1 otherwise), so
 * the test does not depend on the command's registration in cli/main.ts.
 */
const script = [
  `const { BaseError } = await import(${modulePath('../sdk/errors.ts')})`,
  `const { UsageError } = await import(${modulePath('./usage.ts')})`,
  `const command = await import(${modulePath('./commands/intent.ts')})`,
  'try { await command.run(process.argv.slice(1)) } catch (error) {',
  '  console.error("isthmus intent: " + (error instanceof BaseError ? error.shortMessage : error.message))',
  '  process.exitCode = error instanceof UsageError ? 2 : 1',
  '}',
].join('\n')

function runIntent(args: string[]) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ISTHMUS_SENDER_KEY: '', ISTHMUS_LOG_LEVEL: 'warn' },
    },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  )
  return { child, exited, stdout: () => stdout }
}

const usdc = (value: string) => parseUnits(value, 6)
const ORDER_ID = /order (0x[0-9a-f]{64})/

describe('isthmus intent on a devnet manifest (base → hub)', () => {
  let devnet: TestDevnet
  let base: TestChain
  let hub: TestChain
  let user: Address
  let solver: PrivateKeyAccount
  const running: ReturnType<typeof runIntent>[] = []
  const dir = tempDir('cli-intent')
  const manifestPath = join(dir, 'devnet.json')

  /** Runs to the end; fails the test with the command's output when it exits otherwise than `code`. */
  const intent = async (code: number, ...args: string[]) => {
    const run = runIntent([...args, '--manifest', manifestPath])
    running.push(run)
    const exit = await run.exited
    assert.equal(exit.code, code, `intent ${args.join(' ')}:\n${exit.stdout}${exit.stderr}`)
    return exit
  }
  const orderIdIn = (stdout: string) => ORDER_ID.exec(stdout)?.[1] as Hex

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub', 'base'], blockTimeMs: 0 })
    base = devnet.chain('base')
    hub = devnet.chain('hub')
    user = base.accounts[DEVNET_ROLES.firstUser]!.address
    solver = hub.accounts[DEVNET_ROLES.solver]!
    await faucet(hub, 'USDC', solver.address, usdc('10000'))
    await writeManifest(manifestPath, devnet.manifest)
  })
  after(async () => {
    for (const run of running) if (run.child.exitCode === null) run.child.kill('SIGKILL')
    await devnet?.stop()
  })

  it('open escrows and prints the id; show tells open, then filled, then settled', async () => {
    const escrowBefore = await balanceOf(base, 'USDC', contractAddress(base, 'OriginSettler'))
    const { stdout } = await intent(
      0,
      ...['open', '--from', 'base', '--to', 'hub', '--amount', '100', '--receive', '99.5', '--faucet'],
    )
    assert.match(
      stdout.trim(),
      /^opened order 0x[0-9a-f]{64} on base: 100 USDC for 99\.5 USDC on hub, fill deadline in 120 s, tx 0x[0-9a-f]{64}, gas \d+$/,
    )
    const orderId = orderIdIn(stdout)
    const opened = await findIntent(devnet.manifest, orderId)
    assert.equal(opened.order.user, user)
    assert.equal(opened.order.data.recipient, user, 'the recipient defaults to the sender')
    assert.equal(
      await balanceOf(base, 'USDC', contractAddress(base, 'OriginSettler')),
      escrowBefore + usdc('100'),
    )

    let shown = (await intent(0, 'show', orderId)).stdout
    assert.match(shown, new RegExp(`^order ${orderId}: base → hub\n`))
    assert.match(shown, /\n {2}origin base: 100 USDC escrowed, open\n/)
    assert.match(shown, new RegExp(`\n {2}destination hub: 99\\.5 USDC to ${user}, not filled\n`))
    assert.match(shown, /\n {2}fill deadline \S+ \(in \d+ s\)$/m)

    const filled = await fillIntent(devnet.manifest, opened, solver)
    shown = (await intent(0, 'show', orderId)).stdout
    assert.match(shown, /origin base: 100 USDC escrowed, open\n/)
    assert.match(shown, new RegExp(`destination hub: .*, filled by solver ${solver.address}\n`))

    await relayAll(devnet, hub, filled.receipt)
    const json = JSON.parse((await intent(0, 'show', orderId, '--json')).stdout) as {
      origin: { status: string; amount: string }
      destination: { status: string; solver: string }
      input: string
      output: string
    }
    assert.deepEqual(
      [json.origin.status, json.destination.status, json.destination.solver, json.input, json.output],
      ['settled', 'filled', solver.address, '100 USDC', '99.5 USDC'],
    )
  })

  it('open --wait reports the fill on the destination and the settlement at the origin', async () => {
    const recipient = hub.accounts[DEVNET_ROLES.firstUser + 1]!.address
    const run = runIntent([
      ...['open', '--from', 'base', '--to', 'hub', '--amount', '20', '--receive', '19.9'],
      ...['--recipient', recipient, '--faucet', '--wait', '--timeout', '60', '--manifest', manifestPath],
    ])
    running.push(run)
    const orderId = await eventually('the opened order', async () => orderIdIn(run.stdout()))
    const opened = await findIntent(devnet.manifest, orderId)
    assert.equal(opened.order.data.recipient, recipient)
    const filled = await fillIntent(devnet.manifest, opened, solver)
    await relayAll(devnet, hub, filled.receipt)
    const exit = await run.exited
    assert.equal(exit.code, 0, exit.stdout + exit.stderr)
    assert.deepEqual(exit.stdout.trim().split('\n').slice(1), [
      `filled on hub by solver ${solver.address}`,
      'settled on base: the 20 USDC escrow paid to the solver',
    ])
  })

  it('refund: refused in one line before the deadline; after it, refunds and show says refunded', async () => {
    const { stdout } = await intent(
      0,
      ...['open', '--from', 'base', '--to', 'hub', '--amount', '5', '--receive', '4.9', '--deadline', '30'],
      '--faucet',
    )
    const orderId = orderIdIn(stdout)
    const early = await intent(1, 'refund', orderId)
    assert.match(
      early.stderr,
      /^isthmus intent: refund refused on hub: IntentFillDeadlineNotPassed\(0x[0-9a-f]{64}, \d+\): the fill deadline \S+ has not passed\n$/,
    )

    await timeTravel(
      hub,
      31 + (await latestTimestamp(base, hub)) - Number((await hub.public.getBlock()).timestamp),
    )
    const refunded = await intent(0, 'refund', orderId)
    assert.match(
      refunded.stdout.trim(),
      /^refunded order 0x[0-9a-f]{64} on hub: tx (0x[0-9a-f]{64}), gas \d+, message 0x[0-9a-f]{64} returns the escrow on base once delivered$/,
    )
    const afterRefund = await readIntent(
      devnet.manifest,
      (await findIntent(devnet.manifest, orderId)).originData,
    )
    assert.deepEqual([afterRefund.origin.status, afterRefund.destination.status], ['open', 'refunded'])

    const hash = /tx (0x[0-9a-f]{64})/.exec(refunded.stdout)![1] as Hex
    const userBefore = await balanceOf(base, 'USDC', user)
    await relayAll(devnet, hub, await hub.public.getTransactionReceipt({ hash }))
    assert.equal(await balanceOf(base, 'USDC', user), userBefore + usdc('5'))
    const shown = (await intent(0, 'show', orderId)).stdout
    assert.match(shown, /origin base: 5 USDC escrowed, refunded\n/)
    assert.match(shown, /destination hub: 4\.9 USDC to 0x[0-9a-fA-F]{40}, refunded\n/)
    assert.match(shown, /fill deadline \S+ \(passed \d+ s ago\)/)
  })

  it('an unknown order id is one line on stderr, exit 1; a bad command line exits 2', async () => {
    const unknown = `0x${'ab'.repeat(32)}`
    const [missing, ...usage] = await Promise.all([
      intent(1, 'show', unknown),
      intent(2, 'open', '--from', 'base', '--to', 'hub', '--amount', '10'),
      intent(2, 'open', '--from', 'base', '--to', 'hub', '--amount', 'lots', '--receive', '1'),
      intent(2, 'show', 'not-an-id'),
      intent(2, 'close', unknown),
      intent(2, 'show', unknown, '--colour'),
    ])
    assert.equal(missing.stderr, `isthmus intent: no order ${unknown} on any chain of the manifest\n`)
    assert.deepEqual(
      usage.map((u) => u.stderr),
      [
        'isthmus intent: --receive required (see: isthmus intent open --help)\n',
        'isthmus intent: --amount expects a positive USDC amount (e.g. 1000 or 0.5), got "lots"\n',
        'isthmus intent: "not-an-id" is not an order id (32-byte hex)\n',
        'isthmus intent: unknown subcommand "close": open, show or refund (see: isthmus intent --help)\n',
        "isthmus intent: Unknown option '--colour' (see: isthmus intent show --help)\n",
      ],
    )
  })
})
