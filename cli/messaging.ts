import type { Hex, LocalAccount } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { DEVNET_ROLES } from '../devnet/topology.js'
import { inboxAbi } from '../sdk/abi/Inbox.js'
import { outboxAbi } from '../sdk/abi/Outbox.js'
import { createReadClient } from '../sdk/client.js'
import { BaseError } from '../sdk/errors.js'
import { finalizedBlockNumber } from '../sdk/finality.js'
import type { ChainEntry, Manifest } from '../sdk/manifest.js'
import { executionStateName } from '../sdk/messaging/executionState.js'
import { decodeMessage, type Message } from '../sdk/messaging/message.js'
import { accountFromEnv } from './service.js'
import { UsageError } from './usage.js'

/** Who sends from the CLI: ISTHMUS_SENDER_KEY, or on a devnet its first user account. */
export function senderAccount(manifest: Manifest): LocalAccount {
  const fromEnv = accountFromEnv('ISTHMUS_SENDER_KEY')
  if (fromEnv) return fromEnv
  const key =
    manifest.network === 'devnet' ? manifest.accounts[DEVNET_ROLES.firstUser]?.privateKey : undefined
  if (!key) throw new UsageError('no sender key: set ISTHMUS_SENDER_KEY')
  return privateKeyToAccount(key as Hex)
}

export type SourceRecord = {
  source: ChainEntry
  dest: ChainEntry
  encoded: Hex
  message: Message
  blockNumber: bigint
  txHash: Hex
  confirmations: bigint
  final: boolean
}

/** Finds a message by id in the Outbox events of every chain, with how final its block is now. */
export async function findSentMessage(manifest: Manifest, id: Hex): Promise<SourceRecord> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(id)) throw new UsageError(`"${id}" is not a message id (32-byte hex)`)
  for (const source of manifest.chains) {
    if (!source.contracts.Outbox) continue
    const client = createReadClient(source)
    const [log] = await client.getContractEvents({
      address: source.contracts.Outbox as Hex,
      abi: outboxAbi,
      eventName: 'MessageSent',
      args: { id },
      fromBlock: BigInt(source.deployBlock ?? 0),
      strict: true,
    })
    if (!log) continue
    const message = decodeMessage(log.args.message)
    const dest = manifest.chains.find((c) => BigInt(c.chainId) === message.destChainId)
    if (!dest)
      throw new BaseError(`message ${id} goes to chain ${message.destChainId}, which is not in the manifest`)
    const head = await client.getBlockNumber({ cacheTime: 0 })
    const finalBlock =
      source.finality.kind === 'tag'
        ? (await client.getBlock({ blockTag: source.finality.tag })).number
        : finalizedBlockNumber(source.finality, head)
    return {
      source,
      dest,
      encoded: log.args.message,
      message,
      blockNumber: log.blockNumber,
      txHash: log.transactionHash,
      confirmations: head - log.blockNumber,
      final: finalBlock !== undefined && log.blockNumber <= finalBlock,
    }
  }
  throw new BaseError(`no message ${id} on any chain of the manifest`)
}

export type DestinationRecord = {
  state: ReturnType<typeof executionStateName>
  executions: { txHash: Hex; blockNumber: bigint; state: string; returnData: Hex }[]
}

/** What the destination Inbox says about a message: its state and every execution attempt. */
export async function destinationState(record: SourceRecord, id: Hex): Promise<DestinationRecord> {
  const client = createReadClient(record.dest)
  const inbox = record.dest.contracts.Inbox as Hex
  const [state, logs] = await Promise.all([
    client.readContract({
      address: inbox,
      abi: inboxAbi,
      functionName: 'executionState',
      args: [record.message.sourceChainId, record.message.nonce],
    }),
    client.getContractEvents({
      address: inbox,
      abi: inboxAbi,
      eventName: 'ExecutionStateChanged',
      args: { messageId: id },
      fromBlock: BigInt(record.dest.deployBlock ?? 0),
      strict: true,
    }),
  ])
  return {
    state: executionStateName(state),
    executions: logs.map((log) => ({
      txHash: log.transactionHash,
      blockNumber: log.blockNumber,
      state: executionStateName(log.args.state),
      returnData: log.args.returnData,
    })),
  }
}

/** JSON with bigints as decimal strings, for --json output. */
export const toJson = (value: unknown) =>
  JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2)
