/**
 * The transaction plumbing of every settlement action (DvP, repos, intents): which chain and contract
 * to act on, and one way to write — simulated first, so a refusal surfaces as the contract's own error
 * (decoded, with its values) before any transaction is sent; gas with headroom; the receipt checked;
 * the messages the transaction sent through the chain's Outbox collected.
 */
import {
  type Abi,
  type Account,
  type Address,
  type ContractFunctionArgs,
  type ContractFunctionName,
  ContractFunctionRevertedError,
  decodeErrorResult,
  erc20Abi,
  type Hash,
  type Hex,
  isAddress,
  isAddressEqual,
  maxUint256,
  parseEventLogs,
  type TransactionReceipt,
  BaseError as ViemBaseError,
} from 'viem'
import { burnMintERC20Abi } from '../abi/BurnMintERC20.js'
import { destinationSettlerAbi } from '../abi/DestinationSettler.js'
import { dvPCoordinatorAbi } from '../abi/DvPCoordinator.js'
import { originSettlerAbi } from '../abi/OriginSettler.js'
import { outboxAbi } from '../abi/Outbox.js'
import { repoDeskAbi } from '../abi/RepoDesk.js'
import { reserveBackedTokenAbi } from '../abi/ReserveBackedToken.js'
import { settlementEscrowAbi } from '../abi/SettlementEscrow.js'
import { type ChainClients, createChainClients } from '../client.js'
import { BaseError } from '../errors.js'
import type { ChainEntry, Manifest } from '../manifest.js'

export class SettlementError extends BaseError {
  override name = 'SettlementError'
}

// ---------------------------------------------------------------------------------------------
// Chains and contracts
// ---------------------------------------------------------------------------------------------

/** A chain to act on: its manifest entry and clients. Writes are paid by `account`, else the wallet's. */
export type SettlementChain = ChainClients & { entry: ChainEntry }
/** A chain to read from. */
export type SettlementReader = Pick<SettlementChain, 'entry' | 'public'>

export function settlementChain(entry: ChainEntry, account: Account): SettlementChain {
  return { ...createChainClients(entry, account), entry }
}

/** A manifest chain by chain id. */
export function chainById(manifest: Manifest, chainId: bigint | number): ChainEntry {
  const chain = manifest.chains.find((c) => BigInt(c.chainId) === BigInt(chainId))
  if (!chain) throw new SettlementError(`chain ${chainId} is not in the manifest`)
  return chain
}

/** Contract `name` on `entry` ('DvPCoordinator', 'SettlementEscrow', 'USDC' …), or a clear error. */
export function contractOn(entry: ChainEntry, name: string): Address {
  const address = entry.contracts[name]
  if (!address) throw new SettlementError(`no ${name} deployed on ${entry.name}`)
  return address as Address
}

/** A token given as an address or as its manifest name on `entry`. */
export function tokenOn(entry: ChainEntry, token: Address | string): Address {
  return isAddress(token) ? token : contractOn(entry, token)
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/** Every error a settlement call can bubble up: the contracts' own and the tokens'. */
const KNOWN_ERRORS: Abi = [
  ...settlementEscrowAbi,
  ...dvPCoordinatorAbi,
  ...repoDeskAbi,
  ...originSettlerAbi,
  ...destinationSettlerAbi,
  ...reserveBackedTokenAbi,
  ...burnMintERC20Abi,
].filter((item) => item.type === 'error')

export type Revert = { name: string; args: readonly unknown[] }

/** The custom error a call reverted with (decoded against every settlement contract and token), if any. */
export function revertOf(error: unknown): Revert | undefined {
  // Our own errors keep viem's as their cause.
  if (error instanceof BaseError) return revertOf(error.cause)
  if (!(error instanceof ViemBaseError)) return undefined
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError)
  if (!(reverted instanceof ContractFunctionRevertedError)) return undefined
  if (reverted.data) return { name: reverted.data.errorName, args: reverted.data.args ?? [] }
  if (!reverted.raw) return undefined
  try {
    const decoded = decodeErrorResult({ abi: KNOWN_ERRORS, data: reverted.raw })
    return { name: decoded.errorName, args: decoded.args ?? [] }
  } catch {
    return { name: `unknown error ${reverted.raw.slice(0, 10)}`, args: [] }
  }
}

export const formatRevert = ({ name, args }: Revert) =>
  `${name}(${args.map((a) => (typeof a === 'bigint' ? a.toString() : String(a))).join(', ')})`

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

