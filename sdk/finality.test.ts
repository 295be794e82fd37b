import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { finalityRuleSchema, finalizedBlockNumber } from './finality.js'

describe('finalizedBlockNumber', () => {
  const depth = finalityRuleSchema.parse({ kind: 'depth', confirmations: 6, expectedMs: 12_000 })

  it('is the head minus the confirmation depth', () => {
    assert.equal(finalizedBlockNumber(depth, 100n), 94n)
    assert.equal(finalizedBlockNumber(depth, 6n), 0n)
  })

  it('is undefined while the chain is shorter than the depth', () => {
    assert.equal(finalizedBlockNumber(depth, 5n), undefined)
  })

  it("is the node's tagged block under a tag rule", () => {
    const tag = finalityRuleSchema.parse({ kind: 'tag', tag: 'finalized', expectedMs: 900_000 })
    assert.equal(finalizedBlockNumber(tag, 100n, 68n), 68n)
  })

  it('rejects a negative depth', () => {
    assert.throws(() => finalityRuleSchema.parse({ kind: 'depth', confirmations: -1, expectedMs: 0 }))
  })
})
