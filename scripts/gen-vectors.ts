/**
 * Shared test vectors for the messaging protocol (vectors/README.md): the TypeScript tests and the
 * forge tests read the same files, so an encoding or hashing difference between the two sides fails
 * a test instead of a cross-chain message. Everything is fixed (keys from the public test mnemonic,
 * RFC 6979 signatures), so a run reproduces the committed files exactly; sdk/messaging/vectors.test.ts
 * fails when they are stale.
 *
 *   node --import tsx scripts/gen-vectors.ts
 */
import { spawnSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import {
  type Address,
  concat,
  encodeAbiParameters,
  getAddress,
  type Hex,
  numberToHex,
  stringToHex,
} from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { batchProof, batchRoot, maxProofLength } from '../sdk/messaging/batch.js'
import { BATCH_TYPEHASH, batchDigest, recoverBatchSigner, signBatch } from '../sdk/messaging/digest.js'
import {
  encodeMessage,
  FINALITY_VALUES,
  MAX_PAYLOAD_BYTES,
  MAX_TOKENS,
  MESSAGE_VERSION,
  type Message,
  messageId,
  TOKEN_MODE_VALUES,
  type TokenTransfer,
} from '../sdk/messaging/message.js'
import { encodeCommitteeProof, sortSignaturesBySigner } from '../sdk/messaging/proof.js'

export const VECTORS_DIR = fileURLToPath(new URL('../vectors/', import.meta.url))
export const TEST_MNEMONIC = 'test test test test test test test test test test test junk'
const COMMITTEE_SIZE = 5

/** uint64 and uint256 values as decimal strings: JSON numbers lose precision above 2^53. */
export type TokenVector = { token: Address; amount: string; mode: number }
export type MessageVector = {
  name: string
  version: number
  nonce: string
  sourceChainId: string
  sender: Address
  destChainId: string
  receiver: Address
  finality: number
  gasLimit: number
  tokens: TokenVector[]
  payload: Hex
  encoded: Hex
  id: Hex
}
export type InvalidMessageVector = { name: string; encoded: Hex }
export type MessagesFile = { messages: MessageVector[]; invalid: InvalidMessageVector[] }

export type BatchVector = {
  leafCount: number
  maxProofLength: number
  leaves: Hex[]
  root: Hex
  proofs: Hex[][]
}
export type FlatProofVector = { leafCount: number; leafIndex: number; leaf: Hex; root: Hex; siblings: Hex[] }
export type BatchesFile = { batches: BatchVector[]; proofsFlat: FlatProofVector[] }

export type LaneVector = {
  name: string
  sourceChainId: string
  sourceOutbox: Address
  destChainId: string
  destInbox: Address
  epoch: number
  root: Hex
  leafCount: number
  leafIndex: number
  message: Hex
  leaf: Hex
  siblings: Hex[]
  digest: Hex
  signers: Address[]
  signatures: Hex[]
  proof: Hex
}
export type DigestsFile = { typehash: Hex; committee: Address[]; lanes: LaneVector[] }

export type Vectors = {
  'messages.json': MessagesFile
  'batches.json': BatchesFile
  'digests.json': DigestsFile
}

const U64_MAX = 2n ** 64n - 1n
const SENDER = getAddress('0x5fbdb2315678afecb367f032d93f642f64180aa3')
const RECEIVER = getAddress('0xe7f1725e7734ce288f8367e1bb143e90bb3f0512')
const TOKENS = [
  getAddress('0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0'),
  getAddress('0xcf7ed3acca5a467e9e704c703e8d87f634fb0fc9'),
  getAddress('0xdc64a140aa3e981100a9beca4e685f962f0cf6c9'),
]
const MAX_ADDRESS = getAddress(`0x${'ff'.repeat(20)}`)

const lane = { sourceChainId: 31001n, destChainId: 31002n, sender: SENDER, receiver: RECEIVER } as const

function message(nonce: bigint, fields: Partial<Message>): Message {
  return { ...lane, nonce, finality: 'final', gasLimit: 200_000, tokens: [], payload: '0x', ...fields }
}

/** Bytes 0, 1, …, 255, 0, 1, …: a payload whose every byte position is visible in a diff. */
function patternPayload(bytes: number): Hex {
  return `0x${Array.from({ length: bytes }, (_, i) => (i % 256).toString(16).padStart(2, '0')).join('')}`
}

function validMessages(): [string, Message][] {
  const deposit = encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [RECEIVER, 10n ** 18n])
  const eight: TokenTransfer[] = Array.from({ length: MAX_TOKENS }, (_, i) => ({
    token: TOKENS[i % TOKENS.length]!,
    amount: 10n ** BigInt(i * 9),
    mode: i % 2 === 0 ? 'lock' : 'burn',
  }))
  return [
    ['empty', message(0n, { gasLimit: 0 })],
    ['payload-only', message(1n, { payload: stringToHex('hello, hub') })],
    [
      'one-token-with-payload',
      message(2n, { tokens: [{ token: TOKENS[0]!, amount: 10n ** 18n, mode: 'lock' }], payload: deposit }),
    ],
    [
      'three-tokens-mixed-modes',
      message(3n, {
        gasLimit: 0,
        tokens: [
          { token: TOKENS[0]!, amount: 1n, mode: 'lock' },
          { token: TOKENS[1]!, amount: 2500n * 10n ** 6n, mode: 'burn' },
          { token: TOKENS[2]!, amount: 0n, mode: 'lock' },
        ],
      }),
    ],
    [
      'max-values',
      {
        nonce: U64_MAX,
        sourceChainId: U64_MAX,
        sender: MAX_ADDRESS,
        destChainId: U64_MAX,
        receiver: MAX_ADDRESS,
        finality: 'fast',
        gasLimit: 2 ** 32 - 1,
        tokens: [{ token: MAX_ADDRESS, amount: 2n ** 256n - 1n, mode: 'burn' }],
        payload: '0xff',
      },
    ],
    ['max-tokens-max-payload', message(5n, { tokens: eight, payload: patternPayload(MAX_PAYLOAD_BYTES) })],
  ]
}

