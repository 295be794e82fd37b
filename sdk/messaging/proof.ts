import { type Address, concat, type Hex, hexToBigInt, hexToNumber, numberToHex, slice } from 'viem'
import { BaseError } from '../errors.js'
import { byteLength, fitsInBytes } from './bytes.js'
import { recoverBatchSigner, SIGNATURE_BYTES } from './digest.js'

/**
 * The proof a message carries to the CommitteeVerifier (docs/messaging.md, "Proof encoding"), packed:
 * epoch, leafCount, root, siblingCount, the siblings, then the signatures. This codec checks the
 * shape only; whether the proof is *valid* (known epoch, root non-zero, enough signers, ...) is the
 * verifier's call, and it has its own error for each case.
 */

export const PROOF_LAYOUT = {
  epoch: { offset: 0, size: 4 },
  leafCount: { offset: 4, size: 4 },
  root: { offset: 8, size: 32 },
  siblingCount: { offset: 40, size: 1 },
} as const

export const PROOF_HEADER_BYTES = 41
export const SIBLING_BYTES = 32
/** What a one-byte count can say; a real proof has at most 32 (leafCount is a uint32). */
export const MAX_SIBLINGS = 255

export type CommitteeProof = {
  epoch: number
  leafCount: number
  root: Hex
  /** From the leaf up, as `batchProof` returns them. */
  siblings: readonly Hex[]
  /** 65 bytes each, strictly ascending by signer (see `sortSignaturesBySigner`); empty when the root was proven earlier in the same transaction. */
  signatures: readonly Hex[]
}

export class CommitteeProofError extends BaseError {
  override name = 'CommitteeProofError'
}

export function encodeCommitteeProof(proof: CommitteeProof): Hex {
  const { epoch, leafCount, root, siblings, signatures } = proof
  checkUint32(epoch, 'epoch')
  checkUint32(leafCount, 'leafCount')
  checkBytes(root, SIBLING_BYTES, 'root')
  if (siblings.length > MAX_SIBLINGS) {
    throw new CommitteeProofError(
      `Committee proof has ${siblings.length} siblings; at most ${MAX_SIBLINGS} fit its count byte.`,
    )
  }
  for (const [i, sibling] of siblings.entries()) checkBytes(sibling, SIBLING_BYTES, `siblings[${i}]`)
  for (const [i, signature] of signatures.entries())
    checkBytes(signature, SIGNATURE_BYTES, `signatures[${i}]`)
  return concat([
    numberToHex(epoch, { size: PROOF_LAYOUT.epoch.size }),
    numberToHex(leafCount, { size: PROOF_LAYOUT.leafCount.size }),
    root,
    numberToHex(siblings.length, { size: PROOF_LAYOUT.siblingCount.size }),
    ...siblings,
    ...signatures,
  ])
}

function checkUint32(value: number, name: string): void {
  if (!fitsInBytes(value, 4))
    throw new CommitteeProofError(`Committee proof ${name} ${value} is not a uint32.`)
}

function checkBytes(value: Hex, size: number, name: string): void {
  if (byteLength(value) !== size) {
    throw new CommitteeProofError(`Committee proof ${name} (${value}) is not ${size} bytes of hex.`)
  }
}

export function decodeCommitteeProof(encoded: Hex): CommitteeProof {
  const length = byteLength(encoded)
  if (length === undefined) {
    throw new CommitteeProofError('Committee proof is not hex: expected 0x and an even number of hex digits.')
  }
  if (length < PROOF_HEADER_BYTES) {
    throw new CommitteeProofError(
      `Committee proof is ${length} bytes; its header alone is ${PROOF_HEADER_BYTES}.`,
    )
  }
  const siblingCount = readNumber(encoded, PROOF_LAYOUT.siblingCount)
  const siblingsEnd = PROOF_HEADER_BYTES + siblingCount * SIBLING_BYTES
  if (siblingsEnd > length) {
    throw new CommitteeProofError(
      `Committee proof lists ${siblingCount} siblings, which end at byte ${siblingsEnd}; the proof has ${length}.`,
    )
  }
  const signatureBytes = length - siblingsEnd
  if (signatureBytes % SIGNATURE_BYTES !== 0) {
    throw new CommitteeProofError(
      `Committee proof has ${signatureBytes} bytes of signatures, not a multiple of ${SIGNATURE_BYTES}.`,
    )
  }
  return {
    epoch: readNumber(encoded, PROOF_LAYOUT.epoch),
    leafCount: readNumber(encoded, PROOF_LAYOUT.leafCount),
    root: slice(encoded, PROOF_LAYOUT.root.offset, PROOF_LAYOUT.root.offset + PROOF_LAYOUT.root.size),
    siblings: chunks(encoded, PROOF_HEADER_BYTES, siblingCount, SIBLING_BYTES),
    signatures: chunks(encoded, siblingsEnd, signatureBytes / SIGNATURE_BYTES, SIGNATURE_BYTES),
  }
}

function readNumber(encoded: Hex, field: { offset: number; size: number }): number {
  return hexToNumber(slice(encoded, field.offset, field.offset + field.size))
}

function chunks(encoded: Hex, start: number, count: number, size: number): Hex[] {
  return Array.from({ length: count }, (_, i) => slice(encoded, start + i * size, start + (i + 1) * size))
}

/**
 * The order the verifier demands: strictly ascending by recovered signer (as uint160), which lets
 * it reject a repeated signer with one comparison per signature. Throws on a duplicate signer and
 * on any signature the verifier would call malformed.
 */
export async function sortSignaturesBySigner(digest: Hex, signatures: readonly Hex[]): Promise<Hex[]> {
  const signed = await Promise.all(
    signatures.map(async (signature) => ({ signature, signer: await recoverBatchSigner(digest, signature) })),
  )
  signed.sort((a, b) => compareAddresses(a.signer, b.signer))
  for (let i = 1; i < signed.length; i++) {
    const signer = signed[i]!.signer
    if (compareAddresses(signed[i - 1]!.signer, signer) === 0) {
      throw new CommitteeProofError(`Signer ${signer} signed twice; a proof lists each signer once.`)
    }
  }
  return signed.map((s) => s.signature)
}

function compareAddresses(a: Address, b: Address): number {
  const x = hexToBigInt(a)
  const y = hexToBigInt(b)
  return x < y ? -1 : x > y ? 1 : 0
}
