import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import type { Hex } from 'viem'
import { settlementEscrowAbi } from '../../sdk/abi/SettlementEscrow.js'
import { writeManifest } from '../../sdk/manifest.js'
import {
  contractOn,
  escrowLeg,
  legOn,
  openDeal,
  readDeal,
  waitForLegOutcome,
} from '../../sdk/settlement/dvp.js'
import { startTestDevnet, type TestChain, type TestDevnet } from '../../testing/devnet.js'
import { balanceOf, faucet } from '../../testing/margin.js'
import { startTestValidator, tempDir } from '../../testing/messaging.js'
import type { RunningValidator } from '../validator/validator.js'

/** Kills in this run: one deal is opened and escrowed while each relayer lives. */
const KILLS = Number(process.env.SETTLEMENT_KILLS ?? 3)
let seed = Number(process.env.SOAK_SEED ?? 11)
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}
const BANK_AMOUNT = 7_000_000n
const HUB_AMOUNT = 11_000_000n

/**
 * DvP through the real relayer process, SIGKILLed at random moments while leg reports (bank → hub,
 * hub → hub) and decisions (hub → bank, hub → hub) are in flight, then restarted: every leg must end
 * settled exactly once, and every balance exact.
 */
describe(`DvP while the relayer is killed with SIGKILL ${KILLS} times`, () => {
  let devnet: TestDevnet
  let hub: TestChain
  let bank: TestChain
  const validators: RunningValidator[] = []
  const dir = tempDir('settlement-crash')
  const manifestPath = join(dir, 'manifest.json')
  let relayer: ChildProcess | undefined

  const startRelayer = () => {
    const child = spawn(
      'bin/isthmus',
      [
        'relayer',
        '--manifest',
        manifestPath,
        '--data',
        dir,
        '--validators',
        validators.map((v) => v.url).join(','),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ISTHMUS_LOG_LEVEL: 'error' } },
    )
    relayer = child
    return new Promise<ChildProcess>((resolve, reject) => {
      let output = ''
      const timer = setTimeout(() => reject(new Error('relayer not ready in 30 s')), 30_000)
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (/ ready /.test(output)) {
          clearTimeout(timer)
          resolve(child)
        }
      })
    })
  }
  const kill = async (child: ChildProcess) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((r) => child.once('exit', r))
    child.kill('SIGKILL')
    await exited
  }

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub', 'bank'], blockTimeMs: 100 })
    hub = devnet.chain('hub')
    bank = devnet.chain('bank')
    for (let i = 0; i < 5; i++) validators.push(await startTestValidator(devnet, i, dir))
    await writeManifest(manifestPath, devnet.manifest)
  })
  after(async () => {
    if (relayer) await kill(relayer)
    await Promise.all(validators.map((v) => v.stop()))
    await devnet?.stop()
  })

  it('settles both legs of every deal exactly once', async () => {
    const alice = hub.accounts[3]!
    const bob = hub.accounts[4]!
    await faucet(bank, 'USDC', alice.address, BigInt(KILLS) * BANK_AMOUNT)
    await faucet(hub, 'USDC', bob.address, BigInt(KILLS) * HUB_AMOUNT)
    const start = {
      aliceBank: await balanceOf(bank, 'USDC', alice.address),
      bobBank: await balanceOf(bank, 'USDC', bob.address),
      aliceHub: await balanceOf(hub, 'USDC', alice.address),
      bobHub: await balanceOf(hub, 'USDC', bob.address),
    }
    const legA = legOn(bank.entry, {
      token: 'USDC',
      amount: BANK_AMOUNT,
      depositor: alice.address,
      counterparty: bob.address,
    })
    const legB = legOn(hub.entry, {
      token: 'USDC',
      amount: HUB_AMOUNT,
      depositor: bob.address,
      counterparty: alice.address,
    })

    const deals: Hex[] = []
    for (let k = 0; k < KILLS; k++) {
      const child = await startRelayer()
      // A new deal per life: its reports and decisions become final while relayers live and die.
      const deadline = (await hub.public.getBlock({ blockTag: 'latest' })).timestamp + 600n + BigInt(k)
      const { dealId } = await openDeal(hub, { legA, legB, deadline })
      await escrowLeg(bank, { dealId, leg: legA, deadline, account: alice })
      await escrowLeg(hub, { dealId, leg: legB, deadline, account: bob })
      deals.push(dealId)
      await new Promise((r) => setTimeout(r, 300 + random() * 2_000))
      await kill(child)
    }
    // The kills must have landed among deliveries, not only during start-ups.
    const journal = new Database(join(dir, 'relayer.db'), { readonly: true })
    const batches = journal.prepare('SELECT COUNT(*) FROM batches').pluck().get() as number
    journal.close()
    assert.ok(batches >= KILLS / 2, `only ${batches} batches were sent while the relayer was being killed`)

    const child = await startRelayer()
    for (const dealId of deals) {
      for (const [chain, depositor] of [
        [bank, alice.address],
        [hub, bob.address],
      ] as const) {
        const outcome = await waitForLegOutcome(chain, dealId, depositor, { timeoutMs: 60_000 })
        assert.equal(outcome.outcome, 'Settled')
      }
      assert.equal((await readDeal(hub, dealId)).status, 'Settled')
    }
    // Give a duplicate every chance to show up before counting.
    await new Promise((r) => setTimeout(r, 1_000))
    await kill(child)
    for (const chain of [bank, hub]) {
      const settled = await chain.public.getContractEvents({
        address: contractOn(chain.entry, 'SettlementEscrow'),
        abi: settlementEscrowAbi,
        eventName: 'LegSettled',
        fromBlock: 0n,
      })
      assert.deepEqual(
        settled.map((e) => e.args.dealId).sort(),
        [...deals].sort(),
        `${chain.entry.name}: one LegSettled per deal`,
      )
    }
    const n = BigInt(KILLS)
    assert.deepEqual(
      {
        aliceBank: await balanceOf(bank, 'USDC', alice.address),
        bobBank: await balanceOf(bank, 'USDC', bob.address),
        aliceHub: await balanceOf(hub, 'USDC', alice.address),
        bobHub: await balanceOf(hub, 'USDC', bob.address),
      },
      {
        aliceBank: start.aliceBank - n * BANK_AMOUNT,
        bobBank: start.bobBank + n * BANK_AMOUNT,
        aliceHub: start.aliceHub + n * HUB_AMOUNT,
        bobHub: start.bobHub - n * HUB_AMOUNT,
      },
    )
  })
})
