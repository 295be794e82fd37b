import { createPublicClient, type Hex, http, type LocalAccount } from 'viem'
import { committeeVerifierAbi } from '../../sdk/abi/CommitteeVerifier.js'
import { viemChain } from '../../sdk/client.js'
import { type ChainEntry, type Manifest, verifierContractName } from '../../sdk/manifest.js'
import { batchRoot } from '../../sdk/messaging/batch.js'
import { laneBatchDigest } from '../../sdk/messaging/delivery.js'
import { signBatch } from '../../sdk/messaging/digest.js'
import { HttpError } from '../core/http.js'
import type { Logger } from '../core/logger.js'
import type { Store } from '../core/store.js'
import type { OutboxIndexer } from '../indexer/outboxIndexer.js'

export type BatchRequest = { source: number; dest: number; from: number; to: number }

export type BatchSignature = {
  validator: Hex
  epoch: number
  root: Hex
  leafCount: number
  signature: Hex
  messageIds: Hex[]
}

/** Largest range one request may ask for: proofs carry at most log2 of it siblings. */
export const MAX_BATCH = 256

/**
 * Signs the batch root of a lane's nonce range — only if every message of the range is stored, i.e.
 * final on its source chain, and never two different roots for the same range and epoch.
 */
export class BatchSigner {
  private readonly clients = new Map<number, ReturnType<typeof createPublicClient>>()

  constructor(
    private readonly db: Store,
    private readonly manifest: Manifest,
    private readonly account: LocalAccount,
    private readonly indexers: Map<number, OutboxIndexer>,
    private readonly logger: Logger,
  ) {}

  async sign(request: BatchRequest): Promise<BatchSignature> {
    const { source, dest, from, to } = request
    const sourceChain = this.chain(source)
    const destChain = this.chain(dest)
    const verifier = destChain.contracts[verifierContractName(sourceChain.name)]
    if (!verifier) throw new HttpError(404, `no lane from ${sourceChain.name} to ${destChain.name}`)
    const indexer = this.indexers.get(source)
    if (indexer?.halted) throw new HttpError(503, `not signing for ${sourceChain.name}: ${indexer.halted}`)

    let ids = this.finalIds(request)
    // The relayer may have seen finality a moment before us: catch up before saying no. Twice, as
    // the first call may join a step that began before the head moved.
    for (let attempt = 0; attempt < 2 && ids.length < to - from + 1; attempt++) {
      await indexer?.poll().catch(() => 0)
      ids = this.finalIds(request)
    }
    if (ids.length < to - from + 1) {
      throw new HttpError(409, `nonces ${from}..${to} from ${sourceChain.name} are not all final yet`, {
        final: ids.length,
      })
    }
    const epoch = await this.currentEpoch(destChain, verifier as Hex)
    const root = batchRoot(ids)
    const existing = this.db
      .prepare(
        'SELECT root, signature FROM signatures WHERE source_chain = ? AND dest_chain = ? AND first_nonce = ? AND last_nonce = ? AND epoch = ?',
      )
      .get(source, dest, from, to, epoch) as { root: Hex; signature: Hex } | undefined
    if (existing && existing.root !== root) {
      this.logger.error(
        { request, signedRoot: existing.root, root },
        'refusing to sign a second root for a range',
      )
      throw new HttpError(500, `range ${from}..${to} was signed with root ${existing.root}; refusing ${root}`)
    }
    const signature =
      existing?.signature ?? (await this.signAndStore(request, epoch, root, sourceChain, destChain))
    return { validator: this.account.address, epoch, root, leafCount: ids.length, signature, messageIds: ids }
  }

  private async signAndStore(
    { source, dest, from, to }: BatchRequest,
    epoch: number,
    root: Hex,
    sourceChain: ChainEntry,
    destChain: ChainEntry,
  ): Promise<Hex> {
    const digest = laneBatchDigest(sourceChain, destChain, { epoch, root, leafCount: to - from + 1 })
    const signature = await signBatch(this.account, digest)
    this.db
      .prepare('INSERT OR IGNORE INTO signatures VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(source, dest, from, to, epoch, root, to - from + 1, signature, Date.now())
    return signature
  }

  private finalIds({ source, dest, from, to }: BatchRequest): Hex[] {
    return this.db
      .prepare(
        'SELECT id FROM messages WHERE source_chain = ? AND dest_chain = ? AND nonce BETWEEN ? AND ? ORDER BY nonce',
      )
      .pluck()
      .all(source, dest, from, to) as Hex[]
  }

  /** The verifier's newest epoch, if this validator belongs to it: a rotated-out key stops signing. */
  private async currentEpoch(destChain: ChainEntry, verifier: Hex): Promise<number> {
    let client = this.clients.get(destChain.chainId)
    if (!client) {
      client = createPublicClient({ chain: viemChain(destChain), transport: http(destChain.rpcUrl) })
      this.clients.set(destChain.chainId, client)
    }
    const epoch = await client.readContract({
      address: verifier,
      abi: committeeVerifierAbi,
      functionName: 'latestEpoch',
    })
    const member = await client.readContract({
      address: verifier,
      abi: committeeVerifierAbi,
      functionName: 'isSigner',
      args: [epoch, this.account.address],
    })
    if (!member)
      throw new HttpError(
        403,
        `${this.account.address} is not in epoch ${epoch} of ${destChain.name}'s verifier`,
      )
    return epoch
  }

  private chain(chainId: number): ChainEntry {
    const chain = this.manifest.chains.find((c) => c.chainId === chainId)
    if (!chain) throw new HttpError(404, `unknown chain id ${chainId}`)
    return chain
  }
}
