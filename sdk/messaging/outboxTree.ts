import { concat, type Hex, keccak256 } from 'viem'

/**
 * The Outbox's incremental Merkle tree (IncrementalMerkle.sol) in TypeScript: depth 32, ordered
 * pairs, zero-hash padding. Validators rebuild it from MessageSent events and compare its root with
 * `Outbox.root()` at the same final block: an RPC that drops or invents a log cannot go unnoticed.
 */
export const OUTBOX_TREE_DEPTH = 32

const ZERO: Hex = `0x${'0'.repeat(64)}`
const hashPair = (left: Hex, right: Hex): Hex => keccak256(concat([left, right]))

const zeroHashes: Hex[] = [ZERO]
for (let height = 1; height < OUTBOX_TREE_DEPTH; height++) {
  zeroHashes.push(hashPair(zeroHashes[height - 1]!, zeroHashes[height - 1]!))
}

export class OutboxTree {
  private readonly branch: Hex[] = Array(OUTBOX_TREE_DEPTH).fill(ZERO)
  private size = 0

  get count(): number {
    return this.size
  }

  insert(leaf: Hex): number {
    const index = this.size
    let size = ++this.size
    let node = leaf
    for (let height = 0; height < OUTBOX_TREE_DEPTH; height++) {
      if ((size & 1) === 1) {
        this.branch[height] = node
        return index
      }
      node = hashPair(this.branch[height]!, node)
      size = Math.floor(size / 2)
    }
    throw new Error('outbox tree is full')
  }

  root(): Hex {
    let current = ZERO
    for (let height = 0; height < OUTBOX_TREE_DEPTH; height++) {
      const bit = Math.floor(this.size / 2 ** height) % 2
      current = bit === 1 ? hashPair(this.branch[height]!, current) : hashPair(current, zeroHashes[height]!)
    }
    return current
  }
}
