import {
  type Address,
  encodeAbiParameters,
  type Hex,
  hexToBigInt,
  hexToNumber,
  keccak256,
  type LocalAccount,
  recoverMessageAddress,
  slice,
  stringToHex,
} from 'viem'
import { BaseError } from '../errors.js'
import { byteLength } from './bytes.js'

/**
 * What a validator signs for a batch (docs/messaging.md, "Verification"). Both chain ids, the
 * source Outbox and the destination Inbox are in the digest, so a signature for one lane is
 * worthless on any other; the epoch pins it to one committee.
 */

export const BATCH_TYPE =
  'IsthmusBatch(uint64 sourceChainId,address sourceOutbox,uint64 destChainId,address destInbox,uint32 epoch,bytes32 root,uint32 leafCount)'
export const BATCH_TYPEHASH: Hex = keccak256(stringToHex(BATCH_TYPE))

export const SIGNATURE_BYTES = 65

/** Half the secp256k1 order: OpenZeppelin's ECDSA rejects a larger `s` (the malleable twin). */
const MAX_LOW_S = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n

export type BatchDigestParameters = {
  sourceChainId: bigint
  sourceOutbox: Address
  destChainId: bigint
  destInbox: Address
  epoch: number
  root: Hex
  leafCount: number
}

export class BatchSignatureError extends BaseError {
  override name = 'BatchSignatureError'
}

export function batchDigest(batch: BatchDigestParameters): Hex {
  return keccak256(
    encodeAbiParameters(
      [
        { type: 'bytes32' },
        { type: 'uint64' },
        { type: 'address' },
        { type: 'uint64' },
        { type: 'address' },
        { type: 'uint32' },
        { type: 'bytes32' },
        { type: 'uint32' },
      ],
      [
        BATCH_TYPEHASH,
        batch.sourceChainId,
        batch.sourceOutbox,
        batch.destChainId,
        batch.destInbox,
        batch.epoch,
        batch.root,
        batch.leafCount,
      ],
    ),
  )
}

/**
 * The 65-byte r‖s‖v signature (v = 27 | 28) of the EIP-191 hash of `digest`, i.e. what
 * `ECDSA.recover(MessageHashUtils.toEthSignedMessageHash(digest), signature)` accepts on chain.
 */
export async function signBatch(account: LocalAccount, digest: Hex): Promise<Hex> {
  checkDigest(digest)
  return account.signMessage({ message: { raw: digest } })
}

/**
 * The address that signed `digest`. Stricter than viem, as strict as OpenZeppelin's ECDSA: exactly 65
 * bytes, v of 27 or 28, low s. A signature the contract would reject never passes here.
 */
export async function recoverBatchSigner(digest: Hex, signature: Hex): Promise<Address> {
  checkDigest(digest)
  checkSignature(signature)
  return recoverMessageAddress({ message: { raw: digest }, signature })
}

function checkDigest(digest: Hex): void {
  if (byteLength(digest) !== 32) throw new BatchSignatureError(`Digest ${digest} is not 32 bytes of hex.`)
}

function checkSignature(signature: Hex): void {
  const length = byteLength(signature)
  if (length === undefined) {
    throw new BatchSignatureError('Signature is not hex: expected 0x and an even number of hex digits.')
  }
  if (length !== SIGNATURE_BYTES) {
    throw new BatchSignatureError(`Signature is ${length} bytes; expected ${SIGNATURE_BYTES}.`)
  }
  const v = hexToNumber(slice(signature, 64, 65))
  if (v !== 27 && v !== 28) throw new BatchSignatureError(`Signature v is ${v}; expected 27 or 28.`)
  const s = hexToBigInt(slice(signature, 32, 64))
  if (s > MAX_LOW_S)
    throw new BatchSignatureError(`Signature s ${s} is in the upper half of the curve order.`)
}
