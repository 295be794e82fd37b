import type { Hex } from 'viem'
import { explainFailure } from '../../services/relayer/reasons.js'
import { destinationState, findSentMessage, toJson } from '../messaging.js'
import { loadManifest } from '../service.js'
import { parseCommand } from '../usage.js'

export const help = `isthmus message <id>: one message on both chains, as the chains themselves say

  --json            machine-readable
  --manifest <path> default .isthmus/devnet.json

Shows the source block and its finality, the destination Inbox state and every execution attempt
(with the failure reason in words), and the relayer's batch: signers, signatures, latency.`

type RelayerView = {
  status: string
  signers: string[]
  signatures: string[]
  epoch: number | null
  latencyMs: unknown
}

export async function run(argv: string[]): Promise<void> {
  const { values: flags, positionals } = parseCommand(
    'message',
    argv,
    { json: { type: 'boolean' }, manifest: { type: 'string' } },
    1,
  )
  const id = positionals[0]!.toLowerCase() as Hex
  const manifest = await loadManifest(flags.manifest)
  const source = await findSentMessage(manifest, id)
  const dest = await destinationState(source, id)
  const relayer = await relayerView(manifest.services.relayer, id)
  const lastFailure = dest.executions.filter((e) => e.state === 'failure').at(-1)
  const failureReason =
    dest.state === 'failure' && lastFailure ? explainFailure(lastFailure.returnData) : null
  const report = {
    id,
    status:
      dest.state !== 'untouched'
        ? dest.state
        : source.final
          ? 'final, awaiting delivery'
          : 'awaiting finality',
    failureReason,
    message: source.message,
    source: {
      chain: source.source.name,
      block: source.blockNumber,
      tx: source.txHash,
      confirmations: source.confirmations,
      finality: source.source.finality,
      final: source.final,
    },
    destination: { chain: source.dest.name, state: dest.state, executions: dest.executions },
    relayer,
  }
  if (flags.json) return console.log(toJson(report))
  const { finality } = source.source
  const rule =
    finality.kind === 'depth' ? `${finality.confirmations} confirmations` : `the ${finality.tag} tag`
  console.log(`message ${id}: ${report.status}`)
  console.log(
    `  ${source.source.name} → ${source.dest.name}, nonce ${source.message.nonce}, from ${source.message.sender}`,
  )
  console.log(
    `  sent in block ${source.blockNumber} (tx ${source.txHash}), ${source.confirmations} confirmations, final after ${rule}: ${source.final ? 'yes' : 'not yet'}`,
  )
  for (const e of dest.executions)
    console.log(`  executed in block ${e.blockNumber} (tx ${e.txHash}): ${e.state}`)
  if (failureReason) console.log(`  failure: ${failureReason}\n  recover with: isthmus retry ${id}`)
  if (relayer)
    console.log(
      `  relayer: ${relayer.status}, signed by ${relayer.signers.length} validators (epoch ${relayer.epoch ?? '-'})`,
    )
}

async function relayerView(url: string | undefined, id: Hex): Promise<RelayerView | null> {
  if (!url) return null
  const response = await fetch(`${url}/v1/messages/${id}`).catch(() => undefined)
  if (!response?.ok) return null
  const { status, signers, signatures, epoch, latencyMs } = (await response.json()) as RelayerView
  return { status, signers, signatures, epoch, latencyMs }
}
