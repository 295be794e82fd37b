import { setTimeout as sleep } from 'node:timers/promises'
import {
  type Address,
  erc20Abi,
  formatUnits,
  type Hex,
  isAddressEqual,
  type LocalAccount,
  parseUnits,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { DEVNET_ROLES } from '../../devnet/topology.js'
import { createReadClient, pollingIntervalMs } from '../../sdk/client.js'
import { BaseError } from '../../sdk/errors.js'
import { type ChainEntry, chainByName, type Manifest } from '../../sdk/manifest.js'
import { faucet } from '../../sdk/margin/actions.js'
import {
  findIntent,
  IntentError,
  type IntentState,
  type OpenedIntent,
  openIntent,
  readIntent,
  refundIntent,
} from '../../sdk/settlement/intents.js'
import { chainById, contractOn, revertOf } from '../../sdk/settlement/tx.js'
import { explainRevert, parseAddress, requireFlag } from '../margin.js'
import { senderAccount, toJson } from '../messaging.js'
import { loadManifest } from '../service.js'
import { parseCommand, parseFlags, parsePositiveInt, UsageError } from '../usage.js'

export const help = `isthmus intent: ERC-7683 intents — USDC on one chain for USDC on another, filled by a solver

isthmus intent open: escrow USDC on the origin for a solver to deliver on the destination
  --from <chain>          the origin (where the USDC is escrowed)
  --to <chain>            the destination (where the recipient is paid)
  --amount <usdc>         what you give, e.g. 1000 or 0.5
  --receive <usdc>        what the recipient gets; the difference is the solver's fee
  --recipient <address>   who is paid on the destination (default: the sender)
  --deadline <seconds>    fill deadline from now (the later chain clock; default 120)
  --faucet                devnet: mint the USDC to the sender first
  --wait                  wait until filled and settled at the origin (or refunded)
  --timeout <seconds>     how long --wait waits (default 120)

isthmus intent show <orderId>: the order and both sides' status (escrow, fill or refund, solver)

isthmus intent refund <orderId>: after the fill deadline, close the unfilled order on the
  destination; its message returns the escrow to the user on the origin

  --json                  machine-readable
  --manifest <path>       default .isthmus/devnet.json

Signs with ISTHMUS_SENDER_KEY, or on a devnet with its first user account.`

const subcommands: Record<string, (argv: string[]) => Promise<void>> = {
  open: runOpen,
  show: runShow,
  refund: runRefund,
}

export async function run(argv: string[]): Promise<void> {
  const [name, ...rest] = argv
  const subcommand = name ? subcommands[name] : undefined
  if (!subcommand)
    throw new UsageError(
      `${name ? `unknown subcommand "${name}"` : 'expects a subcommand'}: open, show or refund (see: isthmus intent --help)`,
    )
  await subcommand(rest)
}

// ---------------------------------------------------------------------------------------------
// open
// ---------------------------------------------------------------------------------------------

async function runOpen(argv: string[]): Promise<void> {
  const flags = parseFlags('intent open', argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    amount: { type: 'string' },
    receive: { type: 'string' },
    recipient: { type: 'string' },
    deadline: { type: 'string', default: '120' },
    faucet: { type: 'boolean' },
    wait: { type: 'boolean' },
    timeout: { type: 'string', default: '120' },
    json: { type: 'boolean' },
    manifest: { type: 'string' },
  })
  requireFlag('intent open', flags, 'from', 'to', 'amount', 'receive')
  const amount = usdcFlag('--amount', flags.amount!)
  const receive = usdcFlag('--receive', flags.receive!)
  const deadlineIn = parsePositiveInt('--deadline', flags.deadline)
  const timeoutMs = parsePositiveInt('--timeout', flags.timeout) * 1000
  const recipient = parseAddress('--recipient', flags.recipient)
  const manifest = await loadManifest(flags.manifest)
  const origin = chainByName(manifest, flags.from!)
  const destination = chainByName(manifest, flags.to!)
  if (origin.name === destination.name) throw new UsageError('--from and --to must be different chains')
  const user = senderAccount(manifest)
  let opened: Awaited<ReturnType<typeof openIntent>>
  try {
    if (flags.faucet) await mintUsdc(manifest, origin.name, user, amount)
    const [inputAmount, outputAmount, now] = await Promise.all([
      usdcUnits(origin, '--amount', amount),
      usdcUnits(destination, '--receive', receive),
      latestTimestamp(origin, destination),
    ])
    opened = await openIntent(
      manifest,
      {
        origin: origin.name,
        destination: destination.name,
        inputAmount,
        outputAmount,
        recipient: recipient ?? user.address,
        fillDeadline: now + deadlineIn,
      },
      user,
    )
  } catch (error) {
    throw explainRevert(error)
  }
  const { open } = opened
  const summary = {
    orderId: opened.orderId,
    origin: origin.name,
    destination: destination.name,
    amount,
    receive,
    recipient: opened.order.data.recipient,
    fillDeadline: opened.order.fillDeadline,
    tx: open.tx,
    gasUsed: open.gasUsed,
    blockNumber: open.blockNumber,
    approvalTx: opened.approval?.tx,
  }
  if (!flags.json)
    console.log(
      `opened order ${opened.orderId} on ${origin.name}: ${amount} USDC for ${receive} USDC on ${destination.name}, ` +
        `fill deadline in ${deadlineIn} s, tx ${open.tx}, gas ${open.gasUsed}`,
    )
  if (!flags.wait) {
    if (flags.json) console.log(toJson(summary))
    return
  }
  const final = await waitForSettlement(manifest, opened, timeoutMs, (line) => {
    if (!flags.json) console.log(line)
  })
  if (flags.json) console.log(toJson({ ...summary, state: final }))
}

