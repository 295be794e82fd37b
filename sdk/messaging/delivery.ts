import { encodeFunctionData, type Hex } from 'viem'
import { inboxAbi } from '../abi/Inbox.js'
import type { ChainEntry } from '../manifest.js'
import { batchProof, batchRoot } from './batch.js'
import { batchDigest } from './digest.js'
import { encodeCommitteeProof } from './proof.js'

/** The digest validators sign for a batch on the lane `source` → `dest` of a deployment. */
export function laneBatchDigest(
  source: ChainEntry,
  dest: ChainEntry,
  batch: { epoch: number; root: Hex; leafCount: number },
): Hex {
  return batchDigest({
    sourceChainId: BigInt(source.chainId),
    sourceOutbox: source.contracts.Outbox as Hex,
    destChainId: BigInt(dest.chainId),
    destInbox: dest.contracts.Inbox as Hex,
    ...batch,
  })
}

/**
 * One committee proof per message of a batch, as the Inbox wants them: the first carries the
 * signatures (sorted by signer), the rest only their siblings, relying on the root the verifier
 * proved a moment earlier in the same transaction.
 */
export function committeeProofs(ids: readonly Hex[], epoch: number, signatures: readonly Hex[]): Hex[] {
  const root = batchRoot(ids)
  return ids.map((_, i) =>
    encodeCommitteeProof({
      epoch,
      leafCount: ids.length,
      root,
      siblings: batchProof(ids, i),
      signatures: i === 0 ? [...signatures] : [],
    }),
  )
}

/** Calldata for the Inbox: `execute` for a single message, `executeBatch` for more. */
export function deliveryCalldata(messages: readonly Hex[], proofs: readonly Hex[]): Hex {
  return messages.length === 1
    ? encodeFunctionData({ abi: inboxAbi, functionName: 'execute', args: [messages[0]!, proofs[0]!] })
    : encodeFunctionData({ abi: inboxAbi, functionName: 'executeBatch', args: [[...messages], [...proofs]] })
}
