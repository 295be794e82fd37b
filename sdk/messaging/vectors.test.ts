import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { before, describe, it } from 'node:test'
import { hexToBigInt, hexToNumber, slice } from 'viem'
import {
  type BatchesFile,
  buildVectors,
  type DigestsFile,
  type MessagesFile,
  type MessageVector,
  VECTORS_DIR,
  type Vectors,
} from '../../scripts/gen-vectors.js'
import { batchProof, batchRoot, maxProofLength, verifyBatchProof } from './batch.js'
import { batchDigest, recoverBatchSigner } from './digest.js'
import {
  decodeMessage,
  encodeMessage,
  FINALITY_VALUES,
  type Message,
  MessageDecodeError,
  messageId,
  TOKEN_MODE_VALUES,
} from './message.js'
import { decodeCommitteeProof } from './proof.js'

function readVectors<T>(file: keyof Vectors): T {
  return JSON.parse(readFileSync(join(VECTORS_DIR, file), 'utf8')) as T
}

const messagesFile = readVectors<MessagesFile>('messages.json')
const batchesFile = readVectors<BatchesFile>('batches.json')
const digestsFile = readVectors<DigestsFile>('digests.json')

/** The vector's fields as a `Message`, read independently of the generator. */
function messageOf(v: MessageVector): Message {
  return {
    nonce: BigInt(v.nonce),
    sourceChainId: BigInt(v.sourceChainId),
    sender: v.sender,
    destChainId: BigInt(v.destChainId),
    receiver: v.receiver,
    finality: FINALITY_VALUES[v.finality]!,
    gasLimit: v.gasLimit,
    tokens: v.tokens.map((t) => ({
      token: t.token,
      amount: BigInt(t.amount),
      mode: TOKEN_MODE_VALUES[t.mode]!,
    })),
    payload: v.payload,
  }
}

describe('committed vectors', () => {
  let fresh: Vectors
  before(async () => {
    fresh = await buildVectors()
  })

  for (const file of ['messages.json', 'batches.json', 'digests.json'] as const) {
    it(`${file} equals what scripts/gen-vectors.ts generates (else run: npm run vectors)`, () => {
      // Through JSON, as the file went: the comparison is of content, not of biome's layout.
      assert.deepEqual(readVectors(file), JSON.parse(JSON.stringify(fresh[file])))
    })
  }
})

describe('vectors/messages.json', () => {
  it('covers the cases the Solidity tests rely on', () => {
    const names = messagesFile.messages.map((m) => m.name)
    for (const name of [
      'empty',
      'payload-only',
      'one-token-with-payload',
      'three-tokens-mixed-modes',
      'max-values',
    ]) {
      assert.ok(names.includes(name), name)
    }
    assert.ok(messagesFile.messages.some((m) => m.payload.length === 2 + 16_384 * 2))
  })

  for (const v of messagesFile.messages) {
    it(`${v.name}: decodes to every field, encodes back, hashes to its id`, () => {
      assert.equal(hexToNumber(slice(v.encoded, 0, 1)), v.version)
      assert.deepEqual(decodeMessage(v.encoded), messageOf(v))
      assert.equal(encodeMessage(messageOf(v)), v.encoded)
      assert.equal(messageId(v.encoded), v.id)
    })
  }

  for (const v of messagesFile.invalid) {
    it(`${v.name}: is rejected`, () => {
      assert.throws(() => decodeMessage(v.encoded), MessageDecodeError)
    })
  }
})

describe('vectors/batches.json', () => {
  for (const b of batchesFile.batches) {
    it(`${b.leafCount} leaves: root, proofs and proof bound`, () => {
      assert.equal(b.leaves.length, b.leafCount)
      assert.equal(batchRoot(b.leaves), b.root)
      assert.equal(maxProofLength(b.leafCount), b.maxProofLength)
      b.leaves.forEach((leaf, i) => {
        assert.deepEqual(batchProof(b.leaves, i), b.proofs[i])
        assert.ok(verifyBatchProof(leaf, b.proofs[i]!, b.root))
        assert.ok(b.proofs[i]!.length <= b.maxProofLength)
      })
    })
  }

  it('proofsFlat repeats every proof of every batch', () => {
    const expected = batchesFile.batches.flatMap((b) =>
      b.leaves.map((leaf, leafIndex) => ({
        leafCount: b.leafCount,
        leafIndex,
        leaf,
        root: b.root,
        siblings: b.proofs[leafIndex],
      })),
    )
    assert.deepEqual(batchesFile.proofsFlat, expected)
  })
})

describe('vectors/digests.json', () => {
  for (const lane of digestsFile.lanes) {
    it(`${lane.name}: digest, signers in order, proof and message agree`, async () => {
      const header = {
        ...lane,
        sourceChainId: BigInt(lane.sourceChainId),
        destChainId: BigInt(lane.destChainId),
      }
      assert.equal(batchDigest(header), lane.digest)

      const signers = await Promise.all(lane.signatures.map((s) => recoverBatchSigner(lane.digest, s)))
      assert.deepEqual(signers, lane.signers)
      signers.slice(1).forEach((signer, i) => {
        assert.ok(hexToBigInt(signers[i]!) < hexToBigInt(signer), 'strictly ascending')
      })
      for (const signer of signers) assert.ok(digestsFile.committee.includes(signer))

      const { epoch, leafCount, root, siblings, signatures } = lane
      assert.deepEqual(decodeCommitteeProof(lane.proof), { epoch, leafCount, root, siblings, signatures })

      const message = decodeMessage(lane.message)
      assert.equal(message.sourceChainId, header.sourceChainId)
      assert.equal(message.destChainId, header.destChainId)
      assert.equal(messageId(lane.message), lane.leaf)
      assert.ok(verifyBatchProof(lane.leaf, lane.siblings, lane.root))
    })
  }
})
