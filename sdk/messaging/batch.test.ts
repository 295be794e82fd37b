import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bytesToHex, type Hex, hexToBytes, keccak256, numberToHex } from 'viem'
import {
  BatchTreeError,
  batchProof,
  batchRoot,
  commutativeKeccak256,
  maxProofLength,
  verifyBatchProof,
} from './batch.js'

/** Deterministic, unsorted-looking leaves: keccak256 of the index. */
const leavesOf = (n: number): Hex[] =>
  Array.from({ length: n }, (_, i) => keccak256(numberToHex(i, { size: 32 })))

/** The tree again, written differently (bytes, recursion), so a shared mistake is unlikely. */
function naiveHash(a: Uint8Array, b: Uint8Array): Uint8Array {
  const [lo, hi] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a]
  return keccak256(Buffer.concat([lo, hi]), 'bytes')
}

function naiveParents(nodes: Uint8Array[]): Uint8Array[] {
  const parents: Uint8Array[] = []
  for (let i = 0; i < nodes.length; i += 2) {
    parents.push(i + 1 < nodes.length ? naiveHash(nodes[i]!, nodes[i + 1]!) : nodes[i]!)
  }
  return parents
}

function naiveRoot(nodes: Uint8Array[]): Uint8Array {
  return nodes.length === 1 ? nodes[0]! : naiveRoot(naiveParents(nodes))
}

function naiveProof(nodes: Uint8Array[], index: number): Uint8Array[] {
  if (nodes.length === 1) return []
  const promoted = index === nodes.length - 1 && index % 2 === 0
  const rest = naiveProof(naiveParents(nodes), Math.floor(index / 2))
  return promoted ? rest : [nodes[index % 2 === 0 ? index + 1 : index - 1]!, ...rest]
}

function tamper(node: Hex): Hex {
  const bytes = hexToBytes(node)
  bytes[31]! ^= 1
  return bytesToHex(bytes)
}

describe('commutativeKeccak256', () => {
  it('hashes the pair sorted as uint256, whichever order it is given in', () => {
    const small: Hex = `0x${'00'.repeat(31)}01`
    const large: Hex = `0x${'ff'.repeat(32)}`
    const expected = keccak256(`0x${small.slice(2)}${large.slice(2)}`)
    assert.equal(commutativeKeccak256(small, large), expected)
    assert.equal(commutativeKeccak256(large, small), expected)
  })
})

describe('batch tree', () => {
  it('agrees with a naive recomputation for 1..33 leaves, and every proof verifies', () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = leavesOf(n)
      const bytes = leaves.map((l) => hexToBytes(l))
      const root = batchRoot(leaves)
      assert.equal(root, bytesToHex(naiveRoot(bytes)), `root of ${n}`)
      for (let i = 0; i < n; i++) {
        const proof = batchProof(leaves, i)
        assert.deepEqual(
          proof,
          naiveProof(bytes, i).map((b) => bytesToHex(b)),
          `proof of leaf ${i} of ${n}`,
        )
        assert.ok(proof.length <= maxProofLength(n), `proof length of leaf ${i} of ${n}`)
        assert.ok(verifyBatchProof(leaves[i]!, proof, root), `leaf ${i} of ${n} verifies`)
      }
    }
  })

  it('rejects a tampered sibling, leaf or root, and a proof for another position', () => {
    for (const n of [2, 3, 5, 8, 33]) {
      const leaves = leavesOf(n)
      const root = batchRoot(leaves)
      for (let i = 0; i < n; i++) {
        const proof = batchProof(leaves, i)
        const leaf = leaves[i]!
        proof.forEach((sibling, j) => {
          const bad = proof.with(j, tamper(sibling))
          assert.equal(verifyBatchProof(leaf, bad, root), false, `sibling ${j} of leaf ${i} of ${n}`)
        })
        assert.equal(verifyBatchProof(tamper(leaf), proof, root), false)
        assert.equal(verifyBatchProof(leaf, proof, tamper(root)), false)
        assert.equal(verifyBatchProof(leaf, proof.slice(0, -1), root), false)
        const other = leaves[(i + 1) % n]!
        assert.equal(verifyBatchProof(other, proof, root), false)
      }
    }
  })

  it('makes a single leaf its own root, with an empty proof', () => {
    const [leaf] = leavesOf(1) as [Hex]
    assert.equal(batchRoot([leaf]), leaf)
    assert.deepEqual(batchProof([leaf], 0), [])
    assert.ok(verifyBatchProof(leaf, [], leaf))
    assert.equal(verifyBatchProof(leaf, [leaf], leaf), false)
  })

  it('promotes an odd last node unchanged: 3 leaves', () => {
    const [a, b, c] = leavesOf(3) as [Hex, Hex, Hex]
    assert.equal(batchRoot([a, b, c]), commutativeKeccak256(commutativeKeccak256(a, b), c))
    assert.deepEqual(batchProof([a, b, c], 2), [commutativeKeccak256(a, b)])
    assert.deepEqual(batchProof([a, b, c], 0), [b, c])
  })
})

describe('maxProofLength', () => {
  it('is ceil(log2(leafCount))', () => {
    const table: [number, number][] = [
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 2],
      [5, 3],
      [8, 3],
      [9, 4],
      [33, 6],
      [2 ** 31, 31],
      [2 ** 32 - 1, 32],
    ]
    for (const [count, length] of table) assert.equal(maxProofLength(count), length, `${count} leaves`)
  })

  it('rejects a count that is not a positive uint32', () => {
    for (const count of [0, -1, 1.5, 2 ** 32]) {
      assert.throws(() => maxProofLength(count), {
        name: 'BatchTreeError',
        message: `Leaf count ${count} is not an integer from 1 to 4294967295.`,
      })
    }
  })
})

describe('batch tree errors', () => {
  it('rejects an empty batch', () => {
    assert.throws(() => batchRoot([]), {
      name: 'BatchTreeError',
      message: 'A batch needs at least one leaf.',
    })
    assert.throws(() => batchProof([], 0), {
      name: 'BatchTreeError',
      message: 'A batch needs at least one leaf.',
    })
  })

  it('rejects an out-of-range leaf index', () => {
    const leaves = leavesOf(3)
    for (const index of [-1, 3, 0.5]) {
      assert.throws(
        () => batchProof(leaves, index),
        (error: unknown) => {
          assert.ok(error instanceof BatchTreeError)
          assert.equal(error.message, `Leaf index ${index} is out of range for a batch of 3 leaves.`)
          return true
        },
      )
    }
  })

  it('rejects nodes that are not 32 bytes', () => {
    const [leaf] = leavesOf(1) as [Hex]
    assert.throws(() => batchRoot([leaf, '0x1234']), {
      name: 'BatchTreeError',
      message: 'Leaf 1 (0x1234) is not 32 bytes of hex.',
    })
    assert.throws(() => verifyBatchProof(leaf, ['0x00'], leaf), {
      name: 'BatchTreeError',
      message: 'Sibling 0 (0x00) is not 32 bytes of hex.',
    })
  })
})