function messageVector(name: string, m: Message): MessageVector {
  const encoded = encodeMessage(m)
  return {
    name,
    version: MESSAGE_VERSION,
    nonce: m.nonce.toString(),
    sourceChainId: m.sourceChainId.toString(),
    sender: m.sender,
    destChainId: m.destChainId.toString(),
    receiver: m.receiver,
    finality: FINALITY_VALUES.indexOf(m.finality),
    gasLimit: m.gasLimit,
    tokens: m.tokens.map((t) => ({
      token: t.token,
      amount: t.amount.toString(),
      mode: TOKEN_MODE_VALUES.indexOf(t.mode),
    })),
    payload: m.payload,
    encoded,
    id: messageId(encoded),
  }
}

/** `hex` with the byte at `offset` replaced. */
function setByte(hex: Hex, offset: number, value: number): Hex {
  const at = 2 + offset * 2
  return `0x${hex.slice(2, at)}${value.toString(16).padStart(2, '0')}${hex.slice(at + 2)}`
}

/** One of each way a message is malformed; every decoder must reject all of them. */
function invalidMessages(): InvalidMessageVector[] {
  const plain = encodeMessage(message(0n, {}))
  const withToken = encodeMessage(message(1n, { tokens: [{ token: TOKENS[0]!, amount: 1n, mode: 'lock' }] }))
  const cases: [string, Hex][] = [
    ['too-short', plain.slice(0, 2 + 70 * 2) as Hex],
    ['version-0', setByte(plain, 0, 0)],
    ['version-2', setByte(plain, 0, 2)],
    ['too-many-tokens', concat([setByte(plain, 70, 9), `0x${'00'.repeat(9 * 53)}`])],
    ['token-section-overrun', withToken.slice(0, -2) as Hex],
    ['payload-too-large', concat([plain, `0x${'00'.repeat(MAX_PAYLOAD_BYTES + 1)}`])],
    ['unknown-finality', setByte(plain, 65, 2)],
    ['unknown-token-mode', setByte(withToken, 71 + 52, 2)],
  ]
  return cases.map(([name, encoded]) => ({ name, encoded }))
}

/** Ids of `count` consecutive messages on one lane, in nonce order, as the Outbox would batch them. */
function laneLeaves(
  count: number,
  firstNonce: bigint,
  chains: { sourceChainId: bigint; destChainId: bigint },
): { messages: Hex[]; leaves: Hex[] } {
  const messages = Array.from({ length: count }, (_, i) => {
    const nonce = firstNonce + BigInt(i)
    return encodeMessage(message(nonce, { ...chains, payload: numberToHex(nonce, { size: 32 }) }))
  })
  return { messages, leaves: messages.map((m) => messageId(m)) }
}

function batchVectors(): BatchesFile {
  const batches = [1, 2, 3, 5, 8, 32].map((leafCount): BatchVector => {
    const { leaves } = laneLeaves(leafCount, 0n, lane)
    return {
      leafCount,
      maxProofLength: maxProofLength(leafCount),
      leaves,
      root: batchRoot(leaves),
      proofs: leaves.map((_, i) => batchProof(leaves, i)),
    }
  })
  const proofsFlat = batches.flatMap((b) =>
    b.leaves.map((leaf, leafIndex) => ({
      leafCount: b.leafCount,
      leafIndex,
      leaf,
      root: b.root,
      siblings: b.proofs[leafIndex]!,
    })),
  )
  return { batches, proofsFlat }
}

