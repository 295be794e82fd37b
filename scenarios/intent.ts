/**
 * `isthmus scenario intent`: ERC-7683 intents between base and the hub with the running solver. A
 * fresh user opens a profitable order (1,000 USDC on base for 998 on the hub): the solver fills it on
 * the hub from its own USDC and is repaid the escrow on base once the relayer carries the Filled
 * message. Then an unprofitable order (100 USDC for 101) with a short deadline: the solver ignores it,
 * and after the deadline the scenario closes it on the hub, whose Refund message returns the user's
 * 100 USDC on base. Every step is a real transaction; balances are checked at each one.
 */
import { type Address, erc20Abi, formatUnits, type Hash, type Hex, parseEther, parseUnits } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { DEVNET_ROLES } from '../devnet/topology.js'
import { destinationSettlerAbi } from '../sdk/abi/DestinationSettler.js'
import { originSettlerAbi } from '../sdk/abi/OriginSettler.js'
import { createChainClients, createReadClient } from '../sdk/client.js'
import { type ChainEntry, chainByName, type Manifest } from '../sdk/manifest.js'
import { faucet } from '../sdk/margin/actions.js'
import { type OpenedIntent, openIntent, readIntent, refundIntent } from '../sdk/settlement/intents.js'
import { ScenarioError, type Timeline, waitForEvent } from './timeline.js'

const ORIGIN = 'base'
const DESTINATION = 'hub'
const FILLED = { input: '1000', output: '998' }
const IGNORED = { input: '100', output: '101' }
/** The ignored order's deadline, from the hub's clock: short, so the refund comes soon. */
const SHORT_DEADLINE_S = 12

export type IntentOptions = { timeoutMs?: number }

type EventBase = { transactionHash: Hash; blockNumber: bigint }
type FilledLog = EventBase & { args: { orderId: Hex; solver: Address; repayTo: Address; amount: bigint } }
type SettledLog = EventBase & { args: { orderId: Hex; solver: Address; amount: bigint } }
type RefundedLog = EventBase & { args: { orderId: Hex; user: Address; amount: bigint } }
type SolverOrder = {
  status: string
  code: string | null
  reason: string | null
  fill: { latencyMs: number | null } | null
}

const usdc = (value: string) => parseUnits(value, 6)
const shown = (units: bigint) => Number(formatUnits(units, 6)).toLocaleString('en-US')

