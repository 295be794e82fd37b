/** Helpers for tests of the messaging services against real local chains. */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Hex, type LocalAccount, parseEventLogs, stringToHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { devnetReceiverAbi } from '../sdk/abi/DevnetReceiver.js'
import { outboxAbi } from '../sdk/abi/Outbox.js'
import { createLogger } from '../services/core/logger.js'
import { type RunningValidator, startValidator } from '../services/validator/validator.js'
import type { TestChain, TestDevnet } from './devnet.js'

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `isthmus-${prefix}-`))

export const validatorAccounts = (devnet: TestDevnet): LocalAccount[] =>
  devnet.manifest.messaging!.validators.map((v) => privateKeyToAccount(v.privateKey as Hex))

/** Starts validator `i` of the devnet committee in this process, its state in `dir` (port 0: any free one). */
export function startTestValidator(
  devnet: TestDevnet,
  i: number,
  dir: string,
  port = 0,
): Promise<RunningValidator> {
  const account = validatorAccounts(devnet)[i]!
  return startValidator({
    manifest: devnet.manifest,
    account,
    dbPath: join(dir, `validator-${i}.db`),
    port,
    logger: createLogger(`validator-${i}`),
  })
}

export type Sent = { id: Hex; nonce: bigint; encoded: Hex; blockNumber: bigint; gasUsed: bigint }

export type SendOptions = {
  gasLimit?: number
  account?: LocalAccount
  /** Which of the destination's sink contracts receives it (default DevnetReceiver). */
  receiver?: 'DevnetReceiver' | 'BenchReceiver'
}

/** Sends a message through the source Outbox to one of the destination's sink receivers. */
export async function sendMessage(
  source: TestChain,
  dest: TestChain,
  payload: string | Hex = 'hello',
  { gasLimit = 200_000, account = source.accounts[3]!, receiver = 'DevnetReceiver' }: SendOptions = {},
): Promise<Sent> {
  const hash = await source.wallet.writeContract({
    account,
    address: source.entry.contracts.Outbox as Hex,
    abi: outboxAbi,
    functionName: 'send',
    args: [
      BigInt(dest.entry.chainId),
      dest.entry.contracts[receiver] as Hex,
      payload.startsWith('0x') ? (payload as Hex) : stringToHex(payload),
      gasLimit,
    ],
  })
  const receipt = await source.public.waitForTransactionReceipt({ hash })
  const [event] = parseEventLogs({ abi: outboxAbi, eventName: 'MessageSent', logs: receipt.logs })
  return {
    id: event!.args.id,
    nonce: event!.args.nonce,
    encoded: event!.args.message,
    blockNumber: receipt.blockNumber,
    gasUsed: receipt.gasUsed,
  }
}

/** How many times the destination's DevnetReceiver got message `id` (exactly-once checks). */
export function deliveries(dest: TestChain, id: Hex): Promise<bigint> {
  return dest.public.readContract({
    address: dest.entry.contracts.DevnetReceiver as Hex,
    abi: devnetReceiverAbi,
    functionName: 'deliveries',
    args: [id],
  })
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  while (Date.now() < deadline) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
  )
}
