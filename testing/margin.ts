/**
 * Helpers for tests, benchmarks and scenarios of the margin stack on a test devnet: prices, faucet
 * tokens, deposits, and delivery of margin messages with real committee proofs.
 *
 * The devnet must have a `hub` chain, so that the deployment includes deploy/margin.ts (USDC on
 * every chain; collateral tokens and a CollateralVault on each spoke; a PriceFeed per asset and
 * the MarginEngine on the hub), e.g. `startTestDevnet({ chains: ['l1', 'hub', 'base', 'bank'] })`.
 * No service has to run:
 * - prices are reports of 2f+1 observations signed here with the devnet oracle keys (what the
 *   oracle nodes send), see {@link pushPrice};
 * - messages are delivered through the destination Inbox with a committee proof signed here with
 *   the devnet validator keys (what the relayer sends), see {@link deliverMessages}. The verifier
 *   checks signatures and inclusion only; waiting for source finality is the validators' job, so
 *   a message can be delivered the moment it is sent, whatever the chains' block times.
 *
 * Token amounts are bigints in the token's smallest unit ({@link tokenUnits} converts); `token`
 * arguments are manifest names on the chain in question ('WETH', 'wstETH', 'WBTC', 'USDC').
 */
import {
  type Account,
  type Address,
  type Hex,
  isAddress,
  isAddressEqual,
  type LocalAccount,
  maxUint256,
  parseEventLogs,
  parseUnits,
  type TransactionReceipt,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { HUB_CHAIN, MARGIN_ASSETS, priceFeedName } from '../deploy/margin.js'
import { burnMintERC20Abi } from '../sdk/abi/BurnMintERC20.js'
import { collateralVaultAbi } from '../sdk/abi/CollateralVault.js'
import { committeeVerifierAbi } from '../sdk/abi/CommitteeVerifier.js'
import { inboxAbi } from '../sdk/abi/Inbox.js'
import { outboxAbi } from '../sdk/abi/Outbox.js'
import { priceFeedAbi } from '../sdk/abi/PriceFeed.js'
import { BaseError } from '../sdk/errors.js'
import { verifierContractName } from '../sdk/manifest.js'
import { batchRoot } from '../sdk/messaging/batch.js'
import { committeeProofs, deliveryCalldata, laneBatchDigest } from '../sdk/messaging/delivery.js'
import { signBatch } from '../sdk/messaging/digest.js'
import { executionStateName } from '../sdk/messaging/executionState.js'
import { decodeMessage, type Message } from '../sdk/messaging/message.js'
import { sortSignaturesBySigner } from '../sdk/messaging/proof.js'
import { type Observation, signObservation, toReport } from '../sdk/oracles/observation.js'
import { type TestChain, type TestDevnet, timeTravel } from './devnet.js'
import { validatorAccounts } from './messaging.js'

export class MarginTestError extends BaseError {
  override name = 'MarginTestError'
}

// ---------------------------------------------------------------------------------------------
// Addresses, amounts, receipts
// ---------------------------------------------------------------------------------------------

/** The address of contract `name` on `chain`, as the manifest names it ('MarginEngine', 'WETH', 'PriceFeed.WBTC' …). */
export function contractAddress(chain: TestChain, name: string): Address {
  const address = chain.entry.contracts[name]
  if (!address) throw new MarginTestError(`no ${name} deployed on ${chain.entry.name}`)
  return address as Address
}

export const hubOf = (devnet: TestDevnet): TestChain => devnet.chain(HUB_CHAIN)

/** `value` of `token` in its smallest unit: `tokenUnits('WBTC', '0.5')` is 50,000,000. */
export function tokenUnits(token: string, value: number | string): bigint {
  const decimals = token === 'USDC' ? 6 : MARGIN_ASSETS.find((a) => a.symbol === token)?.decimals
  if (decimals === undefined) throw new MarginTestError(`unknown token ${token}`)
  return parseUnits(String(value), decimals)
}

/** Waits for a transaction and returns its receipt; a revert throws, naming `what` was attempted. */
export async function mined(chain: TestChain, hash: Hex, what: string): Promise<TransactionReceipt> {
  const receipt = await chain.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success')
    throw new MarginTestError(`${what} reverted on ${chain.entry.name}: ${hash}`)
  return receipt
}

// ---------------------------------------------------------------------------------------------
// Prices
// ---------------------------------------------------------------------------------------------

export type PushPriceOptions = {
  /** How many oracles observe (default 2f+1, the fewest a report may have; at most n). */
  observations?: number
  /** Pays for `transmit` (default: the deployer; anyone may transmit a report). */
  account?: Account
  /** Mine the block right after sending (for a test that stopped the chain's own mining). */
  mine?: boolean
  /** The feed's chain (default the hub): e.g. `bank` for `ReserveFeed.TBILL`. */
  chain?: string
}

export type PushedPrice = {
  receipt: TransactionReceipt
  roundId: bigint
  /** The feed's answer, in the feed's decimals. */
  answer: bigint
  /** The observation time the feed stored (its `updatedAt`). */
  updatedAt: bigint
}

/**
 * A report for the feed at `feed` on `chain` (default the hub): `count` observations (default 2f+1)
 * of `answer` at `observedAt`, signed with the devnet oracle keys of the manifest, ordered as the
 * feed requires.
 */
export async function signedReport(
  devnet: TestDevnet,
  feed: Address,
  answer: bigint,
  observedAt: number,
  count?: number,
  chain: TestChain = hubOf(devnet),
): Promise<Observation[]> {
  const oracles = devnet.manifest.oracles
  if (!oracles) throw new MarginTestError('the devnet manifest has no oracle nodes')
  const nodes = oracles.nodes.map((n) => {
    if (!n.privateKey) throw new MarginTestError(`oracle ${n.address} has no key in the manifest`)
    return privateKeyToAccount(n.privateKey as Hex)
  })
  const wanted = count ?? 2 * oracles.faulty + 1
  if (wanted > nodes.length)
    throw new MarginTestError(`${wanted} observations asked of ${nodes.length} oracles`)
  const chainId = chain.entry.chainId
  const signed = await Promise.all(
    nodes.slice(0, wanted).map((node) => signObservation(node, chainId, feed, answer, observedAt)),
  )
  return toReport(signed)
}

/**
 * Moves a PriceFeed (on the hub unless `options.chain` says otherwise) to `price`: a report of 2f+1 observations (all of that value) signed with
 * the devnet oracle keys, observed at the latest block's time, sent with `transmit`. A feed that was
 * already updated at that second needs a newer observation: the chain's clock is moved one second
 * past the feed's `updatedAt` first (anvil's `evm_increaseTime`).
 * @param feed the asset's symbol ('WETH'), a contract name ('ReserveFeed.TBILL') or the feed's address
 * @param price in USD (number or decimal string, converted with the feed's decimals), or the raw
 * answer as a bigint
 */
export async function pushPrice(
  devnet: TestDevnet,
  feed: string,
  price: number | string | bigint,
  options: PushPriceOptions = {},
): Promise<PushedPrice> {
  const hub = options.chain ? devnet.chain(options.chain) : hubOf(devnet)
  const address = isAddress(feed)
    ? feed
    : contractAddress(hub, feed.includes('.') ? feed : priceFeedName(feed))
  const read = <F extends 'decimals' | 'latestRound'>(functionName: F) =>
    hub.public.readContract({ address, abi: priceFeedAbi, functionName })
  const decimals = await read('decimals')
  const answer = typeof price === 'bigint' ? price : parseUnits(String(price), decimals)

  const latestRound = await read('latestRound')
  const lastUpdate =
    latestRound === 0n
      ? 0n
      : (
          await hub.public.readContract({
            address,
            abi: priceFeedAbi,
            functionName: 'getRoundData',
            args: [latestRound],
          })
        )[3]
  let now = (await hub.public.getBlock({ blockTag: 'latest' })).timestamp
  if (now <= lastUpdate) {
    await timeTravel(hub, Number(lastUpdate - now) + 1)
    now = (await hub.public.getBlock({ blockTag: 'latest' })).timestamp
  }
  const report = await signedReport(devnet, address, answer, Number(now), options.observations, hub)
  const hash = await hub.wallet.writeContract({
    address,
    abi: priceFeedAbi,
    functionName: 'transmit',
    args: [report],
    ...(options.account ? { account: options.account } : {}),
  })
  if (options.mine) await hub.test.mine({ blocks: 1 })
  const receipt = await mined(hub, hash, `transmit to ${feed}`)
  const [event] = parseEventLogs({ abi: priceFeedAbi, eventName: 'AnswerUpdated', logs: receipt.logs })
  if (!event) throw new MarginTestError(`transmit to ${feed} stored no round`)
  return { receipt, roundId: event.args.roundId, answer: event.args.current, updatedAt: event.args.updatedAt }
}

// ---------------------------------------------------------------------------------------------
// Tokens and deposits
// ---------------------------------------------------------------------------------------------

/** Mints `amount` of `token` on `chain` to `to`: the deployer is the minter of every devnet token (the faucet). */
export async function faucet(chain: TestChain, token: string, to: Address, amount: bigint): Promise<void> {
  const hash = await chain.wallet.writeContract({
    address: contractAddress(chain, token),
    abi: burnMintERC20Abi,
    functionName: 'mint',
    args: [to, amount],
  })
  await mined(chain, hash, `minting ${token}`)
}

/** Lets `spender` take any amount of `account`'s `token` (once per pair is enough). */
export async function approveMax(
  chain: TestChain,
  account: Account,
  token: string,
  spender: Address,
): Promise<void> {
  const hash = await chain.wallet.writeContract({
    account,
    address: contractAddress(chain, token),
    abi: burnMintERC20Abi,
    functionName: 'approve',
    args: [spender, maxUint256],
  })
  await mined(chain, hash, `approving ${token}`)
}

export function balanceOf(chain: TestChain, token: string, owner: Address): Promise<bigint> {
  return chain.public.readContract({
    address: contractAddress(chain, token),
    abi: burnMintERC20Abi,
    functionName: 'balanceOf',
    args: [owner],
  })
}

/** A message an Outbox emitted, ready for {@link deliverMessages}. */
export type OutgoingMessage = {
  id: Hex
  nonce: bigint
  /** Its leaf in the source Outbox's tree. */
  leafIndex: bigint
  /** The full encoding, as the Inbox takes it. */
  encoded: Hex
  message: Message
}

/** Every message `receipt`'s transaction sent through `chain`'s Outbox, in log order. */
export function sentMessages(chain: TestChain, receipt: TransactionReceipt): OutgoingMessage[] {
  const outbox = contractAddress(chain, 'Outbox')
  return parseEventLogs({
    abi: outboxAbi,
    eventName: 'MessageSent',
    logs: receipt.logs.filter((log) => isAddressEqual(log.address, outbox)),
  }).map(({ args }) => ({
    id: args.id,
    nonce: args.nonce,
    leafIndex: args.leafIndex,
    encoded: args.message,
    message: decodeMessage(args.message),
  }))
}

/** The one message `receipt`'s transaction sent; throws when it sent none or several. */
export function sentMessage(chain: TestChain, receipt: TransactionReceipt): OutgoingMessage {
  const sent = sentMessages(chain, receipt)
  if (sent.length !== 1)
    throw new MarginTestError(`${receipt.transactionHash} sent ${sent.length} messages, expected one`)
  return sent[0]!
}

export type DepositRequest = {
  /** Who deposits (pays the tokens and the gas). */
  account: LocalAccount
  /** The collateral token's manifest name on the spoke ('WETH', 'wstETH', 'WBTC'). */
  token: string
  amount: bigint
  /** The hub account credited (default: `account`). */
  onBehalfOf?: Address
  /** Makes it `depositAndBorrow`: once credited, the hub borrows this for the account. */
  borrow?: { amount: bigint; chainId: bigint; recipient: Address }
}

export type Deposit = {
  receipt: TransactionReceipt
  /** The Credit message to the hub's MarginEngine. */
  message: OutgoingMessage
}

/**
 * Locks collateral in the spoke's CollateralVault (`deposit`, or `depositAndBorrow` with `borrow`).
 * The depositor must hold the tokens and have approved the vault: see {@link fundAndDeposit}.
 */
export async function deposit(spoke: TestChain, request: DepositRequest): Promise<Deposit> {
  const { account, token, amount, borrow } = request
  const vault = contractAddress(spoke, 'CollateralVault')
  const tokenAddress = contractAddress(spoke, token)
  const onBehalfOf = request.onBehalfOf ?? account.address
  const hash = borrow
    ? await spoke.wallet.writeContract({
        account,
        address: vault,
        abi: collateralVaultAbi,
        functionName: 'depositAndBorrow',
        args: [tokenAddress, amount, onBehalfOf, borrow.amount, borrow.chainId, borrow.recipient],
      })
    : await spoke.wallet.writeContract({
        account,
        address: vault,
        abi: collateralVaultAbi,
        functionName: 'deposit',
        args: [tokenAddress, amount, onBehalfOf],
      })
  const receipt = await mined(spoke, hash, `depositing ${token}`)
  return { receipt, message: sentMessage(spoke, receipt) }
}

/**
 * Faucet, approval and deposit in one: mints `mint` (default: `amount`) of the token to the
 * depositor, approves the vault when its allowance is short, and deposits `amount`.
 */
export async function fundAndDeposit(
  spoke: TestChain,
  request: DepositRequest & { mint?: bigint },
): Promise<Deposit> {
  const { account, token, amount } = request
  await faucet(spoke, token, account.address, request.mint ?? amount)
  const vault = contractAddress(spoke, 'CollateralVault')
  const allowance = await spoke.public.readContract({
    address: contractAddress(spoke, token),
    abi: burnMintERC20Abi,
    functionName: 'allowance',
    args: [account.address, vault],
  })
  if (allowance < amount) await approveMax(spoke, account, token, vault)
  return deposit(spoke, request)
}

// ---------------------------------------------------------------------------------------------
// Delivery with committee proofs
// ---------------------------------------------------------------------------------------------

export type DeliveryOptions = {
  /** The validators who sign the batch (default: the first `threshold` of the devnet committee). */
  signers?: readonly LocalAccount[]
  /** Sends the Inbox transaction (default: the deployer; anyone may, the relayer does in production). */
  account?: Account
  /**
   * Gas for the Inbox transaction (default 2,000,000: above any margin message's gas limit plus the
   * Inbox's own reserve, which it insists on before it calls a receiver).
   */
  gas?: bigint
  /** Return messages that ended in FAILURE instead of throwing (tests of refused messages). */
  allowFailure?: boolean
}

export type Delivered = {
  receipt: TransactionReceipt
  /** Each message's execution state after the transaction ('success' or 'failure'), in the order given. */
  states: ReturnType<typeof executionStateName>[]
}

/**
 * Delivers `messages`, all sent from `source` to `dest`, in one Inbox transaction: a batch over
 * their ids signed by `threshold` devnet validators for the verifier's latest epoch (`execute` for
 * one message, `executeBatch` for more), exactly as the relayer builds it. A message whose
 * receiver reverted ends in FAILURE on chain; that throws unless `allowFailure`.
 */
export async function deliverMessages(
  devnet: TestDevnet,
  source: string,
  dest: string,
  messages: readonly OutgoingMessage[],
  options: DeliveryOptions = {},
): Promise<Delivered> {
  if (!messages.length) throw new MarginTestError('nothing to deliver')
  const from = devnet.chain(source)
  const to = devnet.chain(dest)
  for (const { message, id } of messages) {
    if (
      message.sourceChainId !== BigInt(from.entry.chainId) ||
      message.destChainId !== BigInt(to.entry.chainId)
    )
      throw new MarginTestError(`message ${id} is not on the lane ${source} → ${dest}`)
  }
  const threshold = devnet.manifest.messaging?.threshold
  if (!threshold) throw new MarginTestError('the devnet manifest has no validator committee')
  const signers = options.signers ?? validatorAccounts(devnet).slice(0, threshold)
  const epoch = await to.public.readContract({
    address: contractAddress(to, verifierContractName(source)),
    abi: committeeVerifierAbi,
    functionName: 'latestEpoch',
  })
  const ids = messages.map((m) => m.id)
  const digest = laneBatchDigest(from.entry, to.entry, {
    epoch,
    root: batchRoot(ids),
    leafCount: ids.length,
  })
  const signatures = await sortSignaturesBySigner(
    digest,
    await Promise.all(signers.map((s) => signBatch(s, digest))),
  )
  const hash = await to.wallet.sendTransaction({
    to: contractAddress(to, 'Inbox'),
    data: deliveryCalldata(
      messages.map((m) => m.encoded),
      committeeProofs(ids, epoch, signatures),
    ),
    gas: options.gas ?? 2_000_000n,
    ...(options.account ? { account: options.account } : {}),
  })
  const receipt = await mined(to, hash, `delivering ${ids.length} message(s) from ${source}`)
  const inbox = contractAddress(to, 'Inbox')
  const executed = parseEventLogs({
    abi: inboxAbi,
    eventName: 'ExecutionStateChanged',
    logs: receipt.logs.filter((log) => isAddressEqual(log.address, inbox)),
  })
  const events = new Map(executed.map(({ args }) => [args.messageId, args]))
  const states = ids.map((id) => {
    const event = events.get(id)
    if (!event) throw new MarginTestError(`message ${id} was not executed (already executed?)`)
    return executionStateName(event.state)
  })
  const failed = states.findIndex((state) => state !== 'success')
  if (failed >= 0 && !options.allowFailure)
    throw new MarginTestError(`message ${ids[failed]} from ${source} ended ${states[failed]} on ${dest}`, {
      details: `transaction ${hash}, receiver's revert data ${events.get(ids[failed]!)?.returnData}`,
    })
  return { receipt, states }
}

/** Delivers messages from a spoke (credits) to the hub's MarginEngine: {@link deliverMessages}. */
export function deliverOnHub(
  devnet: TestDevnet,
  spoke: string,
  messages: OutgoingMessage | readonly OutgoingMessage[],
  options?: DeliveryOptions,
): Promise<Delivered> {
  return deliverMessages(devnet, spoke, HUB_CHAIN, asList(messages), options)
}

/** Delivers messages from the hub (releases, borrowed USDC) to a spoke: {@link deliverMessages}. */
export function deliverOnSpoke(
  devnet: TestDevnet,
  spoke: string,
  messages: OutgoingMessage | readonly OutgoingMessage[],
  options?: DeliveryOptions,
): Promise<Delivered> {
  return deliverMessages(devnet, HUB_CHAIN, spoke, asList(messages), options)
}

const asList = (messages: OutgoingMessage | readonly OutgoingMessage[]): readonly OutgoingMessage[] =>
  'encoded' in messages ? [messages] : messages
