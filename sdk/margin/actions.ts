import {
  type Account,
  type Address,
  ContractFunctionRevertedError,
  erc20Abi,
  type Hash,
  type Hex,
  maxUint256,
  parseEventLogs,
  parseUnits,
  type TransactionReceipt,
  BaseError as ViemBaseError,
} from 'viem'
import { burnMintERC20Abi } from '../abi/BurnMintERC20.js'
import { collateralVaultAbi } from '../abi/CollateralVault.js'
import { marginEngineAbi } from '../abi/MarginEngine.js'
import { outboxAbi } from '../abi/Outbox.js'
import { reserveBackedTokenAbi } from '../abi/ReserveBackedToken.js'
import { type ChainClients, createChainClients } from '../client.js'
import { type ChainEntry, chainByName, type Manifest } from '../manifest.js'
import { MarginError, marginChains, tokenAddress } from './account.js'

const TOKEN_ERRORS = burnMintERC20Abi.filter((item) => item.type === 'error')

/** USDC has 6 decimals on every chain. */
export const USDC_DECIMALS = 6

/** What a margin action left on chain: its transaction, gas, and the message it sent, if any. */
export type ActionResult = {
  chain: string
  tx: Hash
  gasUsed: bigint
  blockNumber: bigint
  messageId?: Hex
}

async function confirm(
  clients: ChainClients,
  chain: ChainEntry,
  hash: Hash,
  what: string,
): Promise<ActionResult> {
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new MarginError(`${what} on ${chain.name} reverted (tx ${hash})`)
  return {
    chain: chain.name,
    tx: hash,
    gasUsed: receipt.gasUsed,
    blockNumber: receipt.blockNumber,
    messageId: sentMessageId(receipt),
  }
}

function sentMessageId(receipt: TransactionReceipt): Hex | undefined {
  const [sent] = parseEventLogs({ abi: outboxAbi, eventName: 'MessageSent', logs: receipt.logs })
  return sent?.args.id
}

/** Simulates first so a refusal surfaces as the contract's own error, then sends and waits. */
async function write(
  clients: ChainClients,
  chain: ChainEntry,
  what: string,
  request: { address: Address; abi: readonly unknown[]; functionName: string; args: readonly unknown[] },
): Promise<ActionResult> {
  const { request: simulated } = await clients.public.simulateContract({
    ...request,
    // Token errors (e.g. ERC20InsufficientBalance) bubble up through the engine and vaults.
    abi: [...request.abi, ...TOKEN_ERRORS],
    account: clients.wallet.account,
  } as never)
  const hash = await clients.wallet.writeContract(simulated as never)
  return confirm(clients, chain, hash, what)
}

async function ensureAllowance(
  clients: ChainClients,
  chain: ChainEntry,
  token: Address,
  spender: Address,
  amount: bigint,
) {
  const owner = clients.wallet.account.address
  const allowance = await clients.public.readContract({
    address: token,
    abi: erc20Abi,
    functionName: 'allowance',
    args: [owner, spender],
  })
  if (allowance >= amount) return
  await write(clients, chain, 'approve', {
    address: token,
    abi: erc20Abi,
    functionName: 'approve',
    args: [spender, maxUint256],
  })
}

async function decimalsOf(clients: ChainClients, token: Address): Promise<number> {
  return clients.public.readContract({ address: token, abi: erc20Abi, functionName: 'decimals' })
}

/**
 * A reserve-backed token refused a faucet mint: its breaker is tripped or trips now (reserves
 * below supply), its reserve feed is stale or invalid, the mint would exceed the reserves, or the
 * recipient is not an allowlisted institution. `reason` is the token's error name
 * (`ReserveBreakerTripped` when the mint found the token short and tripped the breaker instead).
 */
export class MintRefusedError extends MarginError {
  override name = 'MintRefusedError'
  readonly reason: string

  constructor(
    symbol: string,
    chain: string,
    reason: string,
    options: { cause?: unknown; details?: string } = {},
  ) {
    super(`minting ${symbol} on ${chain} refused: ${reason}`, options)
    this.reason = reason
  }
}

/**
 * Devnet faucet: the deployer (every devnet token's minter) mints `amount` to `to`. A
 * reserve-backed token (`ReserveFeed.<symbol>` on the chain) mints only within its reserves: its
 * refusals — a revert, or a mint that returns false because it tripped the breaker — throw
 * {@link MintRefusedError}, and nothing is sent when the simulation already refuses.
 */
