/**
 * Settlement test fixtures on a test devnet: a USDC swap between two parties (the DvP of the tests),
 * hop-by-hop message relaying, and USDC intents.
 */
import { type Account, type Address, parseUnits, type TransactionReceipt } from 'viem'
import { type LegSpec, legOn } from '../sdk/settlement/dvp.js'
import { type OpenIntentReturnType, openIntent } from '../sdk/settlement/intents.js'
import type { TestChain, TestDevnet } from './devnet.js'
import { balanceOf, deliverMessages, sentMessages } from './margin.js'

/**
 * Delivers every message `receipt`'s transaction sent from `source`, with committee proofs, one
 * delivery per destination chain; returns the delivery receipts.
 */
export async function relayAll(
  devnet: TestDevnet,
  source: TestChain,
  receipt: TransactionReceipt,
): Promise<TransactionReceipt[]> {
  const sent = sentMessages(source, receipt)
  const delivered: TransactionReceipt[] = []
  for (const dest of Object.values(devnet.chains)) {
    const messages = sent.filter((m) => m.message.destChainId === BigInt(dest.entry.chainId))
    if (messages.length)
      delivered.push((await deliverMessages(devnet, source.entry.name, dest.entry.name, messages)).receipt)
  }
  return delivered
}

export type UsdcSwapParameters = {
  /** Delivers `bankAmount` USDC on bank (leg A). */
  alice: Address
  /** Pays `hubAmount` USDC on the hub (leg B). */
  bob: Address
  bankAmount: bigint
  hubAmount: bigint
}

export type UsdcSwap = {
  legA: LegSpec
  legB: LegSpec
  /** Both parties' USDC on both chains. */
  balances(): Promise<{ aliceBank: bigint; bobBank: bigint; aliceHub: bigint; bobHub: bigint }>
}

/** A DvP of USDC on bank (Alice → Bob) against USDC on the hub (Bob → Alice). */
export function usdcSwap(hub: TestChain, bank: TestChain, p: UsdcSwapParameters): UsdcSwap {
  return {
    legA: legOn(bank.entry, {
      token: 'USDC',
      amount: p.bankAmount,
      depositor: p.alice,
      counterparty: p.bob,
    }),
    legB: legOn(hub.entry, { token: 'USDC', amount: p.hubAmount, depositor: p.bob, counterparty: p.alice }),
    balances: async () => ({
      aliceBank: await balanceOf(bank, 'USDC', p.alice),
      bobBank: await balanceOf(bank, 'USDC', p.bob),
      aliceHub: await balanceOf(hub, 'USDC', p.alice),
      bobHub: await balanceOf(hub, 'USDC', p.bob),
    }),
  }
}

/** The later of the chains' clocks, in unix seconds. */
export async function latestTimestamp(...chains: TestChain[]): Promise<number> {
  const blocks = await Promise.all(chains.map((c) => c.public.getBlock({ blockTag: 'latest' })))
  return Math.max(...blocks.map((b) => Number(b.timestamp)))
}

export type UsdcIntentParameters = {
  origin: string
  destination: string
  /** USDC, in units ('1000'). */
  input: string
  output: string
  recipient: Address
  user: Account
  /** Seconds from the later of both chains' clocks: ahead of the origin's (open), judged on the destination's. */
  deadlineIn?: number
}

/** Opens a USDC → USDC intent from `user`'s USDC on the origin (approving the settler if needed). */
export async function openUsdcIntent(
  devnet: TestDevnet,
  { origin, destination, input, output, recipient, user, deadlineIn = 600 }: UsdcIntentParameters,
): Promise<OpenIntentReturnType> {
  const now = await latestTimestamp(devnet.chain(origin), devnet.chain(destination))
  return openIntent(
    devnet.manifest,
    {
      origin,
      destination,
      inputAmount: parseUnits(input, 6),
      outputAmount: parseUnits(output, 6),
      recipient,
      fillDeadline: now + deadlineIn,
    },
    user,
  )
}
