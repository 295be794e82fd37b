import { concat, type Hex, hexToBigInt, keccak256 } from 'viem'
import { BaseError } from '../errors.js'
import { byteLength } from './bytes.js'

/**
 * The batch Merkle tree validators sign (docs/messaging.md, "Batch tree"): leaves are message ids
 * in nonce order, a parent is the commutative keccak256 of its two children, and an odd last node
 * moves up a level unchanged. Commutative hashing is what lets a proof be a bare list of siblings,
 * verified the way OpenZeppelin's `MerkleProof.processProof` does on chain.
 */

export class BatchTreeError extends BaseError {
  override name = 'BatchTreeError'
}

/** OpenZeppelin 5's `Hashes.commutativeKeccak256`: the pair sorted as uint256, then hashed as 64 bytes. */
export function commutativeKeccak256(a: Hex, b: Hex): Hex {
  return hexToBigInt(a) < hexToBigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a]))
}

export function batchRoot(leaves: readonly Hex[]): Hex {
  return treeLevels(leaves).at(-1)![0]!
}

/** Siblings from the leaf up; a level where the node moved up unchanged contributes none. */
export function batchProof(leaves: readonly Hex[], index: number): Hex[] {
  const levels = treeLevels(leaves)
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length) {
    throw new BatchTreeError(`Leaf index ${index} is out of range for a batch of ${leaves.length} leaves.`)
  }
  const proof: Hex[] = []
  let position = index
  for (const level of levels.slice(0, -1)) {
    const sibling = level[position ^ 1]
    // No sibling: this is the odd last node, promoted unchanged.
    if (sibling !== undefined) proof.push(sibling)
    position >>= 1
  }
  return proof
}

/** Folds the proof into the leaf as the verifier does; malformed (non-32-byte) input throws rather than fails. */
export function verifyBatchProof(leaf: Hex, proof: readonly Hex[], root: Hex): boolean {
  checkNode(leaf, 'Leaf')
  checkNode(root, 'Root')
  for (const [i, sibling] of proof.entries()) checkNode(sibling, `Sibling ${i}`)
  const computed = proof.reduce<Hex>((node, sibling) => commutativeKeccak256(node, sibling), leaf)
  return hexToBigInt(computed) === hexToBigInt(root)
}

/**
 * The tree's depth, `ceil(log2(leafCount))`: no valid proof is longer (promoted levels make some
 * shorter). The verifier rejects longer ones. `leafCount` is a uint32 on the wire.
 */
export function maxProofLength(leafCount: number): number {
  if (!Number.isInteger(leafCount) || leafCount < 1 || leafCount > 0xffff_ffff) {
    throw new BatchTreeError(`Leaf count ${leafCount} is not an integer from 1 to 4294967295.`)
  }
  // Bit length of leafCount - 1 is ceil(log2(leafCount)), without floating point.
  return 32 - Math.clz32(leafCount - 1)
}

/** Every level from the leaves (first) to the root (last, one node). */
function treeLevels(leaves: readonly Hex[]): Hex[][] {
  checkLeaves(leaves)
  const levels: Hex[][] = [[...leaves]]
  let level = levels[0]!
  while (level.length > 1) {
    level = parentLevel(level)
    levels.push(level)
  }
  return levels
}

function parentLevel(nodes: readonly Hex[]): Hex[] {
  const parents: Hex[] = []
  for (let i = 0; i < nodes.length; i += 2) {
    const right = nodes[i + 1]
    parents.push(right === undefined ? nodes[i]! : commutativeKeccak256(nodes[i]!, right))
  }
  return parents
}

function checkLeaves(leaves: readonly Hex[]): void {
  if (leaves.length === 0) throw new BatchTreeError('A batch needs at least one leaf.')
  for (const [i, leaf] of leaves.entries()) checkNode(leaf, `Leaf ${i}`)
}

function checkNode(node: Hex, name: string): void {
  if (byteLength(node) !== 32) throw new BatchTreeError(`${name} (${node}) is not 32 bytes of hex.`)
}