export async function faucet(
  manifest: Manifest,
  chainName: string,
  symbol: string,
  to: Address,
  amount: string,
  minter: Account,
): Promise<ActionResult> {
  const chain = chainByName(manifest, chainName)
  const clients = createChainClients(chain, minter)
  const token = tokenAddress(chain, symbol)
  const units = parseUnits(amount, await decimalsOf(clients, token))
  if (!chain.contracts[`ReserveFeed.${symbol}`])
    return write(clients, chain, `minting ${symbol}`, {
      address: token,
      abi: burnMintERC20Abi,
      functionName: 'mint',
      args: [to, units],
    })
  const refused = (reason: string, extra: { cause?: unknown; details?: string } = {}) =>
    new MintRefusedError(symbol, chain.name, reason, extra)
  let minted: boolean
  let request: unknown
  try {
    ;({ result: minted, request } = await clients.public.simulateContract({
      address: token,
      abi: reserveBackedTokenAbi,
      functionName: 'mint',
      args: [to, units],
      account: clients.wallet.account,
    }))
  } catch (error) {
    const reverted =
      error instanceof ViemBaseError
        ? error.walk((e) => e instanceof ContractFunctionRevertedError)
        : undefined
    if (!(reverted instanceof ContractFunctionRevertedError) || !reverted.data) throw error
    const args = reverted.data.args?.map(String).join(', ') ?? ''
    throw refused(`${reverted.data.errorName}(${args})`, { cause: error })
  }
  // false: the token found its supply already above the reserves; the mint would only trip the breaker.
  if (!minted)
    throw refused('ReserveBreakerTripped', {
      details: 'reserves are below the supply: the mint would trip the breaker',
    })
  const hash = await clients.wallet.writeContract(request as never)
  const result = await confirm(clients, chain, hash, `minting ${symbol}`)
  const receipt = await clients.public.getTransactionReceipt({ hash })
  const [tripped] = parseEventLogs({
    abi: reserveBackedTokenAbi,
    eventName: 'ReserveBreakerTripped',
    logs: receipt.logs,
  })
  if (tripped)
    throw refused('ReserveBreakerTripped', {
      details: `the mint tripped the breaker instead (supply ${tripped.args.supply}, reserves ${tripped.args.reserves}; tx ${hash}, block ${result.blockNumber})`,
    })
  return result
}

export type DepositOptions = {
  chain: string
  symbol: string
  amount: string
  /** The hub account credited (default: the sender). */
  account?: Address
  /** Deposit-and-borrow: borrow this much USDC once credited, delivered on `borrowChain` (default hub). */
  borrow?: string
  borrowChain?: string
  borrowRecipient?: Address
}

/** Locks collateral in the chain's vault; the hub credits it once the chain has made it final. */
export async function deposit(
  manifest: Manifest,
  user: Account,
  options: DepositOptions,
): Promise<ActionResult> {
  const { hub } = marginChains(manifest)
  const chain = chainByName(manifest, options.chain)
  if (chain.name === hub.name) throw new MarginError('deposits are made on a spoke chain, not on the hub')
  const vault = chain.contracts.CollateralVault as Address | undefined
  if (!vault) throw new MarginError(`${chain.name} has no CollateralVault`)
  const clients = createChainClients(chain, user)
  const token = tokenAddress(chain, options.symbol)
  const amount = parseUnits(options.amount, await decimalsOf(clients, token))
  if (amount <= 0n) throw new MarginError('the amount must be positive')
  await ensureAllowance(clients, chain, token, vault, amount)
  const account = options.account ?? user.address
  if (!options.borrow) {
    return write(clients, chain, 'deposit', {
      address: vault,
      abi: collateralVaultAbi,
      functionName: 'deposit',
      args: [token, amount, account],
    })
  }
  const borrowChain = chainByName(manifest, options.borrowChain ?? hub.name)
  return write(clients, chain, 'deposit-and-borrow', {
    address: vault,
    abi: collateralVaultAbi,
    functionName: 'depositAndBorrow',
    args: [
      token,
      amount,
      account,
      parseUnits(options.borrow, USDC_DECIMALS),
      BigInt(borrowChain.chainId),
      options.borrowRecipient ?? account,
    ],
  })
}

/** Borrows USDC on the hub, paid there or delivered to `to` (a chain name) by a token transfer. */
export async function borrow(
  manifest: Manifest,
  user: Account,
  options: { amount: string; to?: string; recipient?: Address },
): Promise<ActionResult> {
  const { hub, engine } = marginChains(manifest)
  const dest = chainByName(manifest, options.to ?? hub.name)
  return write(createChainClients(hub, user), hub, 'borrow', {
    address: engine,
    abi: marginEngineAbi,
    functionName: 'borrow',
    args: [
      parseUnits(options.amount, USDC_DECIMALS),
      BigInt(dest.chainId),
      options.recipient ?? user.address,
    ],
  })
}

/** Repays USDC debt on the hub (`amount` "max" repays all of it). */
export async function repay(
  manifest: Manifest,
  user: Account,
  options: { amount: string; account?: Address },
): Promise<ActionResult> {
  const { hub, engine } = marginChains(manifest)
  const clients = createChainClients(hub, user)
  const usdc = tokenAddress(hub, 'USDC')
  const amount = options.amount === 'max' ? maxUint256 : parseUnits(options.amount, USDC_DECIMALS)
  await ensureAllowance(clients, hub, usdc, engine, amount === maxUint256 ? maxUint256 : amount)
  return write(clients, hub, 'repay', {
    address: engine,
    abi: marginEngineAbi,
    functionName: 'repay',
    args: [amount, options.account ?? user.address],
  })
}

/** Withdraws collateral: the hub debits (and checks health), then the vault releases on its chain. */
export async function withdraw(
  manifest: Manifest,
  user: Account,
  options: { chain: string; symbol: string; amount: string; recipient?: Address },
): Promise<ActionResult> {
  const { hub, engine } = marginChains(manifest)
  const chain = chainByName(manifest, options.chain)
  const token = tokenAddress(chain, options.symbol)
  const decimals = await decimalsOf(createChainClients(chain, user), token)
  return write(createChainClients(hub, user), hub, 'withdraw', {
    address: engine,
    abi: marginEngineAbi,
    functionName: 'withdraw',
    args: [
      BigInt(chain.chainId),
      token,
      parseUnits(options.amount, decimals),
      options.recipient ?? user.address,
    ],
  })
}
