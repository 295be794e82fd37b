/**
 * Isthmus's half of the side-by-side messaging gas benchmark: real transactions on a local chain,
 * every figure a receipt's gasUsed. Proofs are built here with the validator keys (the services
 * are not part of a gas figure): 3-of-5 signatures over the batch root, as the relayer sends them.
 */
import { type Hex, type LocalAccount, numberToHex, pad } from 'viem'
import { batchRoot } from '../sdk/messaging/batch.js'
import { committeeProofs, deliveryCalldata, laneBatchDigest } from '../sdk/messaging/delivery.js'
import { signBatch } from '../sdk/messaging/digest.js'
import { sortSignaturesBySigner } from '../sdk/messaging/proof.js'
import type { TestChain } from '../testing/devnet.js'
import { type Sent, sendMessage } from '../testing/messaging.js'
import type { ResultRow } from './lib/results.js'

export const SYSTEM = 'Isthmus'
/** The payload size Hyperlane's half sends too. */
const BODY_BYTES = 32

const send = (source: TestChain, dest: TestChain, i: number) =>
  sendMessage(source, dest, pad(numberToHex(i + 1), { size: BODY_BYTES }), {
    gasLimit: 100_000,
    receiver: 'BenchReceiver',
  })

async function deliver(source: TestChain, dest: TestChain, signers: readonly LocalAccount[], batch: Sent[]) {
  const ids = batch.map((m) => m.id)
  const digest = laneBatchDigest(source.entry, dest.entry, {
    epoch: 1,
    root: batchRoot(ids),
    leafCount: ids.length,
  })
  const signatures = await sortSignaturesBySigner(
    digest,
    await Promise.all(signers.map((s) => signBatch(s, digest))),
  )
  const data = deliveryCalldata(
    batch.map((m) => m.encoded),
    committeeProofs(ids, 1, signatures),
  )
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
  for (const message of sends) executes.push(await deliver(source, dest, signers, [message]))
  const row = (operation: string, gas: bigint | number): ResultRow => ({
    system: SYSTEM,
    operation,
    value: Math.round(Number(gas)),
    unit: 'gas',
  })
  const rows = [
    row('send (first)', sends[0]!.gasUsed),
    row('send (steady state)', sends[2]!.gasUsed),
    row('verify+deliver one message 3-of-5 (first)', executes[0]!),
    row('verify+deliver one message 3-of-5 (steady state)', executes[2]!),
  ]
  for (const size of [8, 32]) {
    const batch: Sent[] = []
    for (let i = 0; i < size; i++) batch.push(await send(source, dest, counter++))
    const gas = await deliver(source, dest, signers, batch)
    rows.push(row(`verify+deliver, batch of ${size}, per message`, Number(gas) / size))
  }
  return rows
}
