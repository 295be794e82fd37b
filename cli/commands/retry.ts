import { type Hex, parseEventLogs } from 'viem'
import { inboxAbi } from '../../sdk/abi/Inbox.js'
import { createChainClients } from '../../sdk/client.js'
import { BaseError } from '../../sdk/errors.js'
import { executionStateName } from '../../sdk/messaging/executionState.js'
import { explainFailure } from '../../services/relayer/reasons.js'
import { destinationState, findSentMessage, senderAccount, toJson } from '../messaging.js'
import { loadManifest } from '../service.js'
import { parseCommand, parsePositiveInt } from '../usage.js'

export const help = `isthmus retry <id>: execute a failed message again, with more gas

  --gas-limit <n>   gas for the receiver (default: twice the message's own limit)
  --json            machine-readable
  --manifest <path> default .isthmus/devnet.json

Anyone may retry a failed message; no proof is needed (it was verified when it first ran).`

export async function run(argv: string[]): Promise<void> {
  const { values: flags, positionals } = parseCommand(
    'retry',
    argv,
    { 'gas-limit': { type: 'string' }, json: { type: 'boolean' }, manifest: { type: 'string' } },
    1,
  )
  const id = positionals[0]!.toLowerCase() as Hex
  const manifest = await loadManifest(flags.manifest)
  const record = await findSentMessage(manifest, id)
  const before = await destinationState(record, id)
  if (before.state !== 'failure') {
    throw new BaseError(
      `message ${id} is ${before.state} on ${record.dest.name}: only a failed message can be retried`,
    )
  }
  const gasLimit = flags['gas-limit']
    ? parsePositiveInt('--gas-limit', flags['gas-limit'])
    : record.message.gasLimit * 2
  const { public: client, wallet } = createChainClients(record.dest, senderAccount(manifest))
  const hash = await wallet.writeContract({
    address: record.dest.contracts.Inbox as Hex,
    abi: inboxAbi,
    functionName: 'retry',
    args: [record.encoded, gasLimit],
  })
  const receipt = await client.waitForTransactionReceipt({ hash })
  const [event] = parseEventLogs({ abi: inboxAbi, eventName: 'ExecutionStateChanged', logs: receipt.logs })
  const state = executionStateName(event?.args.state ?? 0)
  const reason = state === 'failure' ? explainFailure(event!.args.returnData) : null
  if (flags.json) return console.log(toJson({ id, state, tx: hash, gasLimit, reason }))
  console.log(`retried ${id} on ${record.dest.name} with gas limit ${gasLimit}: ${state} (tx ${hash})`)
  if (reason) console.log(`  still failing: ${reason}`)
}
