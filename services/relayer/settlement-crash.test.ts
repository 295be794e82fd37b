import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Hex } from 'viem'
import { settlementEscrowAbi } from '../../sdk/abi/SettlementEscrow.js'
import { escrowLeg, openDeal, readDeal, waitForLegOutcome } from '../../sdk/settlement/dvp.js'
import { contractOn } from '../../sdk/settlement/tx.js'
import { startTestDevnet, type TestChain, type TestDevnet } from '../../testing/devnet.js'
import { faucet } from '../../testing/margin.js'
import { type RelayerHarness, seededRandom, startRelayerHarness } from '../../testing/relayer.js'
import { usdcSwap } from '../../testing/settlement.js'

/** Kills in this run: one deal is opened and escrowed while each relayer lives. */
const KILLS = Number(process.env.SETTLEMENT_KILLS ?? 3)
const random = seededRandom(Number(process.env.SOAK_SEED ?? 11))
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
  let relayer: RelayerHarness

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub', 'bank'], blockTimeMs: 100 })
    hub = devnet.chain('hub')
    bank = devnet.chain('bank')
    relayer = await startRelayerHarness(devnet, 'settlement-crash')
  })
  after(async () => {
    await relayer?.stop()
    await devnet?.stop()
  })

  it('settles both legs of every deal exactly once', async () => {
    const alice = hub.accounts[3]!
    const bob = hub.accounts[4]!
    await faucet(bank, 'USDC', alice.address, BigInt(KILLS) * BANK_AMOUNT)
    await faucet(hub, 'USDC', bob.address, BigInt(KILLS) * HUB_AMOUNT)
    const swap = usdcSwap(hub, bank, {
      alice: alice.address,
      bob: bob.address,
      bankAmount: BANK_AMOUNT,
      hubAmount: HUB_AMOUNT,
    })
    const { legA, legB } = swap
    const start = await swap.balances()

    const deals: Hex[] = []
    for (let k = 0; k < KILLS; k++) {
      const child = await relayer.start()
      // A new deal per life: its reports and decisions become final while relayers live and die.
      const deadline = (await hub.public.getBlock({ blockTag: 'latest' })).timestamp + 600n + BigInt(k)
      const { dealId } = await openDeal(hub, { legA, legB, deadline })
      await escrowLeg(bank, { dealId, leg: legA, deadline, account: alice })
      await escrowLeg(hub, { dealId, leg: legB, deadline, account: bob })
      deals.push(dealId)
      await new Promise((r) => setTimeout(r, 300 + random() * 2_000))
      await relayer.kill(child)
    }
    // The kills must have landed among deliveries, not only during start-ups.
    const batches = relayer.batchesSent()
    assert.ok(batches >= KILLS / 2, `only ${batches} batches were sent while the relayer was being killed`)

    const child = await relayer.start()
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
    await relayer.kill(child)
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
    assert.deepEqual(await swap.balances(), {
      aliceBank: start.aliceBank - n * BANK_AMOUNT,
      bobBank: start.bobBank + n * BANK_AMOUNT,
      aliceHub: start.aliceHub + n * HUB_AMOUNT,
      bobHub: start.bobHub - n * HUB_AMOUNT,
    })
  })
})