type LaneCase = {
  name: string
  sourceChainId: bigint
  destChainId: bigint
  epoch: number
  firstNonce: bigint
  leafCount: number
  leafIndex: number
  signerIndexes: number[]
}

const LANE_CASES: LaneCase[] = [
  {
    name: 'single-message-all-signers',
    sourceChainId: 31001n,
    destChainId: 31002n,
    epoch: 1,
    firstNonce: 0n,
    leafCount: 1,
    leafIndex: 0,
    signerIndexes: [0, 1, 2, 3, 4],
  },
  {
    name: 'batch-of-5-promoted-leaf-3-of-5',
    sourceChainId: 31002n,
    destChainId: 31003n,
    epoch: 2,
    firstNonce: 10n,
    leafCount: 5,
    leafIndex: 4,
    signerIndexes: [4, 2, 0],
  },
  {
    name: 'batch-of-32-max-ids-one-signer',
    sourceChainId: U64_MAX,
    destChainId: U64_MAX - 1n,
    epoch: 2 ** 32 - 1,
    firstNonce: U64_MAX - 31n,
    leafCount: 32,
    leafIndex: 17,
    signerIndexes: [3],
  },
]

const OUTBOX = getAddress('0x0165878a594ca255338adfa4d48449f69242eb8f')
const INBOX = getAddress('0xa513e6e4b8f2a923d98304ec87f64353c4d5c853')

async function laneVector(
  c: LaneCase,
  committee: ReturnType<typeof mnemonicToAccount>[],
): Promise<LaneVector> {
  const { messages, leaves } = laneLeaves(c.leafCount, c.firstNonce, c)
  const root = batchRoot(leaves)
  const siblings = batchProof(leaves, c.leafIndex)
  const header = { ...c, sourceOutbox: OUTBOX, destInbox: INBOX, root }
  const digest = batchDigest(header)
  const unsorted = await Promise.all(c.signerIndexes.map((i) => signBatch(committee[i]!, digest)))
  const signatures = await sortSignaturesBySigner(digest, unsorted)
  return {
    name: c.name,
    sourceChainId: c.sourceChainId.toString(),
    sourceOutbox: OUTBOX,
    destChainId: c.destChainId.toString(),
    destInbox: INBOX,
    epoch: c.epoch,
    root,
    leafCount: c.leafCount,
    leafIndex: c.leafIndex,
    message: messages[c.leafIndex]!,
    leaf: leaves[c.leafIndex]!,
    siblings,
    digest,
    signers: await Promise.all(signatures.map((s) => recoverBatchSigner(digest, s))),
    signatures,
    proof: encodeCommitteeProof({ epoch: c.epoch, leafCount: c.leafCount, root, siblings, signatures }),
  }
}

async function digestVectors(): Promise<DigestsFile> {
  const committee = Array.from({ length: COMMITTEE_SIZE }, (_, addressIndex) =>
    mnemonicToAccount(TEST_MNEMONIC, { addressIndex }),
  )
  const lanes = await Promise.all(LANE_CASES.map((c) => laneVector(c, committee)))
  return { typehash: BATCH_TYPEHASH, committee: committee.map((a) => a.address), lanes }
}

export async function buildVectors(): Promise<Vectors> {
  return {
    'messages.json': {
      messages: validMessages().map(([name, m]) => messageVector(name, m)),
      invalid: invalidMessages(),
    },
    'batches.json': batchVectors(),
    'digests.json': await digestVectors(),
  }
}

/** Writes the files, then lets biome lay them out, so `npm run lint` accepts what this writes. */
async function main(): Promise<void> {
  const vectors = await buildVectors()
  const paths = Object.keys(vectors).map((file) => join(VECTORS_DIR, file))
  for (const [file, content] of Object.entries(vectors)) {
    await writeFile(join(VECTORS_DIR, file), `${JSON.stringify(content, null, 2)}\n`)
  }
  const biome = fileURLToPath(new URL('../node_modules/.bin/biome', import.meta.url))
  const result = spawnSync(biome, ['format', '--write', ...paths], { stdio: 'inherit' })
  if (result.status !== 0)
    throw new Error(`biome format failed (${result.error?.message ?? `exit ${result.status}`})`)
  console.log(`wrote ${paths.length} files to ${VECTORS_DIR}`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
