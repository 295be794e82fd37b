import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concat, type Hex, hexToBigInt, keccak256, numberToHex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { batchDigest, recoverBatchSigner, signBatch } from './digest.js'
import {
  type CommitteeProof,
  decodeCommitteeProof,
  encodeCommitteeProof,
  PROOF_HEADER_BYTES,
  sortSignaturesBySigner,
} from './proof.js'

const MNEMONIC = 'test test test test test test test test test test test junk'
const committee = [0, 1, 2, 3, 4].map((addressIndex) => mnemonicToAccount(MNEMONIC, { addressIndex }))

const node = (i: number): Hex => keccak256(numberToHex(i, { size: 32 }))
const signature = (i: number): Hex => `0x${i.toString(16).padStart(2, '0').repeat(64)}1b`

const proof: CommitteeProof = {
  epoch: 0xdeadbeef,
  leafCount: 5,
  root: node(0),
  siblings: [node(1), node(2), node(3)],
  signatures: [signature(1), signature(2)],
}

describe('encodeCommitteeProof / decodeCommitteeProof', () => {
  it('packs epoch, leafCount, root, siblingCount, siblings, signatures', () => {
    const expected = concat([
      '0xdeadbeef',
      '0x00000005',
      node(0),
      '0x03',
      node(1),
      node(2),
      node(3),
      signature(1),
      signature(2),
    ])
    assert.equal(encodeCommitteeProof(proof), expected)
  })

  it('round-trips full, sibling-free and signature-free proofs', () => {
    const variants: CommitteeProof[] = [
      proof,
      { ...proof, leafCount: 1, siblings: [] },
      { ...proof, signatures: [] },
      { epoch: 0, leafCount: 2 ** 32 - 1, root: node(9), siblings: [], signatures: [] },
    ]
    for (const p of variants) assert.deepEqual(decodeCommitteeProof(encodeCommitteeProof(p)), p)
  })
})

describe('decodeCommitteeProof errors', () => {
  const good = encodeCommitteeProof(proof)
  const rejects = (encoded: Hex, message: string) =>
    assert.throws(() => decodeCommitteeProof(encoded), { name: 'CommitteeProofError', message })

  it('rejects input that is not hex', () => {
    rejects('0x123', 'Committee proof is not hex: expected 0x and an even number of hex digits.')
  })

  it('rejects a proof shorter than its header', () => {
    rejects('0x', 'Committee proof is 0 bytes; its header alone is 41.')
    rejects(good.slice(0, 2 + 40 * 2) as Hex, 'Committee proof is 40 bytes; its header alone is 41.')
  })

  it('rejects siblings that run past the end', () => {
    const header = good.slice(0, 2 + PROOF_HEADER_BYTES * 2) as Hex
    rejects(
      concat([header, node(1), node(2)]),
      'Committee proof lists 3 siblings, which end at byte 137; the proof has 105.',
    )
  })

  it('rejects signature bytes that are not a multiple of 65', () => {
    rejects(concat([good, '0x00']), 'Committee proof has 131 bytes of signatures, not a multiple of 65.')
    rejects(good.slice(0, -2) as Hex, 'Committee proof has 129 bytes of signatures, not a multiple of 65.')
  })
})

describe('encodeCommitteeProof errors', () => {
  const rejects = (p: CommitteeProof, message: string) =>
    assert.throws(() => encodeCommitteeProof(p), { name: 'CommitteeProofError', message })

  it('rejects fields that do not fit', () => {
    rejects({ ...proof, epoch: 2 ** 32 }, 'Committee proof epoch 4294967296 is not a uint32.')
    rejects({ ...proof, leafCount: -1 }, 'Committee proof leafCount -1 is not a uint32.')
    rejects({ ...proof, root: '0x01' }, 'Committee proof root (0x01) is not 32 bytes of hex.')
    rejects(
      { ...proof, siblings: Array(256).fill(node(1)) },
      'Committee proof has 256 siblings; at most 255 fit its count byte.',
    )
    rejects(
      { ...proof, siblings: [node(1), '0x02'] },
      'Committee proof siblings[1] (0x02) is not 32 bytes of hex.',
    )
    rejects(
      { ...proof, signatures: ['0x03'] },
      'Committee proof signatures[0] (0x03) is not 65 bytes of hex.',
    )
  })
})

describe('sortSignaturesBySigner', () => {
  const digest = batchDigest({
    sourceChainId: 31001n,
    sourceOutbox: committee[0]!.address,
    destChainId: 31002n,
    destInbox: committee[1]!.address,
    epoch: 1,
    root: node(0),
    leafCount: 1,
  })

  it('orders signatures strictly ascending by signer address as uint160', async () => {
    const signatures = await Promise.all(committee.map((account) => signBatch(account, digest)))
    const sorted = await sortSignaturesBySigner(digest, signatures.toReversed())
    const signers = await Promise.all(sorted.map((s) => recoverBatchSigner(digest, s)))
    const expected = committee
      .map((a) => a.address)
      .sort((a, b) => (hexToBigInt(a) < hexToBigInt(b) ? -1 : 1))
    assert.deepEqual(signers, expected)
    assert.equal(new Set(sorted).size, committee.length)
    assert.deepEqual(await sortSignaturesBySigner(digest, []), [])
  })

  it('rejects a signer who appears twice', async () => {
    const [first, second] = committee as [(typeof committee)[number], (typeof committee)[number]]
    const once = await signBatch(first, digest)
    const message = `Signer ${first.address} signed twice; a proof lists each signer once.`
    await assert.rejects(sortSignaturesBySigner(digest, [once, await signBatch(second, digest), once]), {
      name: 'CommitteeProofError',
      message,
    })
  })

  it('rejects a malformed signature', async () => {
    await assert.rejects(sortSignaturesBySigner(digest, ['0x1234']), {
      name: 'BatchSignatureError',
      message: 'Signature is 2 bytes; expected 65.',
    })
  })
})
