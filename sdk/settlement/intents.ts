/**
 * ERC-7683 intents on the Isthmus settlers (docs/settlement.md, "Intents"): the order encoding the
 * contracts hash into an order id, and the four actions — open (origin), fill and refund
 * (destination), read (both). Shared by the solver, the intent scenario, tests and benchmarks.
 */
import {
  type Account,
  type Address,
  decodeAbiParameters,
  encodeAbiParameters,
  encodeFunctionData,
  getAbiItem,
  getAddress,
  type Hash,
  type Hex,
  isAddressEqual,
  keccak256,
  type Log,
  parseEventLogs,
  toHex,
} from 'viem'
import { burnMintERC20Abi } from '../abi/BurnMintERC20.js'
import { destinationSettlerAbi } from '../abi/DestinationSettler.js'
import { originSettlerAbi } from '../abi/OriginSettler.js'
import { createReadClient } from '../client.js'
import { chainByName, type Manifest } from '../manifest.js'
import {
  chainById,
  contractOn,
  ensureAllowance,
  SettlementError,
  type SettlementTx,
  settlementChain,
  submitContractWrite,
  tokenOn,
} from './tx.js'

/** An intent-specific failure; the transaction plumbing's own are {@link SettlementError}s. */
export class IntentError extends SettlementError {
  override name = 'IntentError'
}

/** `IntentOrderData` (IntentMessages.sol): what the user gives on the origin and gets on the destination. */
export type IntentOrderData = {
  inputToken: Address
  inputAmount: bigint
  destinationChainId: bigint
  outputToken: Address
  outputAmount: bigint
  recipient: Address
}

/** `IntentOrder` (IntentMessages.sol): the order as opened; its encoding is `originData`, its hash the id. */
export type IntentOrder = {
  originChainId: bigint
  originSettler: Address
  user: Address
  nonce: bigint
  fillDeadline: number
  data: IntentOrderData
}

const orderDataComponents = [
  { name: 'inputToken', type: 'address' },
  { name: 'inputAmount', type: 'uint256' },
  { name: 'destinationChainId', type: 'uint64' },
  { name: 'outputToken', type: 'address' },
  { name: 'outputAmount', type: 'uint256' },
  { name: 'recipient', type: 'address' },
] as const

const orderDataParameter = { type: 'tuple', components: orderDataComponents } as const

const orderParameter = {
  type: 'tuple',
  components: [
    { name: 'originChainId', type: 'uint64' },
    { name: 'originSettler', type: 'address' },
    { name: 'user', type: 'address' },
    { name: 'nonce', type: 'uint256' },
    { name: 'fillDeadline', type: 'uint32' },
    { name: 'data', ...orderDataParameter },
  ],
} as const

/** ERC-7683 `orderDataType` of {@link IntentOrderData} (IntentMessages.ORDER_DATA_TYPEHASH). */
export const ORDER_DATA_TYPEHASH = keccak256(
  toHex(
    'IntentOrderData(address inputToken,uint256 inputAmount,uint64 destinationChainId,address outputToken,uint256 outputAmount,address recipient)',
  ),
)

/** What the settlers record of an order, by side (OriginSettler.Status, DestinationSettler.Status). */
export const ORIGIN_STATUS = ['none', 'open', 'settled', 'refunded'] as const
export const DESTINATION_STATUS = ['none', 'filled', 'refunded'] as const
export type OriginStatus = (typeof ORIGIN_STATUS)[number]
export type DestinationStatus = (typeof DESTINATION_STATUS)[number]

/** Every error a settler or the token can revert with, for decoding a refusal by name. */
export const intentErrorAbi = [...originSettlerAbi, ...destinationSettlerAbi, ...burnMintERC20Abi].filter(
  (item) => item.type === 'error',
)

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** `OnchainCrossChainOrder.orderData`: `abi.encode(IntentOrderData)`. */
export function encodeOrderData(data: IntentOrderData): Hex {
  return encodeAbiParameters([orderDataParameter], [data])
}

/** `originData`: `abi.encode(IntentOrder)`, what `fill` and `refund` take. */
export function encodeOrder(order: IntentOrder): Hex {
  return encodeAbiParameters([orderParameter], [order])
}

export function decodeOrder(originData: Hex): IntentOrder {
  const [order] = decodeAbiParameters([orderParameter], originData)
  return { ...order, data: { ...order.data } }
}

/** The order id: `keccak256(originData)`. */
export function orderIdOf(order: IntentOrder | Hex): Hex {
  return keccak256(typeof order === 'string' ? order : encodeOrder(order))
}

/** The ERC-7683 `OnchainCrossChainOrder` that `OriginSettler.open` takes. */
export function onchainOrder(fillDeadline: number, data: IntentOrderData) {
  return { fillDeadline, orderDataType: ORDER_DATA_TYPEHASH, orderData: encodeOrderData(data) }
}