/** What a settlement action left on chain. */
export type SettlementTx = {
  chain: string
  tx: Hash
  gasUsed: bigint
  blockNumber: bigint
  receipt: TransactionReceipt
  /** Every message the transaction sent through the chain's Outbox, in log order. */
  messageIds: Hex[]
}

/**
 * Gas for a settlement write: the estimate plus headroom. A message send costs more when other sends
 * reach the same Outbox first (its Merkle tree writes more levels at some leaf indexes), so an
 * estimate taken one block earlier can run out of gas.
 */
export const gasWithHeadroom = (estimate: bigint) => (estimate * 13n) / 10n + 30_000n

/**
 * Sends `send()`'s transaction, waits for it, and names `what` in any refusal (the contract's error,
 * decoded) or revert; returns the receipt and the messages the transaction sent. For a contract call,
 * {@link submitContractWrite} simulates and sizes the gas too.
 */
export async function submitWrite(
  chain: SettlementChain,
  what: string,
  send: () => Promise<Hash>,
): Promise<SettlementTx> {
  let hash: Hash
  try {
    hash = await send()
  } catch (cause) {
    const revert = revertOf(cause)
    if (!revert) throw cause
    throw new SettlementError(`${what} refused on ${chain.entry.name}: ${formatRevert(revert)}`, { cause })
  }
  const receipt = await chain.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') {
    const { gas } = await chain.public.getTransaction({ hash })
    throw new SettlementError(`${what} reverted on ${chain.entry.name}: ${hash}`, {
      details: `gas used ${receipt.gasUsed} of ${gas}`,
    })
  }
  return {
    chain: chain.entry.name,
    tx: hash,
    gasUsed: receipt.gasUsed,
    blockNumber: receipt.blockNumber,
    receipt,
    messageIds: outboxMessageIds(chain.entry, receipt),
  }
}

function outboxMessageIds(entry: ChainEntry, receipt: TransactionReceipt): Hex[] {
  const outbox = entry.contracts.Outbox as Address | undefined
  if (!outbox) return []
  return parseEventLogs({
    abi: outboxAbi,
    eventName: 'MessageSent',
    logs: receipt.logs.filter((log) => isAddressEqual(log.address, outbox)),
  }).map((log) => log.args.id)
}

type WriteMutability = 'nonpayable' | 'payable'

/** A contract call to write, typed by its ABI; `account` pays (default: the chain wallet's). */
export type ContractWrite<
  abi extends Abi,
  functionName extends ContractFunctionName<abi, WriteMutability>,
> = {
  address: Address
  abi: abi
  functionName: functionName
  args: ContractFunctionArgs<abi, WriteMutability, functionName>
  account?: Account
}

/**
 * Simulates the call (a refusal throws the contract's own error, naming `what`), then writes it with
 * {@link gasWithHeadroom} and waits for a successful receipt.
 */
export function submitContractWrite<
  const abi extends Abi,
  functionName extends ContractFunctionName<abi, WriteMutability>,
>(
  chain: SettlementChain,
  what: string,
  { account, ...call }: ContractWrite<abi, functionName>,
): Promise<SettlementTx> {
  // Typed for the caller by its ABI; viem's generics do not follow through a generic body.
  const untyped = call as unknown as {
    address: Address
    abi: Abi
    functionName: string
    args: readonly unknown[]
  }
  return submitWrite(chain, what, async () => {
    const { request } = await chain.public.simulateContract({
      ...untyped,
      account: account ?? chain.wallet.account,
    })
    const gas = gasWithHeadroom(await chain.public.estimateContractGas(request))
    return chain.wallet.writeContract({ ...request, gas })
  })
}

export type EnsureAllowanceParameters = {
  token: Address
  spender: Address
  amount: bigint
  /** The token holder (default: the chain wallet's account). */
  account?: Account
  /** Names the approval in a refusal or revert. */
  what: string
}

/** Approves `spender` for good when the holder's allowance is below `amount`; returns the approval, if any. */
export async function ensureAllowance(
  chain: SettlementChain,
  { token, spender, amount, account, what }: EnsureAllowanceParameters,
): Promise<SettlementTx | undefined> {
  const owner = account ?? chain.wallet.account
  const allowance = await chain.public.readContract({
    address: token,
    abi: erc20Abi,
    functionName: 'allowance',
    args: [owner.address, spender],
  })
  if (allowance >= amount) return undefined
  return submitContractWrite(chain, what, {
    address: token,
    abi: erc20Abi,
    functionName: 'approve',
    args: [spender, maxUint256],
    account: owner,
  })
}
