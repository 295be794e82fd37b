import type { Chain, Hex, PublicClient, Transport } from 'viem'
import { outboxAbi } from '../../sdk/abi/Outbox.js'
import { BaseError } from '../../sdk/errors.js'
import { finalizedBlockNumber } from '../../sdk/finality.js'
import type { ChainEntry } from '../../sdk/manifest.js'
import { decodeMessage, messageId } from '../../sdk/messaging/message.js'
import { OutboxTree } from '../../sdk/messaging/outboxTree.js'
import type { Logger } from '../core/logger.js'
import type { Store } from '../core/store.js'
import type { MessageRow } from './schema.js'

/** The chain contradicted what this indexer already stored as final; it stops rather than guess. */
export class IndexerHaltedError extends BaseError {
  override name = 'IndexerHaltedError'
}

/** Blocks per getLogs request: small enough for public RPC limits. */
const MAX_RANGE = 2_000n

/**
 * Follows one chain's Outbox and stores its messages once their blocks are final (manifest rule).
 * Every step also checks the chain against what is stored: the last final block must keep its hash
 * (else a reorg went deeper than the rule: an incident), and the Outbox's own Merkle root at that
 * block must equal the root of the stored ids (else the RPC dropped or invented a log).
 */
export class OutboxIndexer {
  private tree = new OutboxTree()
  private haltedReason: string | undefined
  private running: Promise<number> | undefined
  private readonly insertMessage

  constructor(
    private readonly db: Store,
    readonly chain: ChainEntry,
    private readonly client: PublicClient<Transport, Chain>,
    private readonly logger: Logger,
  ) {
    this.insertMessage = db.prepare(
      `INSERT INTO messages (id, source_chain, dest_chain, nonce, leaf_index, sender, receiver, encoded,
         block_number, block_hash, tx_hash, source_time, final_at)
       VALUES (@id, @source_chain, @dest_chain, @nonce, @leaf_index, @sender, @receiver, @encoded,
         @block_number, @block_hash, @tx_hash, @source_time, @final_at)`,
    )
    this.rebuildTree()
    const incident = db
      .prepare('SELECT kind, detail FROM incidents WHERE chain_id = ? ORDER BY id DESC LIMIT 1')
      .get(chain.chainId) as { kind: string; detail: string } | undefined
    if (incident) this.haltedReason = `${incident.kind}: ${incident.detail}`
  }

  get halted(): string | undefined {
    return this.haltedReason
  }