/** `DestinationSettler.fill` calldata; `repayTo` (default: the caller) is paid the escrow on the origin. */
export function fillCalldata(orderId: Hex, originData: Hex, repayTo?: Address): Hex {
  const fillerData = repayTo ? encodeAbiParameters([{ type: 'address' }], [repayTo]) : '0x'
  return encodeFunctionData({
    abi: destinationSettlerAbi,
    functionName: 'fill',
    args: [orderId, originData, fillerData],
  })
}

// ---------------------------------------------------------------------------------------------
// Open events
// ---------------------------------------------------------------------------------------------

/** An `Open` event, decoded and checked: the order, its origin data and where to fill it. */
export type OpenedIntent = {
  orderId: Hex
  order: IntentOrder
  originData: Hex
  /** Where `fill` and `refund` are called (the fill instruction's settler). */
  destinationSettler: Address
  /** The origin block's timestamp at opening (ERC-7683 `openDeadline` of an on-chain order). */
  openedAt: number
  originSettler: Address
  blockNumber: bigint
  transactionHash: Hash
  logIndex: number
}

/**
 * Every `Open` event in `logs` (other events and other contracts' logs are ignored). Each is checked
 * the way a filler must before paying anything: one fill instruction, its origin data hashing to the
 * order id, emitted by the settler the origin data names, on the chain it names.
 */
export function parseOpenEvents(logs: readonly Log[]): OpenedIntent[] {
  return parseEventLogs({ abi: originSettlerAbi, eventName: 'Open', logs: logs as Log[] }).map((log) => {
    const { orderId, resolvedOrder } = log.args
    const [instruction] = resolvedOrder.fillInstructions
    if (!instruction || resolvedOrder.fillInstructions.length !== 1)
      throw new IntentError(`order ${orderId} has ${resolvedOrder.fillInstructions.length} fill instructions`)
    const order = decodeOrder(instruction.originData)
    if (orderIdOf(instruction.originData) !== orderId)
      throw new IntentError(
        `order ${orderId}: its origin data hashes to ${orderIdOf(instruction.originData)}`,
      )
    if (
      !isAddressEqual(order.originSettler, log.address) ||
      order.originChainId !== resolvedOrder.originChainId
    )
      throw new IntentError(
        `order ${orderId} names settler ${order.originSettler}, emitted by ${log.address}`,
      )
    return {
      orderId,
      order,
      originData: instruction.originData,
      destinationSettler: getAddress(`0x${instruction.destinationSettler.slice(26)}`),
      openedAt: resolvedOrder.openDeadline,
      originSettler: log.address,
      blockNumber: log.blockNumber,
      transactionHash: log.transactionHash,
      logIndex: log.logIndex,
    }
  })
}

const openEvent = getAbiItem({ abi: originSettlerAbi, name: 'Open' })

/**
 * An order by id: its `Open` event, looked up by the indexed id in the OriginSettler of every chain
 * of the manifest (from each chain's deploy block), decoded and checked as {@link parseOpenEvents} does.
 */
export async function findIntent(manifest: Manifest, orderId: Hex): Promise<OpenedIntent> {
  const found = await Promise.all(
    manifest.chains
      .filter((chain) => chain.contracts.OriginSettler)
      .map(async (chain) => {
        const logs = await createReadClient(chain).getLogs({
          address: contractOn(chain, 'OriginSettler'),
          event: openEvent,
          args: { orderId },
          fromBlock: BigInt(chain.deployBlock ?? 0),
        })
        return parseOpenEvents(logs)
      }),
  )
  const [opened] = found.flat()
  if (!opened) throw new IntentError(`no order ${orderId} on any chain of the manifest`)
  return opened
}

// ---------------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------------

export type OpenIntentParameters = {
  /** Chain names. */
  origin: string
  destination: string
  /** In the tokens' smallest units. */
  inputAmount: bigint
  outputAmount: bigint
  recipient: Address
  /** Unix seconds: the last destination second a fill is accepted; refundable after it. */
  fillDeadline: number
  /** Manifest names or addresses (default USDC on both sides). */
  inputToken?: string
  outputToken?: string
}

export type OpenIntentReturnType = OpenedIntent & { open: SettlementTx; approval?: SettlementTx }

