import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concat, type Hex, keccak256, toHex } from 'viem'
import { OUTBOX_TREE_DEPTH, OutboxTree } from './outboxTree.js'

/** The same tree computed the slow, obvious way: pad to 2^32 with zero hashes level by level. */
function naiveRoot(leaves: Hex[]): Hex {
  let zero: Hex = `0x${'0'.repeat(64)}`
  let level = [...leaves]
  for (let height = 0; height < OUTBOX_TREE_DEPTH; height++) {
    const next: Hex[] = []
    for (let i = 0; i < Math.max(1, level.length); i += 2) {
      next.push(keccak256(concat([level[i] ?? zero, level[i + 1] ?? zero])))
    }
    level = next
    zero = keccak256(concat([zero, zero]))
  }
  return level[0]!
}

describe('OutboxTree', () => {
  it('matches a naive full-tree computation for 0..40 leaves', () => {
    const tree = new OutboxTree()
    const leaves: Hex[] = []
    assert.equal(tree.root(), naiveRoot([]))
    for (let i = 0; i < 40; i++) {
      const leaf = keccak256(toHex(i))
      assert.equal(tree.insert(leaf), i)
      leaves.push(leaf)
      assert.equal(tree.root(), naiveRoot(leaves), `root after ${i + 1} leaves`)
    }
    assert.equal(tree.count, 40)
  })
})
