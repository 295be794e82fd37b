import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Address, getAddress, parseEther, parseUnits } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { DEVNET_MNEMONIC, DEVNET_ROLES } from '../../devnet/topology.js'
import { burnMintERC20Abi } from '../../sdk/abi/BurnMintERC20.js'
import { marginEngineAbi } from '../../sdk/abi/MarginEngine.js'
import { startTestDevnet, type TestChain, type TestDevnet } from '../../testing/devnet.js'
import { pushPrice } from '../../testing/margin.js'
import { eventually, tempDir } from '../../testing/messaging.js'
import { createLogger } from '../core/logger.js'
import { healthOf, openPositions, WAD } from './fixtures.js'
import { type RunningKeeper, startKeeper } from './keeper.js'

type Call = {
  id: number
  account: string
  lhf: number
  active: boolean
  tx: { hash: string; status: string } | null
  webhook: { status: string; attempts: number }
}
type Liquidation = {
  id: number
  account: string
  status: string
  code: string | null
  reason: string | null
  reactionMs: number | null
  expected: { profitUsd: number | null; gasCostUsd: number | null }
  tx: { hash: string; status: string } | null
  result: {
    repaid: string
    seized: string
    lhfBefore: number
    lhfAfter: number
    blocksToInclusion: number
  } | null
}
type Status = {
  keeper: string
  block: number
  reaction: { samples: number; lastMs: number | null; maxBlocksToInclusion: number | null }
  lastEvaluation: { accounts: number; urgent: number; urgentMs: number; totalMs: number }
}