export async function intentScenario(manifest: Manifest, timeline: Timeline, options: IntentOptions = {}) {
  const timeoutMs = options.timeoutMs ?? 120_000
  const origin = chainByName(manifest, ORIGIN)
  const destination = chainByName(manifest, DESTINATION)
  const deployerKey = manifest.accounts[DEVNET_ROLES.deployer]?.privateKey as Hex | undefined
  if (manifest.network !== 'devnet' || !deployerKey)
    throw new ScenarioError('the intent scenario runs on the devnet (it mints USDC for its user)')
  const solverUrl = manifest.services.solver
  if (!solverUrl)
    throw new ScenarioError('no solver in the manifest: filling intents is its job (npm start runs it)')
  const solverView = async (orderId: Hex): Promise<SolverOrder | undefined> => {
    const response = await fetch(new URL(`/orders/${orderId}`, solverUrl)).catch((cause: unknown) => {
      throw new ScenarioError(`the solver at ${solverUrl} does not answer`, { cause })
    })
    return response.ok ? ((await response.json()) as SolverOrder) : undefined
  }
  await fetch(new URL('/status', solverUrl)).catch((cause: unknown) => {
    throw new ScenarioError(`the solver at ${solverUrl} does not answer: is it running?`, { cause })
  })

  // A fresh user per run, so the scenario can run again on the same devnet.
  const deployer = privateKeyToAccount(deployerKey)
  const user = privateKeyToAccount(generatePrivateKey())
  for (const chain of [origin, destination]) {
    const clients = createChainClients(chain, deployer)
    const hash = await clients.wallet.sendTransaction({ to: user.address, value: parseEther('1') })
    await clients.public.waitForTransactionReceipt({ hash })
  }
  const funding = usdc(FILLED.input) + usdc(IGNORED.input)
  const minted = await faucet(manifest, ORIGIN, 'USDC', user.address, formatUnits(funding, 6), deployer)
  timeline.step(`user ${user.address} gets ${shown(funding)} USDC on ${ORIGIN}`, minted)

  const balance = balances(origin, destination, user.address)
  await balance.expect(ORIGIN, funding, 'after the faucet')
  const originClient = createReadClient(origin)
  const destinationClient = createReadClient(destination)
  const wait = <L extends EventBase & { args: object }>(
    chain: ChainEntry,
    query: {
      contract: string
      abi: typeof originSettlerAbi | typeof destinationSettlerAbi
      eventName: string
    },
    orderId: Hex,
    fromBlock: bigint,
    what: string,
  ) =>
    waitForEvent<L>(chain === origin ? originClient : destinationClient, {
      address: chain.contracts[query.contract] as Address,
      abi: query.abi,
      eventName: query.eventName,
      args: { orderId },
      fromBlock,
      timeoutMs,
      what,
    })

  /**
   * The user opens an order, its fill deadline `deadlineS` after the hub's clock; `hubFrom` and
   * `baseFrom` are where to look for what follows it.
   */
  const openOrder = async ({ input, output }: { input: string; output: string }, deadlineS: number) => {
    const hubFrom = await destinationClient.getBlockNumber({ cacheTime: 0 })
    const baseFrom = await originClient.getBlockNumber({ cacheTime: 0 })
    const order = await openIntent(
      manifest,
      {
        origin: ORIGIN,
        destination: DESTINATION,
        inputAmount: usdc(input),
        outputAmount: usdc(output),
        recipient: user.address,
        fillDeadline: (await clock(destinationClient)) + deadlineS,
      },
      user,
    )
    return { order, hubFrom, baseFrom }
  }

  // 1. A profitable order: the solver fills it and is repaid.
  const { order: opened, hubFrom, baseFrom } = await openOrder(FILLED, 600)
  const openedAt = Date.now()
  if (opened.approval) timeline.step(`approve the OriginSettler on ${ORIGIN}`, opened.approval)
  timeline.step(
    `open: ${FILLED.input} USDC on ${ORIGIN} → ${FILLED.output} USDC on ${DESTINATION} (order ${opened.orderId.slice(0, 10)}…)`,
    opened.open,
  )
  await balance.expect(ORIGIN, funding - usdc(FILLED.input), 'after opening: the input is escrowed')
  await expectState(manifest, opened, 'open', 'none')

  const filled = await wait<FilledLog>(
    destination,
    { contract: 'DestinationSettler', abi: destinationSettlerAbi, eventName: 'Filled' },
    opened.orderId,
    hubFrom,
    `the solver filling order ${opened.orderId}`,
  )
  const seenMs = Date.now() - openedAt
  const solverLatency = (await solverView(opened.orderId))?.fill?.latencyMs
  timeline.step(
    `fill by the solver ${filled.args.solver.slice(0, 10)}…: ${FILLED.output} USDC to the user (fill latency ${(seenMs / 1000).toFixed(1)} s after the open receipt${solverLatency == null ? '' : `; ${solverLatency} ms from the solver seeing the Open`})`,
    { chain: DESTINATION, ...filled },
  )
  if (filled.args.amount !== usdc(FILLED.output))
    throw new ScenarioError(`the fill paid ${shown(filled.args.amount)} USDC, not ${FILLED.output}`)
  await balance.expect(DESTINATION, usdc(FILLED.output), 'after the fill')
  await expectState(manifest, opened, 'open', 'filled')

  const settled = await wait<SettledLog>(
    origin,
    { contract: 'OriginSettler', abi: originSettlerAbi, eventName: 'Settled' },
    opened.orderId,
    baseFrom,
    `the Filled message of ${opened.orderId} settling the escrow on ${ORIGIN}`,
  )
  timeline.step(
    `solver repaid ${shown(settled.args.amount)} USDC from the escrow on ${ORIGIN} (Filled message relayed, ${((Date.now() - openedAt) / 1000).toFixed(1)} s after the open)`,
    { chain: ORIGIN, ...settled },
  )
  if (settled.args.solver !== filled.args.repayTo || settled.args.amount !== usdc(FILLED.input))
    throw new ScenarioError(
      `the escrow paid ${shown(settled.args.amount)} USDC to ${settled.args.solver}, not ${FILLED.input} to ${filled.args.repayTo}`,
    )
  await expectState(manifest, opened, 'settled', 'filled')
  await balance.expect(ORIGIN, funding - usdc(FILLED.input), 'after the settlement (the user paid once)')

  // 2. An unprofitable order: the solver leaves it; after the deadline it is refunded.
  const {
    order: ignored,
    hubFrom: hubFrom2,
    baseFrom: baseFrom2,
  } = await openOrder(IGNORED, SHORT_DEADLINE_S)
  timeline.step(
    `open: ${IGNORED.input} USDC on ${ORIGIN} → ${IGNORED.output} USDC on ${DESTINATION}, deadline in ${SHORT_DEADLINE_S} s (unprofitable)`,
    ignored.open,
  )
  await balance.expect(ORIGIN, 0n, 'after opening the second order')
  const skipped = await eventuallyOr(
    timeoutMs,
    `the solver deciding on order ${ignored.orderId}`,
    async () => {
      const view = await solverView(ignored.orderId)
      if (view && view.status !== 'new') return view
      return undefined
    },
  )
  if (skipped.status !== 'skipped' || skipped.code !== 'unprofitable')
    throw new ScenarioError(
      `the solver did not ignore the unprofitable order: ${skipped.status} ${skipped.code ?? ''}`,
    )
  timeline.note(`the solver ignores it: ${skipped.reason}`)

  await eventuallyOr(timeoutMs, `the deadline of ${ignored.orderId} passing on ${DESTINATION}`, async () =>
    (await clock(destinationClient)) > ignored.order.fillDeadline ? true : undefined,
  )
  const fills = await destinationClient.getContractEvents({
    address: destination.contracts.DestinationSettler as Address,
    abi: destinationSettlerAbi,
    eventName: 'Filled',
    args: { orderId: ignored.orderId },
    fromBlock: hubFrom2,
  })
  if (fills.length) throw new ScenarioError(`order ${ignored.orderId} was filled by ${fills[0]!.args.solver}`)
  const refund = await refundIntent(manifest, ignored, user)
  timeline.step(`refund on ${DESTINATION} after the deadline: the order is closed there for good`, refund)
  const refunded = await wait<RefundedLog>(
    origin,
    { contract: 'OriginSettler', abi: originSettlerAbi, eventName: 'Refunded' },
    ignored.orderId,
    baseFrom2,
    `the Refund message of ${ignored.orderId} returning the escrow on ${ORIGIN}`,
  )
  timeline.step(`user refunded ${shown(refunded.args.amount)} USDC on ${ORIGIN} (Refund message relayed)`, {
    chain: ORIGIN,
    ...refunded,
  })
  if (refunded.args.user !== user.address || refunded.args.amount !== usdc(IGNORED.input))
    throw new ScenarioError(`the refund paid ${shown(refunded.args.amount)} USDC to ${refunded.args.user}`)
  await expectState(manifest, ignored, 'refunded', 'refunded')
  await balance.expect(ORIGIN, usdc(IGNORED.input), 'after the refund')
  await balance.expect(DESTINATION, usdc(FILLED.output), 'at the end')
}