/** A USDC amount flag, checked before any chain is asked (its decimals come from the token). */
function usdcFlag(flag: string, value: string): string {
  if (!/^\d+(\.\d+)?$/.test(value) || !/[1-9]/.test(value))
    throw new UsageError(`${flag} expects a positive USDC amount (e.g. 1000 or 0.5), got "${value}"`)
  return value
}

async function usdcUnits(chain: ChainEntry, flag: string, value: string): Promise<bigint> {
  const decimals = await createReadClient(chain).readContract({
    address: contractOn(chain, 'USDC'),
    abi: erc20Abi,
    functionName: 'decimals',
  })
  if ((value.split('.')[1] ?? '').length > decimals)
    throw new UsageError(`${flag} has more than ${decimals} decimals: "${value}"`)
  return parseUnits(value, decimals)
}

/** Devnet: the deployer (every devnet token's minter) mints the sender the USDC to escrow. */
async function mintUsdc(manifest: Manifest, chain: string, user: LocalAccount, amount: string) {
  const minterKey = manifest.accounts[DEVNET_ROLES.deployer]?.privateKey
  if (manifest.network !== 'devnet' || !minterKey) throw new UsageError('--faucet works on a devnet only')
  await faucet(manifest, chain, 'USDC', user.address, amount, privateKeyToAccount(minterKey as Hex))
}

/** The later of the chains' clocks: the deadline is set ahead of the origin's, judged on the destination's. */
async function latestTimestamp(...chains: ChainEntry[]): Promise<number> {
  const blocks = await Promise.all(chains.map((c) => createReadClient(c).getBlock({ blockTag: 'latest' })))
  return Math.max(...blocks.map((b) => Number(b.timestamp)))
}

/**
 * Polls both settlers until the origin has settled or refunded the escrow, calling `report` once for
 * each step seen (fill or refund on the destination, settlement or refund on the origin).
 */
async function waitForSettlement(
  manifest: Manifest,
  opened: OpenedIntent,
  timeoutMs: number,
  report: (line: string) => void,
): Promise<IntentState> {
  const deadline = Date.now() + timeoutMs
  const interval = Math.max(200, pollingIntervalMs(chainById(manifest, opened.order.originChainId)))
  const input = await formatAmount(manifest, opened.order.originChainId, opened.order.data.inputToken)
  let seen = { origin: 'open', destination: 'none' }
  for (;;) {
    const state = await readIntent(manifest, opened.originData)
    if (state.destination.status !== seen.destination) report(destinationLine(state))
    if (state.origin.status !== seen.origin) report(originLine(state, input(opened.order.data.inputAmount)))
    seen = { origin: state.origin.status, destination: state.destination.status }
    if (state.origin.status === 'settled' || state.origin.status === 'refunded') return state
    if (Date.now() >= deadline) throw timedOut(opened, state, timeoutMs)
    await sleep(interval)
  }
}

function destinationLine(state: IntentState): string {
  const { chain, status, solver } = state.destination
  return status === 'filled'
    ? `filled on ${chain} by solver ${solver}`
    : `refund sent on ${chain}: closed unfilled after its deadline`
}

function originLine(state: IntentState, amount: string): string {
  const { chain, status, user } = state.origin
  return status === 'settled'
    ? `settled on ${chain}: the ${amount} escrow paid to the solver`
    : `refunded on ${chain}: the ${amount} escrow returned to ${user}`
}

function timedOut(opened: OpenedIntent, state: IntentState, timeoutMs: number): IntentError {
  const expired = Date.now() / 1000 > opened.order.fillDeadline && state.destination.status === 'none'
  const hint = expired ? `; its fill deadline passed: isthmus intent refund ${opened.orderId}` : ''
  return new IntentError(
    `order ${opened.orderId} not settled within ${timeoutMs / 1000} s ` +
      `(origin ${state.origin.status}, destination ${state.destination.status})${hint}`,
  )
}

