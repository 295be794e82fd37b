/**
 * Cross-chain delivery versus payment (docs/settlement.md): typed actions on the hub's DvPCoordinator
 * and the SettlementEscrow of every chain. Each action is a plain function `(chain, params)`; writes
 * go through ./tx.ts, simulated first, so a refusal surfaces as the contract's own error (decoded,
 * with its values) before any transaction is sent.
 */
import {
  type Account,
  type Address,
  encodeAbiParameters,
  type Hash,
  type Hex,
  isAddressEqual,
  keccak256,
  parseEventLogs,
} from 'viem'
import { dvPCoordinatorAbi } from '../abi/DvPCoordinator.js'
import { settlementEscrowAbi } from '../abi/SettlementEscrow.js'
import type { ChainEntry } from '../manifest.js'
import {
  contractOn,
  ensureAllowance,
  type SettlementChain,
  SettlementError,
  type SettlementReader,
  type SettlementTx,
  submitContractWrite,
  tokenOn,
} from './tx.js'

/** One leg of a deal as the parties agreed it (the coordinator's `LegSpec`). */
export type LegSpec = {
  chainId: bigint
  escrow: Address
  token: Address
  amount: bigint
  depositor: Address
  counterparty: Address
}

export const DEAL_STATUSES = ['None', 'Open', 'Settled', 'Aborted'] as const
export type DealStatus = (typeof DEAL_STATUSES)[number]
export const LEG_STATES = ['None', 'Escrowed', 'Settled', 'Refunded', 'Aborted'] as const
export type LegState = (typeof LEG_STATES)[number]

export type Deal = {
  legA: LegSpec
  legB: LegSpec
  deadline: bigint
  status: DealStatus
  legAReported: boolean
  legBReported: boolean
}

/** A leg as an escrow holds it. */
export type EscrowLeg = {
  token: Address
  deadline: bigint
  state: LegState
  counterparty: Address
  amount: bigint
}

// ---------------------------------------------------------------------------------------------
// Addresses, legs and deal ids
// ---------------------------------------------------------------------------------------------

/** The leg `depositor` escrows on `entry`'s SettlementEscrow; `token` is an address or a manifest name. */
export function legOn(
  entry: ChainEntry,
  leg: { token: Address | string; amount: bigint; depositor: Address; counterparty: Address },
): LegSpec {
  return {
    chainId: BigInt(entry.chainId),
    escrow: contractOn(entry, 'SettlementEscrow'),
    token: tokenOn(entry, leg.token),
    amount: leg.amount,
    depositor: leg.depositor,
    counterparty: leg.counterparty,
  }
}

const LEG_TUPLE = {
  type: 'tuple',
  components: [
    { name: 'chainId', type: 'uint64' },
    { name: 'escrow', type: 'address' },
    { name: 'token', type: 'address' },
    { name: 'amount', type: 'uint256' },
    { name: 'depositor', type: 'address' },
    { name: 'counterparty', type: 'address' },
  ],
} as const

/** `DvPCoordinator.dealIdOf`, computed here: keccak256(hub chain id, coordinator, legA, legB, deadline). */
export function dealIdOf(hub: ChainEntry, legA: LegSpec, legB: LegSpec, deadline: bigint): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'uint256' }, { type: 'address' }, LEG_TUPLE, LEG_TUPLE, { type: 'uint64' }],
      [BigInt(hub.chainId), contractOn(hub, 'DvPCoordinator'), legA, legB, deadline],
    ),
  )
}

const KIND_LEG_ESCROWED = 1
const KIND_DECISION = 2

/** A coordinator Decision payload (SettlementMessages.encodeDecision). */
export function encodeDecision(decision: { dealId: Hex; depositor: Address; settle: boolean }): Hex {
  return encodeAbiParameters(
    [
      { type: 'uint8' },
      {
        type: 'tuple',
        components: [
          { name: 'dealId', type: 'bytes32' },
          { name: 'depositor', type: 'address' },
          { name: 'settle', type: 'bool' },
        ],
      },
    ],
    [KIND_DECISION, decision],
  )
}