/** Approves the origin settler if needed, opens the order (escrowing the input) and decodes its `Open`. */
export async function openIntent(
  manifest: Manifest,
  parameters: OpenIntentParameters,
  account: Account,
): Promise<OpenIntentReturnType> {
  const origin = settlementChain(chainByName(manifest, parameters.origin), account)
  const destination = chainByName(manifest, parameters.destination)
  const originSettler = contractOn(origin.entry, 'OriginSettler')
  const data: IntentOrderData = {
    inputToken: tokenOn(origin.entry, parameters.inputToken ?? 'USDC'),
    inputAmount: parameters.inputAmount,
    destinationChainId: BigInt(destination.chainId),
    outputToken: tokenOn(destination, parameters.outputToken ?? 'USDC'),
    outputAmount: parameters.outputAmount,
    recipient: parameters.recipient,
  }
  const approval = await ensureAllowance(origin, {
    token: data.inputToken,
    spender: originSettler,
    amount: data.inputAmount,
    what: 'approving the OriginSettler',
  })
  const open = await submitContractWrite(origin, 'open', {
    address: originSettler,
    abi: originSettlerAbi,
    functionName: 'open',
    args: [onchainOrder(parameters.fillDeadline, data)],
  })
  const [opened] = parseOpenEvents(open.receipt.logs.filter((l) => isAddressEqual(l.address, originSettler)))
  if (!opened) throw new IntentError(`open on ${origin.entry.name} emitted no Open event (tx ${open.tx})`)
  return { ...opened, open, approval }
}

/** What a fill or refund left on the destination: the transaction and the message it sent the origin. */
export type SettleTx = SettlementTx & { messageId: Hex }

function withMessageId(sent: SettlementTx): SettleTx {
  const [messageId] = sent.messageIds
  if (!messageId) throw new IntentError(`tx ${sent.tx} sent no message to the origin`)
  return { ...sent, messageId }
}

export type FillIntentParameters = {
  orderId: Hex
  originData: Hex
  /** Paid the escrow on the origin (default: the filler). */
  repayTo?: Address
}

/**
 * Fills an order on its destination from `account`'s own tokens: approves the destination settler
 * if needed, then `fill` (simulated first: a refused fill throws the contract's error).
 */
export async function fillIntent(
  manifest: Manifest,
  { orderId, originData, repayTo }: FillIntentParameters,
  account: Account,
): Promise<SettleTx> {
  const order = decodeOrder(originData)
  const destination = settlementChain(chainById(manifest, order.data.destinationChainId), account)
  const destinationSettler = contractOn(destination.entry, 'DestinationSettler')
  await ensureAllowance(destination, {
    token: order.data.outputToken,
    spender: destinationSettler,
    amount: order.data.outputAmount,
    what: 'approving the DestinationSettler',
  })
  const fillerData = repayTo ? encodeAbiParameters([{ type: 'address' }], [repayTo]) : '0x'
  const filled = await submitContractWrite(destination, 'fill', {
    address: destinationSettler,
    abi: destinationSettlerAbi,
    functionName: 'fill',
    args: [orderId, originData, fillerData],
  })
  return withMessageId(filled)
}

/** Closes an unfilled order after its fill deadline (anyone may), sending the origin its Refund. */
export async function refundIntent(
  manifest: Manifest,
  { orderId, originData }: { orderId: Hex; originData: Hex },
  account: Account,
): Promise<SettleTx> {
  const order = decodeOrder(originData)
  const destination = settlementChain(chainById(manifest, order.data.destinationChainId), account)
  const refunded = await submitContractWrite(destination, 'refund', {
    address: contractOn(destination.entry, 'DestinationSettler'),
    abi: destinationSettlerAbi,
    functionName: 'refund',
    args: [orderId, originData],
  })
  return withMessageId(refunded)
}

export type IntentState = {
  orderId: Hex
  origin: { chain: string; status: OriginStatus; user: Address; token: Address; amount: bigint }
  destination: { chain: string; status: DestinationStatus; solver: Address }
}

/** An order's state on both sides: escrowed/settled/refunded at the origin, filled/refunded at the destination. */
export async function readIntent(manifest: Manifest, originData: Hex): Promise<IntentState> {
  const order = decodeOrder(originData)
  const orderId = orderIdOf(originData)
  const origin = chainById(manifest, order.originChainId)
  const destination = chainById(manifest, order.data.destinationChainId)
  const [escrow, record] = await Promise.all([
    createReadClient(origin).readContract({
      address: order.originSettler,
      abi: originSettlerAbi,
      functionName: 'escrowOf',
      args: [orderId],
    }),
    createReadClient(destination).readContract({
      address: contractOn(destination, 'DestinationSettler'),
      abi: destinationSettlerAbi,
      functionName: 'recordOf',
      args: [orderId],
    }),
  ])
  return {
    orderId,
    origin: {
      chain: origin.name,
      status: ORIGIN_STATUS[escrow.status] ?? 'none',
      user: escrow.user,
      token: escrow.token,
      amount: escrow.amount,
    },
    destination: {
      chain: destination.name,
      status: DESTINATION_STATUS[record.status] ?? 'none',
      solver: record.solver,
    },
  }
}