  /** One catch-up step; concurrent callers share the step in flight. Returns how many messages it stored. */
  poll(): Promise<number> {
    this.running ??= this.step().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  private async step(): Promise<number> {
    if (this.haltedReason) throw new IndexerHaltedError(`${this.chain.name}: ${this.haltedReason}`)
    const cursor = this.cursor()
    // Independent reads go out together: every round trip here is latency on every message.
    const [final] = await Promise.all([
      this.finalBlock(),
      cursor.hash ? this.checkCursorStillCanonical(cursor.number, cursor.hash) : undefined,
    ])
    if (final === undefined || final <= cursor.number) return 0
    const to = final - cursor.number > MAX_RANGE ? cursor.number + MAX_RANGE : final
    const logs = await this.client.getContractEvents({
      address: this.outbox,
      abi: outboxAbi,
      eventName: 'MessageSent',
      fromBlock: cursor.number + 1n,
      toBlock: to,
      strict: true,
    })
    const [toBlock, rows, onChainRoot] = await Promise.all([
      this.client.getBlock({ blockNumber: to }),
      this.toRows(logs),
      // Checked even when no log came back: an RPC that drops every log returns exactly that.
      this.rootAt(to),
    ])
    try {
      for (const row of rows) this.tree.insert(row.id)
      if (onChainRoot !== this.tree.root()) {
        this.halt(
          'root-mismatch',
          `Outbox root at block ${to} is ${onChainRoot}, the indexed messages give ${this.tree.root()}`,
        )
      }
      this.db.transaction(() => {
        for (const row of rows) this.insertMessage.run(row)
        this.db
          .prepare('INSERT OR REPLACE INTO cursors (chain_id, block_number, block_hash) VALUES (?, ?, ?)')
          .run(this.chain.chainId, Number(to), toBlock.hash)
      })()
    } catch (error) {
      this.rebuildTree()
      throw error
    }
    if (rows.length)
      this.logger.debug({ chain: this.chain.name, stored: rows.length, to }, 'indexed final messages')
    return rows.length
  }

  private get outbox(): Hex {
    const address = this.chain.contracts.Outbox
    if (!address) throw new IndexerHaltedError(`${this.chain.name} has no Outbox in the manifest`)
    return address as Hex
  }

  private cursor(): { number: bigint; hash: string | undefined } {
    const row = this.db
      .prepare('SELECT block_number, block_hash FROM cursors WHERE chain_id = ?')
      .get(this.chain.chainId) as { block_number: number; block_hash: string } | undefined
    if (row) return { number: BigInt(row.block_number), hash: row.block_hash }
    return { number: BigInt(this.chain.deployBlock ?? 0) - 1n, hash: undefined }
  }

  private async finalBlock(): Promise<bigint | undefined> {
    const rule = this.chain.finality
    if (rule.kind === 'tag') return (await this.client.getBlock({ blockTag: rule.tag })).number
    return finalizedBlockNumber(rule, await this.client.getBlockNumber({ cacheTime: 0 }))
  }

  private async checkCursorStillCanonical(number: bigint, hash: string): Promise<void> {
    const block = await this.client.getBlock({ blockNumber: number })
    if (block.hash !== hash) {
      this.halt('deep-reorg', `block ${number} was final as ${hash} and is now ${block.hash}`)
    }
  }

  private rootAt(blockNumber: bigint): Promise<Hex> {
    return this.client.readContract({
      address: this.outbox,
      abi: outboxAbi,
      functionName: 'root',
      blockNumber,
    })
  }

  private async toRows(
    logs: readonly {
      args: { id: Hex; destChainId: bigint; nonce: bigint; leafIndex: bigint; message: Hex }
      blockNumber: bigint
      blockHash: Hex
      transactionHash: Hex
    }[],
  ): Promise<MessageRow[]> {
    const blockNumbers = [...new Set(logs.map((l) => l.blockNumber))]
    const blocks = await Promise.all(blockNumbers.map((blockNumber) => this.client.getBlock({ blockNumber })))
    const timestamps = new Map(blocks.map((b) => [b.number, Number(b.timestamp) * 1000]))
    const finalAt = Date.now()
    return logs.map((log, i) => {
      const { id, destChainId, nonce, leafIndex, message } = log.args
      const decoded = decodeMessage(message)
      const expectedLeaf = this.tree.count + i
      if (messageId(message) !== id || Number(leafIndex) !== expectedLeaf || decoded.nonce !== nonce) {
        this.halt(
          'bad-log',
          `MessageSent ${id} in ${log.transactionHash} is inconsistent (leaf ${leafIndex}, expected ${expectedLeaf})`,
        )
      }
      return {
        id,
        source_chain: this.chain.chainId,
        dest_chain: Number(destChainId),
        nonce: Number(nonce),
        leaf_index: Number(leafIndex),
        sender: decoded.sender,
        receiver: decoded.receiver,
        encoded: message,
        block_number: Number(log.blockNumber),
        block_hash: log.blockHash,
        tx_hash: log.transactionHash,
        source_time: timestamps.get(log.blockNumber)!,
        final_at: finalAt,
      }
    })
  }

  private rebuildTree(): void {
    this.tree = new OutboxTree()
    const ids = this.db
      .prepare('SELECT id FROM messages WHERE source_chain = ? ORDER BY leaf_index')
      .pluck()
      .all(this.chain.chainId) as Hex[]
    for (const id of ids) this.tree.insert(id)
  }

  private halt(kind: string, detail: string): never {
    this.db
      .prepare('INSERT INTO incidents (chain_id, kind, detail, at) VALUES (?, ?, ?, ?)')
      .run(this.chain.chainId, kind, detail, Date.now())
    this.haltedReason = `${kind}: ${detail}`
    this.logger.error({ chain: this.chain.name, kind, detail }, 'indexer halted: incident')
    throw new IndexerHaltedError(`${this.chain.name}: ${this.haltedReason}`)
  }
}
