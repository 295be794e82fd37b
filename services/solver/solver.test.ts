import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import Database from 'better-sqlite3'
import { type Hex, type PrivateKeyAccount, parseEventLogs, parseGwei, parseUnits } from 'viem'
import { DEVNET_ROLES } from '../../devnet/topology.js'
import { destinationSettlerAbi } from '../../sdk/abi/DestinationSettler.js'
import { originSettlerAbi } from '../../sdk/abi/OriginSettler.js'
import {
  fillCalldata,
  fillIntent,
  type OpenIntentReturnType,
  openIntent,
  readIntent,
  refundIntent,
} from '../../sdk/settlement/intents.js'
import { startTestDevnet, type TestChain, type TestDevnet, timeTravel } from '../../testing/devnet.js'
import {
  approveMax,
  balanceOf,
  contractAddress,
  deliverMessages,
  faucet,
  pushPrice,
  sentMessage,
} from '../../testing/margin.js'
import { eventually, tempDir } from '../../testing/messaging.js'
import { createLogger } from '../core/logger.js'
import type { SolverOrderView } from './api.js'
import { type RunningSolver, startSolver } from './solver.js'

const usdc = (value: string) => parseUnits(value, 6)

describe('solver on real chains (orders base → hub)', () => {
  let devnet: TestDevnet
  let base: TestChain
  let hub: TestChain
  let solver: RunningSolver
  let user: PrivateKeyAccount
  let rival: PrivateKeyAccount
  const dir = tempDir('solver')
  const dbPath = join(dir, 'solver.db')
  const recipient = () => hub.accounts[DEVNET_ROLES.firstUser + 1]!.address
  const solverAccount = () => hub.accounts[DEVNET_ROLES.solver]!

  const start = async () => {
    solver = await startSolver({
      manifest: devnet.manifest,
      account: solverAccount(),
      dbPath,
      port: 0,
      minSpreadBps: 5,
      logger: createLogger('solver'),
    })
  }
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${solver.url}${path}`)
    assert.equal(response.status, 200, `GET ${path}`)
    return (await response.json()) as T
  }
  const orderView = (id: Hex) =>
    fetch(`${solver.url}/orders/${id}`).then((r) =>
      r.ok ? (r.json() as Promise<SolverOrderView>) : undefined,
    )
  const whenOrder = (id: Hex, what: string, ready: (o: SolverOrderView) => boolean) =>
    eventually(`order ${id.slice(0, 10)} ${what}`, async () => {
      const view = await orderView(id)
      return view && ready(view) ? view : undefined
    })
  const now = async () => {
    const [a, b] = await Promise.all([base.public.getBlock(), hub.public.getBlock()])
    return Math.max(Number(a.timestamp), Number(b.timestamp))
  }
  const open = async (input: string, output: string, deadlineIn = 600) =>
    openIntent(
      devnet.manifest,
      {
        origin: 'base',
        destination: 'hub',
        inputAmount: usdc(input),
        outputAmount: usdc(output),
        recipient: recipient(),
        fillDeadline: (await now()) + deadlineIn,
      },
      user,
    )
  const filledEvents = (orderId: Hex) =>
    hub.public.getContractEvents({
      address: contractAddress(hub, 'DestinationSettler'),
      abi: destinationSettlerAbi,
      eventName: 'Filled',
      args: { orderId },
      fromBlock: 0n,
    })
  const settledEvents = (orderId: Hex) =>
    base.public.getContractEvents({
      address: contractAddress(base, 'OriginSettler'),
      abi: originSettlerAbi,
      eventName: 'Settled',
      args: { orderId },
      fromBlock: 0n,
    })
  /** The Filled message of `orderId`'s one successful fill, delivered on base with committee proofs. */
  const deliverFill = async (orderId: Hex) => {
    const [filled] = await filledEvents(orderId)
    assert.ok(filled, `no Filled event for ${orderId}`)
    const receipt = await hub.public.getTransactionReceipt({ hash: filled.transactionHash })
    return deliverMessages(devnet, 'hub', 'base', [sentMessage(hub, receipt)])
  }
  /** The journal, read beside the running solver (WAL lets a reader in). */
  const fillTxsOf = (orderId: Hex) => {
    const db = new Database(dbPath, { readonly: true })
    try {
      return db.prepare("SELECT hash, status FROM txs WHERE kind = 'fill' AND order_id = ?").all(orderId) as {
        hash: Hex
        status: string
      }[]
    } finally {
      db.close()
    }
  }

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub', 'base'] })
    base = devnet.chain('base')
    hub = devnet.chain('hub')
    user = base.accounts[DEVNET_ROLES.firstUser]!
    rival = hub.accounts[DEVNET_ROLES.firstUser + 2]!
    await faucet(base, 'USDC', user.address, usdc('5000000'))
    await faucet(hub, 'USDC', rival.address, usdc('100000'))
    await approveMax(hub, rival, 'USDC', contractAddress(hub, 'DestinationSettler'))
    // Gas is priced in USDC with the hub's WETH feed.
    await pushPrice(devnet, 'WETH', 3000)
    await start()
  })
  after(async () => {
    await solver?.stop()
    await devnet?.stop()
  })

  it('fills a profitable order exactly once, on the destination, and is repaid on the origin', async () => {
    const recipientBefore = await balanceOf(hub, 'USDC', recipient())
    const solverOnBase = await balanceOf(base, 'USDC', solver.address)
    const opened = await open('1000', '998')
    const filled = await whenOrder(opened.orderId, 'filled', (o) => o.status === 'filled')
    assert.equal(filled.fill?.tx?.status, 'confirmed')
    assert.ok(filled.fill?.messageId)
    assert.ok(BigInt(filled.expected.profit!) > 0n)
    assert.equal(await balanceOf(hub, 'USDC', recipient()), recipientBefore + usdc('998'))
    const events = await filledEvents(opened.orderId)
    assert.equal(events.length, 1)
    assert.equal(events[0]!.args.solver, solver.address)

    await deliverFill(opened.orderId)
    const repaid = await whenOrder(opened.orderId, 'repaid', (o) => o.status === 'repaid')
    assert.equal(repaid.outcome?.paidTo, solver.address)
    assert.equal(repaid.outcome?.amount, usdc('1000').toString())
    assert.equal(await balanceOf(base, 'USDC', solver.address), solverOnBase + usdc('1000'))
    // Still one fill, a few ticks later.
    await new Promise((r) => setTimeout(r, 300))
    assert.equal((await filledEvents(opened.orderId)).length, 1)
    assert.equal(fillTxsOf(opened.orderId).length, 1)
    const status = await api<{ orders: { repaid: number }; repaid: { received: string } }>('/status')
    assert.equal(status.orders.repaid, 1)
    assert.equal(status.repaid.received, usdc('1000').toString())
  })

  it('ignores orders that do not pay or cannot be filled in time; the user is refunded after the deadline', async () => {
    const loss = await open('100', '101', 60)
    const thin = await open('100', '99.999') // 1 bps: under the 5 bps it asks for
    const hurried = await open('100', '90', 1) // one second: under the 2 s margin
    for (const [order, code] of [
      [loss, 'unprofitable'],
      [thin, 'unprofitable'],
      [hurried, 'deadline-too-close'],
    ] as const) {
      const view = await whenOrder(order.orderId, `skipped (${code})`, (o) => o.status === 'skipped')
      assert.equal(view.code, code, view.reason ?? '')
      assert.equal((await filledEvents(order.orderId)).length, 0)
    }
    assert.match((await orderView(thin.orderId))!.reason!, /wants 5 bps/)

    // Nobody fills `loss`; after its deadline anyone closes it on the destination and the user gets the input back.
    const userBefore = await balanceOf(base, 'USDC', user.address)
    const left = loss.order.fillDeadline - Number((await hub.public.getBlock()).timestamp)
    await timeTravel(hub, left + 1)
    const refund = await refundIntent(devnet.manifest, loss, rival)
    await deliverMessages(devnet, 'hub', 'base', [sentMessage(hub, refund.receipt)])
    assert.equal(await balanceOf(base, 'USDC', user.address), userBefore + usdc('100'))
    const view = await whenOrder(loss.orderId, 'refunded', (o) => o.outcome?.kind === 'refunded')
    assert.equal(view.status, 'skipped')
    assert.equal(view.outcome?.paidTo, user.address)
  })

  it('waits for balance: an order larger than its float is filled once the float allows it', async () => {
    const big = await open('1100000', '1099000')
    const waiting = await whenOrder(big.orderId, 'skipped for balance', (o) => o.status === 'skipped')
    assert.equal(waiting.code, 'insufficient-balance', waiting.reason ?? '')
    await faucet(hub, 'USDC', solver.address, usdc('200000'))
    await whenOrder(big.orderId, 'filled', (o) => o.status === 'filled')
    assert.equal((await filledEvents(big.orderId)).length, 1)
  })

  it('after a restart mid-fill, sends the journaled fill again (same bytes), never a second one', async () => {
    await hub.test.setAutomine(false)
    let opened: OpenIntentReturnType
    let hash: Hex
    try {
      opened = await open('500', '499')
      const filling = await whenOrder(
        opened.orderId,
        'filling',
        (o) => o.status === 'filling' && !!o.fill?.tx,
      )
      hash = filling.fill!.tx!.hash as Hex
      await solver.stop()
      // The node forgets it, as if the crash had come before the broadcast.
      await hub.test.dropTransaction({ hash })
      await assert.rejects(hub.public.getTransaction({ hash }))
      await start()
      await eventually('the journaled fill back in the mempool', () =>
        hub.public.getTransaction({ hash }).catch(() => undefined),
      )
      await hub.test.mine({ blocks: 1 })
    } finally {
      await hub.test.setAutomine(true)
    }
    const filled = await whenOrder(opened.orderId, 'filled', (o) => o.status === 'filled')
    assert.equal(filled.fill?.tx?.hash, hash)
    assert.deepEqual(fillTxsOf(opened.orderId), [{ hash, status: 'confirmed' }])
    assert.equal((await filledEvents(opened.orderId)).length, 1)
    await deliverFill(opened.orderId)
    await whenOrder(opened.orderId, 'repaid', (o) => o.status === 'repaid')
    assert.equal((await settledEvents(opened.orderId)).length, 1)
  })

  it('loses a race to a rival in one block: its fill reverts, the rival alone is repaid', async () => {
    const solverOnBase = await balanceOf(base, 'USDC', solver.address)
    await hub.test.setAutomine(false)
    let opened: OpenIntentReturnType
    let rivalHash: Hex
    try {
      opened = await open('300', '299')
      await whenOrder(opened.orderId, 'filling', (o) => o.status === 'filling' && !!o.fill?.tx)
      // A higher tip puts the rival first in the block.
      rivalHash = await hub.wallet.sendTransaction({
        account: rival,
        to: contractAddress(hub, 'DestinationSettler'),
        data: fillCalldata(opened.orderId, opened.originData),
        gas: 600_000n,
        maxFeePerGas: parseGwei('200'),
        maxPriorityFeePerGas: parseGwei('100'),
      })
      await hub.test.mine({ blocks: 1 })
    } finally {
      await hub.test.setAutomine(true)
    }
    assert.equal((await hub.public.waitForTransactionReceipt({ hash: rivalHash })).status, 'success')
    const lost = await whenOrder(opened.orderId, 'failed', (o) => o.status === 'failed')
    assert.equal(lost.code, 'lost-race')
    assert.match(lost.reason ?? '', /IntentAlreadySettled/)
    assert.equal(lost.fill?.tx?.status, 'failed')
    const events = await filledEvents(opened.orderId)
    assert.deepEqual(
      events.map((e) => e.args.solver),
      [rival.address],
    )
    // A second fill is refused outright too.
    await assert.rejects(fillIntent(devnet.manifest, opened, rival), /IntentAlreadySettled/)

    const delivered = await deliverFill(opened.orderId)
    const [settled] = parseEventLogs({
      abi: originSettlerAbi,
      eventName: 'Settled',
      logs: delivered.receipt.logs,
    })
    assert.equal(settled?.args.solver, rival.address)
    const view = await whenOrder(opened.orderId, 'settled to the rival', (o) => o.outcome?.kind === 'settled')
    assert.equal(view.status, 'failed')
    assert.equal(view.outcome?.paidTo, rival.address)
    assert.equal((await settledEvents(opened.orderId)).length, 1)
    assert.equal(await balanceOf(base, 'USDC', solver.address), solverOnBase)
    const state = await readIntent(devnet.manifest, opened.originData)
    assert.deepEqual([state.origin.status, state.destination.solver], ['settled', rival.address])
  })

  it('does not fill an order a rival filled while it was down (the simulation refuses it)', async () => {
    await solver.stop()
    const opened = await open('200', '199')
    await fillIntent(devnet.manifest, opened, rival)
    await start()
    const view = await whenOrder(opened.orderId, 'skipped', (o) => o.status === 'skipped')
    assert.equal(view.code, 'already-settled', view.reason ?? '')
    assert.equal(view.fill, null)
    assert.equal((await filledEvents(opened.orderId)).length, 1)
  })
})