/** The chain's clock: its latest block's timestamp. */
async function clock(client: ReturnType<typeof createReadClient>): Promise<number> {
  return Number((await client.getBlock({ blockTag: 'latest' })).timestamp)
}

function balances(origin: ChainEntry, destination: ChainEntry, owner: Address) {
  const read = (chain: ChainEntry) =>
    createReadClient(chain).readContract({
      address: chain.contracts.USDC as Address,
      abi: erc20Abi,
      functionName: 'balanceOf',
      args: [owner],
    })
  return {
    async expect(chainName: string, expected: bigint, when: string) {
      const actual = await read(chainName === origin.name ? origin : destination)
      if (actual !== expected)
        throw new ScenarioError(
          `the user holds ${shown(actual)} USDC on ${chainName} ${when}, expected ${shown(expected)}`,
        )
    },
  }
}

async function expectState(
  manifest: Manifest,
  order: OpenedIntent,
  originStatus: string,
  destinationStatus: string,
) {
  const state = await readIntent(manifest, order.originData)
  if (state.origin.status !== originStatus || state.destination.status !== destinationStatus)
    throw new ScenarioError(
      `order ${order.orderId} is ${state.origin.status} on the origin and ${state.destination.status} on the destination, expected ${originStatus} and ${destinationStatus}`,
    )
}

async function eventuallyOr<T>(
  timeoutMs: number,
  what: string,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const value = await check()
    if (value !== undefined) return value
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new ScenarioError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)
}
