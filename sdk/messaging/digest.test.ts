import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  concat,
  type Hex,
  hashMessage,
  hexToBigInt,
  keccak256,
  numberToHex,
  pad,
  recoverAddress,
  toHex,
} from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import {
  BATCH_TYPEHASH,
  type BatchDigestParameters,
  batchDigest,
  recoverBatchSigner,
  signBatch,
} from './digest.js'

const MNEMONIC = 'test test test test test test test test test test test junk'
const alice = mnemonicToAccount(MNEMONIC, { addressIndex: 0 })
const bob = mnemonicToAccount(MNEMONIC, { addressIndex: 1 })

const batch: BatchDigestParameters = {
  sourceChainId: 31001n,
  sourceOutbox: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  destChainId: 31002n,
  destInbox: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
  epoch: 3,
  root: keccak256('0x01'),
  leafCount: 5,
}

/** Secp256k1 group order, to build the high-s twin of a signature. */
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n

describe('batchDigest', () => {
  it('uses the typehash of the exact type string in docs/messaging.md', () => {
    const type =
      'IsthmusBatch(uint64 sourceChainId,address sourceOutbox,uint64 destChainId,address destInbox,uint32 epoch,bytes32 root,uint32 leafCount)'
    assert.equal(BATCH_TYPEHASH, keccak256(toHex(type)))
  })

  it('is keccak256 of eight 32-byte words, as abi.encode lays them out', () => {
    const words = concat([
      BATCH_TYPEHASH,
      numberToHex(batch.sourceChainId, { size: 32 }),
      pad(batch.sourceOutbox),
      numberToHex(batch.destChainId, { size: 32 }),
      pad(batch.destInbox),
      numberToHex(batch.epoch, { size: 32 }),
      batch.root,
      numberToHex(batch.leafCount, { size: 32 }),
    ])
    assert.equal(batchDigest(batch), keccak256(words))
  })

  it('changes with every field, so a signature is bound to one lane, epoch and batch', () => {
    const variants: BatchDigestParameters[] = [
      { ...batch, sourceChainId: 31003n },
      { ...batch, sourceOutbox: bob.address },
      { ...batch, destChainId: 31003n },
      { ...batch, destInbox: bob.address },
      { ...batch, epoch: 4 },
      { ...batch, root: keccak256('0x02') },
      { ...batch, leafCount: 6 },
    ]
    const digests = new Set([batch, ...variants].map(batchDigest))
    assert.equal(digests.size, variants.length + 1)
  })
})

describe('signBatch / recoverBatchSigner', () => {
  const digest = batchDigest(batch)

  it('signs the EIP-191 hash of the digest, 65 bytes r‖s‖v with v 27 or 28', async () => {
    const signature = await signBatch(alice, digest)
    assert.equal(signature.length, 2 + 65 * 2)
    assert.ok(['1b', '1c'].includes(signature.slice(-2)))
    // What ECDSA.recover(MessageHashUtils.toEthSignedMessageHash(digest), signature) does on chain.
    assert.equal(await recoverAddress({ hash: hashMessage({ raw: digest }), signature }), alice.address)
  })

  it('recovers each signer, checksummed', async () => {
    assert.equal(await recoverBatchSigner(digest, await signBatch(alice, digest)), alice.address)
    assert.equal(await recoverBatchSigner(digest, await signBatch(bob, digest)), bob.address)
  })

  it('recovers someone else for another digest', async () => {
    const signature = await signBatch(alice, digest)
    const other = batchDigest({ ...batch, epoch: 4 })
    assert.notEqual(await recoverBatchSigner(other, signature), alice.address)
  })

  it('rejects signatures OpenZeppelin ECDSA would reject', async () => {
    const signature = await signBatch(alice, digest)
    const rejects = (sig: Hex, message: string) =>
      assert.rejects(recoverBatchSigner(digest, sig), { name: 'BatchSignatureError', message })

    await rejects(signature.slice(0, -2) as Hex, 'Signature is 64 bytes; expected 65.')
    await rejects(`${signature.slice(0, -2)}00` as Hex, 'Signature v is 0; expected 27 or 28.')
    await rejects('0xzz', 'Signature is not hex: expected 0x and an even number of hex digits.')

    const s = hexToBigInt(`0x${signature.slice(66, 130)}`)
    const flippedV = signature.endsWith('1b') ? '1c' : '1b'
    const highS = `${signature.slice(0, 66)}${numberToHex(N - s, { size: 32 }).slice(2)}${flippedV}` as Hex
    // viem alone would accept the malleable twin; the contract would not.
    assert.equal(
      await recoverAddress({ hash: hashMessage({ raw: digest }), signature: highS }),
      alice.address,
    )
    await rejects(highS, `Signature s ${N - s} is in the upper half of the curve order.`)
  })

  it('rejects a digest that is not 32 bytes', async () => {
    await assert.rejects(signBatch(alice, '0x1234'), {
      name: 'BatchSignatureError',
      message: 'Digest 0x1234 is not 32 bytes of hex.',
    })
  })
})
