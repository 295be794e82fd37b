/**
 * Isthmus's half of the side-by-side messaging gas benchmark: real transactions on a local chain,
 * every figure a receipt's gasUsed. Proofs are built here with the validator keys (the services
 * are not part of a gas figure): 3-of-5 signatures over the batch root, as the relayer sends them.
 */
import { encodeFunctionData, type Hex, type LocalAccount, numberToHex, pad } from 'viem'
import { inboxAbi } from '../sdk/abi/Inbox.js'
import { outboxAbi } from '../sdk/abi/Outbox.js'
import { batchProof, batchRoot } from '../sdk/messaging/batch.js'
import { batchDigest, signBatch } from '../sdk/messaging/digest.js'
import { encodeCommitteeProof, sortSignaturesBySigner } from '../sdk/messaging/proof.js'
import type { TestChain } from '../testing/devnet.js'
import type { ResultRow } from './lib/results.js'

export const SYSTEM = 'Isthmus'
const BODY_BYTES = 32
const GAS_LIMIT = 100_000

type Sent = { id: Hex; encoded: Hex; gasUsed: bigint }

async function send(source: TestChain, dest: TestChain, i: number): Promise<Sent> {
  const hash = await source.wallet.writeContract({
    address: source.entry.contracts.Outbox as Hex,
    abi: outboxAbi,
    functionName: 'send',
    args: [
      BigInt(dest.entry.chainId),
      dest.entry.contracts.BenchReceiver as Hex,
      pad(numberToHex(i + 1), { size: BODY_BYTES }),
      GAS_LIMIT,
    ],
  })
  const receipt = await source.public.waitForTransactionReceipt({ hash })
  const log = receipt.logs.find(
    (l) => l.address.toLowerCase() === source.entry.contracts.Outbox!.toLowerCase(),
  )!
  const { decodeEventLog } = await import('viem')
  const event = decodeEventLog({
    abi: outboxAbi,
    data: log.data,
    topics: log.topics,
    eventName: 'MessageSent',
  })
  return { id: event.args.id, encoded: event.args.message, gasUsed: receipt.gasUsed }
}

/** Proofs for a batch as the relayer builds them: signatures on the first only. */
async function proofsFor(
  source: TestChain,
  dest: TestChain,
  signers: readonly LocalAccount[],
  ids: Hex[],
): Promise<Hex[]> {
  const root = batchRoot(ids)
  const digest = batchDigest({
    sourceChainId: BigInt(source.entry.chainId),
    sourceOutbox: source.entry.contracts.Outbox as Hex,
    destChainId: BigInt(dest.entry.chainId),
    destInbox: dest.entry.contracts.Inbox as Hex,
    epoch: 1,
    root,
    leafCount: ids.length,
  })
  const signatures = await sortSignaturesBySigner(
    digest,
    await Promise.all(signers.map((s) => signBatch(s, digest))),
  )
  return ids.map((_, i) =>
    encodeCommitteeProof({
      epoch: 1,
      leafCount: ids.length,
      root,
      siblings: batchProof(ids, i),
      signatures: i === 0 ? signatures : [],
    }),
  )
}

async function execute(dest: TestChain, messages: Sent[], proofs: Hex[]): Promise<bigint> {
  const data =
    messages.length === 1
      ? encodeFunctionData({
          abi: inboxAbi,
          functionName: 'execute',
          args: [messages[0]!.encoded, proofs[0]!],
        })
      : encodeFunctionData({
          abi: inboxAbi,
          functionName: 'executeBatch',
          args: [messages.map((m) => m.encoded), proofs],
        })
  const hash = await dest.wallet.sendTransaction({ to: dest.entry.contracts.Inbox as Hex, data })
  const receipt = await dest.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new Error(`execution reverted: ${hash}`)
  return receipt.gasUsed
}

/**
 * Same shape as the Hyperlane figures: the first message on a lane pays for fresh storage, the
 * steady state is the third (tree size 3, like Hyperlane's). Then batches of 8 and 32.
 */
export async function measureIsthmusGas(
  source: TestChain,
  dest: TestChain,
  signers: readonly LocalAccount[],
): Promise<ResultRow[]> {
  let counter = 0
  const sends: Sent[] = []
  for (let i = 0; i < 3; i++) sends.push(await send(source, dest, counter++))
  const executes: bigint[] = []
  for (const message of sends)
    executes.push(await execute(dest, [message], await proofsFor(source, dest, signers, [message.id])))
  const batchRows: ResultRow[] = []
  for (const size of [8, 32]) {
    const batch: Sent[] = []
    for (let i = 0; i < size; i++) batch.push(await send(source, dest, counter++))
    const gas = await execute(
      dest,
      batch,
      await proofsFor(
        source,
        dest,
        signers,
        batch.map((m) => m.id),
      ),
    )
    batchRows.push({
      system: SYSTEM,
      operation: `verify+deliver, batch of ${size}, per message`,
      value: Math.round(Number(gas) / size),
      unit: 'gas',
    })
  }
  const row = (operation: string, gas: bigint): ResultRow => ({
    system: SYSTEM,
    operation,
    value: Number(gas),
    unit: 'gas',
  })
  return [
    row('send (first)', sends[0]!.gasUsed),
    row('send (steady state)', sends[2]!.gasUsed),
    row('verify+deliver one message 3-of-5 (first)', executes[0]!),
    row('verify+deliver one message 3-of-5 (steady state)', executes[2]!),
    ...batchRows,
  ]
}