/** An escrow's LegEscrowed payload (SettlementMessages.encodeLegEscrowed). */
export function encodeLegEscrowed(leg: {
  dealId: Hex
  token: Address
  amount: bigint
  depositor: Address
  counterparty: Address
  deadline: bigint
}): Hex {
  return encodeAbiParameters(
    [
      { type: 'uint8' },
      {
        type: 'tuple',
        components: [
          { name: 'dealId', type: 'bytes32' },
          { name: 'token', type: 'address' },
          { name: 'amount', type: 'uint256' },
          { name: 'depositor', type: 'address' },
          { name: 'counterparty', type: 'address' },
          { name: 'deadline', type: 'uint64' },
        ],
      },
    ],
    [KIND_LEG_ESCROWED, leg],
  )
}

// ---------------------------------------------------------------------------------------------
// Actions
// ---------------------------------------------------------------------------------------------

export type OpenDealParameters = { legA: LegSpec; legB: LegSpec; deadline: bigint; account?: Account }

/** Opens the deal with these terms on the hub's coordinator (anyone may: the id commits to the terms). */
export async function openDeal(
  hub: SettlementChain,
  { legA, legB, deadline, account }: OpenDealParameters,
): Promise<SettlementTx & { dealId: Hex }> {
  const dealId = dealIdOf(hub.entry, legA, legB, deadline)
  const sent = await submitContractWrite(hub, `opening deal ${dealId}`, {
    address: contractOn(hub.entry, 'DvPCoordinator'),
    abi: dvPCoordinatorAbi,
    functionName: 'openDeal',
    args: [dealId, legA, legB, deadline],
    account,
  })
  return { ...sent, dealId }
}

export type EscrowLegParameters = { dealId: Hex; leg: LegSpec; deadline: bigint; account?: Account }

/**
 * Locks the depositor's leg in the escrow on `chain` (approving the escrow first if the allowance is
 * short). The account must be the leg's depositor: the escrow keys the leg by `msg.sender`.
 * @returns the escrow transaction and the id of the LegEscrowed report to the coordinator
 */
export async function escrowLeg(
  chain: SettlementChain,
  { dealId, leg, deadline, account }: EscrowLegParameters,
): Promise<SettlementTx & { messageId: Hex }> {
  const from = account ?? chain.wallet.account
  if (BigInt(chain.entry.chainId) !== leg.chainId)
    throw new SettlementError(`the leg is on chain ${leg.chainId}, not on ${chain.entry.name}`)
  if (!isAddressEqual(from.address, leg.depositor))
    throw new SettlementError(`${from.address} is not the leg's depositor ${leg.depositor}`)
  await ensureAllowance(chain, {
    token: leg.token,
    spender: leg.escrow,
    amount: leg.amount,
    account: from,
    what: 'approving the escrow',
  })
  const sent = await submitContractWrite(chain, `escrowing a leg of deal ${dealId}`, {
    address: leg.escrow,
    abi: settlementEscrowAbi,
    functionName: 'escrow',
    args: [dealId, leg.token, leg.amount, leg.counterparty, deadline],
    account: from,
  })
  const [escrowed] = parseEventLogs({
    abi: settlementEscrowAbi,
    eventName: 'LegEscrowed',
    logs: sent.receipt.logs,
  })
  if (!escrowed) throw new SettlementError(`escrow transaction ${sent.tx} emitted no LegEscrowed`)
  return { ...sent, messageId: escrowed.args.messageId }
}

/** Makes the coordinator decide ABORT for an open deal past its deadline (anyone may). */
export function abortExpired(
  hub: SettlementChain,
  { dealId, account }: { dealId: Hex; account?: Account },
): Promise<SettlementTx> {
  return submitContractWrite(hub, `aborting deal ${dealId}`, {
    address: contractOn(hub.entry, 'DvPCoordinator'),
    abi: dvPCoordinatorAbi,
    functionName: 'abortExpired',
    args: [dealId],
    account,
  })
}

// ---------------------------------------------------------------------------------------------
// Reads and waits
// ---------------------------------------------------------------------------------------------

export async function readDeal(hub: SettlementReader, dealId: Hex): Promise<Deal> {
  const deal = await hub.public.readContract({
    address: contractOn(hub.entry, 'DvPCoordinator'),
    abi: dvPCoordinatorAbi,
    functionName: 'dealOf',
    args: [dealId],
  })
  return { ...deal, status: DEAL_STATUSES[deal.status]! }
}