// ---------------------------------------------------------------------------------------------
// show
// ---------------------------------------------------------------------------------------------

async function runShow(argv: string[]): Promise<void> {
  const { values: flags, positionals } = parseCommand(
    'intent show',
    argv,
    { json: { type: 'boolean' }, manifest: { type: 'string' } },
    1,
  )
  const orderId = parseOrderId(positionals[0]!)
  const manifest = await loadManifest(flags.manifest)
  const opened = await findIntent(manifest, orderId)
  const { order } = opened
  const [state, input, output, destinationNow] = await Promise.all([
    readIntent(manifest, opened.originData),
    formatAmount(manifest, order.originChainId, order.data.inputToken),
    formatAmount(manifest, order.data.destinationChainId, order.data.outputToken),
    latestTimestamp(chainById(manifest, order.data.destinationChainId)),
  ])
  const inputAmount = input(order.data.inputAmount)
  const outputAmount = output(order.data.outputAmount)
  if (flags.json)
    return console.log(
      toJson({
        ...state,
        order,
        input: inputAmount,
        output: outputAmount,
        open: { tx: opened.transactionHash, blockNumber: opened.blockNumber, openedAt: opened.openedAt },
      }),
    )
  const left = order.fillDeadline - destinationNow
  const solver = state.destination.status === 'filled' ? ` by solver ${state.destination.solver}` : ''
  console.log(
    [
      `order ${orderId}: ${state.origin.chain} → ${state.destination.chain}`,
      `  opened by ${order.user} in tx ${opened.transactionHash} (block ${opened.blockNumber})`,
      `  origin ${state.origin.chain}: ${inputAmount} escrowed, ${state.origin.status}`,
      `  destination ${state.destination.chain}: ${outputAmount} to ${order.data.recipient}, ${destinationStatus(state)}${solver}`,
      `  fill deadline ${new Date(order.fillDeadline * 1000).toISOString()} (${left >= 0 ? `in ${left} s` : `passed ${-left} s ago`})`,
    ].join('\n'),
  )
}

function destinationStatus(state: IntentState): string {
  return state.destination.status === 'none' ? 'not filled' : state.destination.status
}

function parseOrderId(value: string): Hex {
  if (!/^0x[0-9a-fA-F]{64}$/.test(value)) throw new UsageError(`"${value}" is not an order id (32-byte hex)`)
  return value.toLowerCase() as Hex
}

/** Formats amounts of `token` on a chain: "998 USDC" (its manifest name), else units and address. */
async function formatAmount(manifest: Manifest, chainId: bigint, token: Address) {
  const chain = chainById(manifest, chainId)
  const decimals = await createReadClient(chain).readContract({
    address: token,
    abi: erc20Abi,
    functionName: 'decimals',
  })
  const name = Object.entries(chain.contracts).find(([, a]) => isAddressEqual(a as Address, token))?.[0]
  return (amount: bigint) => `${formatUnits(amount, decimals)} ${name ?? token}`
}

// ---------------------------------------------------------------------------------------------
// refund
// ---------------------------------------------------------------------------------------------

async function runRefund(argv: string[]): Promise<void> {
  const { values: flags, positionals } = parseCommand(
    'intent refund',
    argv,
    { json: { type: 'boolean' }, manifest: { type: 'string' } },
    1,
  )
  const orderId = parseOrderId(positionals[0]!)
  const manifest = await loadManifest(flags.manifest)
  const opened = await findIntent(manifest, orderId)
  const sender = senderAccount(manifest)
  let refunded: Awaited<ReturnType<typeof refundIntent>>
  try {
    refunded = await refundIntent(manifest, opened, sender)
  } catch (error) {
    throw refundRefusal(opened, error)
  }
  const origin = chainById(manifest, opened.order.originChainId).name
  if (flags.json)
    return console.log(
      toJson({
        orderId,
        chain: refunded.chain,
        tx: refunded.tx,
        gasUsed: refunded.gasUsed,
        blockNumber: refunded.blockNumber,
        messageId: refunded.messageId,
      }),
    )
  console.log(
    `refunded order ${orderId} on ${refunded.chain}: tx ${refunded.tx}, gas ${refunded.gasUsed}, ` +
      `message ${refunded.messageId} returns the escrow on ${origin} once delivered`,
  )
}

/** A refused refund in one line: the contract's error, and what it means when it is the deadline. */
function refundRefusal(opened: OpenedIntent, error: unknown): Error {
  if (revertOf(error)?.name !== 'IntentFillDeadlineNotPassed' || !(error instanceof BaseError))
    return explainRevert(error)
  const deadline = new Date(opened.order.fillDeadline * 1000).toISOString()
  return new IntentError(`${error.shortMessage}: the fill deadline ${deadline} has not passed`, {
    cause: error,
  })
}