describe('keeper', () => {
  let devnet: TestDevnet
  let hub: TestChain
  let engine: Address
  let keeper: RunningKeeper
  const dir = tempDir('keeper')
  const account = mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: DEVNET_ROLES.keeper })

  // The operator's webhook: refuses the first POST (the keeper must retry), accepts the rest.
  const accepted: { account: string; lhf: number; event: string }[] = []
  let refused = 0
  let webhook: Server
  let webhookUrl: string

  let alice: Address // in trouble: margin call, then liquidation
  let bob: Address // tiny: never worth its gas
  let carol: Address // safe all along
  let dave: Address // liquidated while the keeper restarts
  let weth = 3000
  const CROWD = 300
  const crowd = Array.from({ length: CROWD }, (_, i) =>
    getAddress(`0x${(0xc0de0000 + i).toString(16).padStart(40, '0')}`),
  )

  const start = () =>
    startKeeper({
      manifest: devnet.manifest,
      account,
      dbPath: join(dir, 'keeper.db'),
      port: 0,
      webhookUrl,
      logger: createLogger('keeper'),
    })
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${keeper.url}${path}`)
    assert.equal(response.status, 200, `GET ${path}`)
    return (await response.json()) as T
  }
  const calls = async () => (await api<{ marginCalls: Call[] }>('/margin-calls')).marginCalls
  const liquidations = async (status?: string) =>
    (await api<{ liquidations: Liquidation[] }>(`/liquidations${status ? `?status=${status}` : ''}`))
      .liquidations
  const marginCallEvents = (who: Address) =>
    hub.public.getContractEvents({
      address: engine,
      abi: marginEngineAbi,
      eventName: 'MarginCall',
      args: { account: who },
      fromBlock: 0n,
    })
  const liquidatedEvents = (who: Address) =>
    hub.public.getContractEvents({
      address: engine,
      abi: marginEngineAbi,
      eventName: 'Liquidated',
      args: { account: who },
      fromBlock: 0n,
    })
  const usdcOf = (who: Address) =>
    hub.public.readContract({
      address: hub.entry.contracts.USDC as Address,
      abi: burnMintERC20Abi,
      functionName: 'balanceOf',
      args: [who],
    })
  /** Moves WETH so that `who`'s LHF becomes about `lhf` (LHF is linear in the price); returns the round's block. */
  const moveWethTo = async (who: Address, lhf: number, mine = false) => {
    const { lhf: now } = await healthOf(hub, who)
    weth = Math.round(((weth * lhf) / (Number(now) / 1e18)) * 100) / 100
    return (await pushPrice(devnet, 'WETH', weth, { mine })).receipt.blockNumber
  }
  /** Waits until the keeper has processed `block`. */
  const processed = (block: bigint) =>
    eventually(`the keeper at block ${block}`, async () =>
      (await api<Status>('/status')).block >= Number(block) ? true : undefined,
    )

  before(async () => {
    webhook = createServer((request, response) => {
      let body = ''
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      request.on('end', () => {
        if (refused++ === 0) return response.writeHead(503).end()
        accepted.push(JSON.parse(body))
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve))
    webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`

    // Hub blocks every 250 ms as on the devnet: the keeper's reaction is measured in real blocks.
    devnet = await startTestDevnet({ chains: ['l1', 'hub'], blockTimeMs: 250 })
    hub = devnet.chain('hub')
    engine = hub.entry.contracts.MarginEngine as Address
    ;[alice, bob, carol, dave] = [3, 4, 5, 6].map((i) => hub.accounts[i]!.address) as [
      Address,
      Address,
      Address,
      Address,
    ]
    await pushPrice(devnet, 'WETH', weth)
    await openPositions(devnet, [
      {
        account: alice,
        spoke: 'l1',
        token: 'WETH',
        amount: parseEther('10'),
        borrow: parseUnits('20000', 6),
      },
      { account: bob, spoke: 'l1', token: 'WETH', amount: parseEther('0.001'), borrow: parseUnits('1.5', 6) },
      { account: carol, spoke: 'l1', token: 'WETH', amount: parseEther('10'), borrow: parseUnits('5000', 6) },
      { account: dave, spoke: 'l1', token: 'WETH', amount: parseEther('10'), borrow: parseUnits('12000', 6) },
      // A book of healthy borrowers (LHF ≈ 6, still ≈ 3.3 at the lowest price here): every price
      // update makes the keeper re-read all of them before it can act on the four above.
      ...crowd.map((address) => ({
        account: address,
        spoke: 'l1',
        token: 'WETH',
        amount: parseEther('1'),
        borrow: parseUnits('400', 6),
      })),
    ])
    keeper = await start()
  })
  after(async () => {
    await keeper?.stop()
    await devnet?.stop()
    await new Promise((resolve) => webhook?.close(resolve))
  })

  it('finds every account and serves their health', async () => {
    const { accounts } = await api<{ accounts: { address: string; lhf: number; debtUsd: number }[] }>(
      '/accounts?limit=1000',
    )
    assert.equal(accounts.length, 4 + CROWD)
    assert.deepEqual(
      new Set(accounts.slice(0, 4).map((a) => a.address)),
      new Set([alice, bob, carol, dave]),
      'riskiest first',
    )
    const byAddress = new Map(accounts.map((a) => [a.address, a]))
    assert.ok(Math.abs(byAddress.get(alice)!.lhf - Number((await healthOf(hub, alice)).lhf) / 1e18) < 0.01)
    assert.ok(Math.abs(byAddress.get(carol)!.debtUsd - 5000) < 0.01)
    assert.equal((await api<Status>('/status')).keeper, account.address)
  })

  it('makes exactly one margin call when a price drop takes an account below the call level', async () => {
    await moveWethTo(alice, 1.05)
    const [call] = await eventually(
      'a margin call with its transaction mined and its webhook delivered',
      async () => {
        const all = await calls()
        return all[0]?.tx?.status === 'confirmed' && all[0].webhook.status === 'delivered' ? all : undefined
      },
    )
    assert.equal(call!.account, alice)
    assert.ok(call!.lhf < 1.1 && call!.lhf > 1)
    assert.equal(call!.webhook.attempts, 2, 'the refused POST was retried')
    assert.deepEqual(
      accepted.map((p) => [p.event, p.account]),
      [['margin_call', alice]],
    )
    const onChain = await marginCallEvents(alice)
    assert.equal(onChain.length, 1)
    assert.ok(onChain[0]!.args.lhf! < (11n * WAD) / 10n)

    // Still below the level a few rounds later: the same episode, no second call.
    await processed(await moveWethTo(alice, 1.04))
    await processed(await moveWethTo(alice, 1.06))
    assert.equal((await calls()).length, 1)
    assert.equal((await marginCallEvents(alice)).length, 1)
    assert.equal(accepted.length, 1)
  })

  it('keeps its state across a restart with the same database: no second margin call', async () => {
    const before = await api<{ marginCallId: number; inMarginCall: boolean }>(`/accounts/${alice}`)
    assert.equal(before.inMarginCall, true)
    await keeper.stop()
    keeper = await start()
    await processed(await moveWethTo(alice, 1.05))
    const afterRestart = await api<{ marginCallId: number; inMarginCall: boolean }>(`/accounts/${alice}`)
    assert.equal(afterRestart.marginCallId, before.marginCallId)
    assert.equal((await calls()).length, 1)
    assert.equal((await marginCallEvents(alice)).length, 1)
    await new Promise((r) => setTimeout(r, 300)) // a webhook retry would have had time to go out
    assert.equal(accepted.length, 1)
  })

  it('liquidates below LHF 1 in the next block: Liquidated on chain, USDC paid, LHF up, confirmed', async (t) => {
    const usdcBefore = await usdcOf(account.address)
    const priceBlock = await moveWethTo(alice, 0.97)
    const [liquidation] = await eventually('a confirmed liquidation', async () => {
      const confirmed = await liquidations('confirmed')
      return confirmed.length ? confirmed : undefined
    })
    const [event] = await liquidatedEvents(alice)
    assert.ok(event, 'a Liquidated event for alice')
    const { liquidator, repaid, seized, lhfBefore, lhfAfter } = event.args
    assert.equal(liquidator, account.address)
    assert.ok(repaid! > 0n && seized! > 0n)
    assert.ok(lhfAfter! >= lhfBefore!, `LHF ${lhfBefore} → ${lhfAfter}`)
    assert.ok(lhfBefore! < WAD)
    assert.equal(await usdcOf(account.address), usdcBefore - repaid!)

    assert.equal(liquidation!.account, alice)
    assert.equal(liquidation!.tx!.hash, event.transactionHash)
    assert.equal(liquidation!.result!.repaid, repaid!.toString())
    assert.equal(liquidation!.result!.seized, seized!.toString())
    // Half the debt (LHF above 0.95): the close factor's maximum.
    assert.ok(Math.abs(Number(repaid!) - 10_000e6) < 10e6, `repaid ${repaid}`)
    const blocks = Number(event.blockNumber - priceBlock)
    t.diagnostic(
      `reaction ${liquidation!.reactionMs} ms from seeing the price block; included ${blocks} block(s) after it`,
    )
    assert.equal(liquidation!.result!.blocksToInclusion, blocks)
    assert.ok(blocks <= 2, `liquidation ${blocks} blocks after the price update`)
    assert.ok(liquidation!.reactionMs! < 250, `reaction ${liquidation!.reactionMs} ms`)
    const status = await api<Status>('/status')
    const book = status.lastEvaluation
    t.diagnostic(
      `book of ${book.accounts}: ${book.urgent} urgent read and acted on in ${book.urgentMs} ms, all in ${book.totalMs} ms`,
    )
    assert.equal(book.accounts, 4 + CROWD)
    assert.ok(book.urgent <= 4, 'the healthy crowd is read after the accounts at risk')
    assert.equal(status.reaction.samples, 1)
    assert.equal(status.reaction.lastMs, liquidation!.reactionMs)
    assert.equal((await liquidatedEvents(alice)).length, 1, 'no second liquidation while healthy again')
  })

  it('skips a liquidation that does not pay for its gas, with the reason', async () => {
    await processed(await moveWethTo(bob, 0.9))
    const skipped = await eventually('bob skipped', async () => {
      const rows = (await liquidations('skipped')).filter((l) => l.account === bob)
      return rows.length ? rows : undefined
    })
    assert.equal(skipped.length, 1)
    assert.equal(skipped[0]!.code, 'unprofitable')
    assert.match(
      skipped[0]!.reason!,
      /^unprofitable: seized \$\d+\.\d+ − repaid \$1\.5000 − gas \$\d+\.\d+ = \$-\d/,
    )
    assert.ok(skipped[0]!.expected.profitUsd! < 0)
    assert.ok(skipped[0]!.expected.gasCostUsd! > 0)
    assert.ok((await healthOf(hub, bob)).lhf < WAD, 'bob is liquidatable')
    // Another block with bob still under water: still skipped, recorded once, never sent.
    await processed(await moveWethTo(bob, 0.89))
    assert.equal((await liquidations('skipped')).filter((l) => l.account === bob).length, 1)
    assert.equal((await liquidatedEvents(bob)).length, 0)
    assert.equal((await liquidations()).filter((l) => l.account === bob && l.status !== 'skipped').length, 0)
  })

  it('resumes a liquidation in flight after a restart, by its hash, and never sends it twice', async () => {
    // Hold the chain still: the keeper's transaction waits in the pool while the keeper restarts.
    await hub.test.setIntervalMining({ interval: 0 })
    try {
      await moveWethTo(dave, 0.97, true)
      const [sent] = await eventually('a liquidation of dave in flight', async () => {
        const pending = (await liquidations('pending')).filter((l) => l.account === dave)
        return pending.length ? pending : undefined
      })
      const inPool = await hub.public.getTransaction({ hash: sent!.tx!.hash as `0x${string}` })
      assert.equal(inPool.blockNumber, null, 'not mined yet')

      await keeper.stop()
      keeper = await start() // dave is still below LHF 1 on chain: only the database says it is handled
      const [again] = (await liquidations()).filter((l) => l.account === dave)
      assert.equal(again!.id, sent!.id)
      assert.equal(again!.status, 'pending')
      const nonce = await hub.public.getTransactionCount({ address: account.address, blockTag: 'pending' })
      assert.equal(nonce, inPool.nonce + 1, 'no second transaction')

      await hub.test.mine({ blocks: 1 })
      const [done] = await eventually('the liquidation confirmed after the restart', async () => {
        const rows = (await liquidations()).filter((l) => l.account === dave && l.status === 'confirmed')
        return rows.length ? rows : undefined
      })
      assert.equal(done!.id, sent!.id)
      assert.equal((await liquidatedEvents(dave)).length, 1)
      assert.equal((await liquidations()).filter((l) => l.account === dave).length, 1)
    } finally {
      await hub.test.setIntervalMining({ interval: 1 })
    }
  })
})