/** The leg `depositor` holds (or held) for `dealId` in `chain`'s escrow. */
export async function readLeg(chain: SettlementReader, dealId: Hex, depositor: Address): Promise<EscrowLeg> {
  const leg = await chain.public.readContract({
    address: contractOn(chain.entry, 'SettlementEscrow'),
    abi: settlementEscrowAbi,
    functionName: 'legOf',
    args: [dealId, depositor],
  })
  return { ...leg, state: LEG_STATES[leg.state]! }
}

export type WaitOptions = {
  timeoutMs: number
  /** Where to look for the outcome's event (default: the chain's deployment block). */
  fromBlock?: bigint
}

/** Where an outcome happened: its transaction, gas and block. */
export type OutcomeRecord = { chain: string; tx: Hash; gasUsed: bigint; blockNumber: bigint }

export type Decision = OutcomeRecord & { settle: boolean; messageA: Hex; messageB: Hex }

/** Waits until the coordinator decided `dealId` and returns the decision with its transaction. */
export async function waitForDecision(
  hub: SettlementReader,
  dealId: Hex,
  options: WaitOptions,
): Promise<Decision> {
  await poll(hub, `the coordinator's decision on deal ${dealId}`, options.timeoutMs, async () => {
    const { status } = await readDeal(hub, dealId)
    return status === 'Settled' || status === 'Aborted' ? status : undefined
  })
  const [log] = await hub.public.getContractEvents({
    address: contractOn(hub.entry, 'DvPCoordinator'),
    abi: dvPCoordinatorAbi,
    eventName: 'DealDecided',
    args: { dealId },
    fromBlock: fromBlockOf(hub, options),
    strict: true,
  })
  if (!log) throw new SettlementError(`deal ${dealId} is decided but no DealDecided event was found`)
  const { settle, messageA, messageB } = log.args
  return { ...(await recordOf(hub, log.transactionHash, log.blockNumber)), settle, messageA, messageB }
}

export type LegOutcome = OutcomeRecord & {
  /** Settled: paid to the counterparty; Refunded: back to the depositor; Aborted: never escrowed. */
  outcome: 'Settled' | 'Refunded' | 'Aborted'
  /** The decision message the escrow executed. */
  messageId: Hex
}

const OUTCOME_EVENTS = {
  Settled: 'LegSettled',
  Refunded: 'LegRefunded',
  Aborted: 'LegAbortRecorded',
} as const

/** Waits until the escrow on `chain` executed a decision for `depositor`'s leg of `dealId`. */
export async function waitForLegOutcome(
  chain: SettlementReader,
  dealId: Hex,
  depositor: Address,
  options: WaitOptions,
): Promise<LegOutcome> {
  const outcome = await poll(
    chain,
    `the outcome of ${depositor}'s leg of deal ${dealId}`,
    options.timeoutMs,
    async () => {
      const { state } = await readLeg(chain, dealId, depositor)
      return state === 'Settled' || state === 'Refunded' || state === 'Aborted' ? state : undefined
    },
  )
  const [log] = await chain.public.getContractEvents({
    address: contractOn(chain.entry, 'SettlementEscrow'),
    abi: settlementEscrowAbi,
    eventName: OUTCOME_EVENTS[outcome],
    args: { dealId, depositor },
    fromBlock: fromBlockOf(chain, options),
    strict: true,
  })
  if (!log) throw new SettlementError(`leg of deal ${dealId} is ${outcome} but its event was not found`)
  return {
    ...(await recordOf(chain, log.transactionHash, log.blockNumber)),
    outcome,
    messageId: log.args.messageId,
  }
}

const fromBlockOf = (chain: SettlementReader, options: WaitOptions) =>
  options.fromBlock ?? BigInt(chain.entry.deployBlock ?? 0)

async function recordOf(chain: SettlementReader, tx: Hash, blockNumber: bigint): Promise<OutcomeRecord> {
  const receipt = await chain.public.getTransactionReceipt({ hash: tx })
  return { chain: chain.entry.name, tx, gasUsed: receipt.gasUsed, blockNumber }
}

/** Calls `check` every quarter block until it returns a value; a timeout names `what`. */
async function poll<T>(
  chain: SettlementReader,
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  const interval = Math.min(250, Math.max(25, Math.floor((chain.entry.blockTimeMs || 100) / 4)))
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() >= deadline)
      throw new SettlementError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`, {
        retryable: true,
      })
    await new Promise((resolve) => setTimeout(resolve, interval))
  }
}
