import { BaseError } from '../../sdk/errors.js'
import { toJson } from '../messaging.js'
import { loadManifest } from '../service.js'
import { parseFlags, parsePositiveInt, UsageError } from '../usage.js'

export const help = `isthmus messages: the relayer's view of recent messages

  --status <s>      only pending | retrying | submitted | success | failure
  --limit <n>       at most n (default 50)
  --json            machine-readable
  --manifest <path> default .isthmus/devnet.json (the relayer URL is read from it)`

const STATUSES = ['pending', 'retrying', 'submitted', 'success', 'failure']

type Row = {
  id: string
  source_chain: number
  dest_chain: number
  nonce: number
  status: string
  reason: string | null
  latencyMs: { finalToSent: number | null }
}

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('messages', argv, {
    status: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    manifest: { type: 'string' },
  })
  if (flags.status && !STATUSES.includes(flags.status)) {
    throw new UsageError(`--status must be one of ${STATUSES.join(', ')}`)
  }
  const manifest = await loadManifest(flags.manifest)
  const relayer = manifest.services.relayer
  if (!relayer) throw new BaseError('the manifest lists no relayer: is the devnet running with its services?')
  const query = new URLSearchParams({
    limit: String(flags.limit ? parsePositiveInt('--limit', flags.limit) : 50),
  })
  if (flags.status) query.set('status', flags.status)
  const response = await fetch(`${relayer}/v1/messages?${query}`)
  const { messages } = (await response.json()) as { messages: Row[] }
  if (flags.json) return console.log(toJson(messages))
  const name = (id: number) => manifest.chains.find((c) => c.chainId === id)?.name ?? String(id)
  if (!messages.length) return console.log('no messages yet')
  for (const m of messages) {
    const latency = m.latencyMs.finalToSent === null ? '' : `  final→sent ${m.latencyMs.finalToSent} ms`
    const reason = m.reason && m.status !== 'success' ? `  (${m.reason})` : ''
    console.log(
      `${m.id}  ${name(m.source_chain)}→${name(m.dest_chain)} #${m.nonce}  ${m.status}${latency}${reason}`,
    )
  }
}
