import {
  type Address,
  concat,
  getAddress,
  type Hex,
  hexToBigInt,
  isAddress,
  keccak256,
  numberToHex,
  slice,
} from 'viem'
import { BaseError } from '../errors.js'
import { byteLength, fitsInBytes } from './bytes.js'

/**
 * Message v1, the wire format every chain's Outbox emits and every Inbox executes
 * (docs/messaging.md, "Message v1"; MessageLib.sol is the Solidity twin, vectors/messages.json
 * keeps the two in step). Fixed layout, big-endian, no padding.
 */

export const MESSAGE_VERSION = 1
export const MAX_PAYLOAD_BYTES = 16_384
export const MAX_TOKENS = 8
/** Bytes before the first token entry; also the shortest valid message, longer than a 64-byte Merkle node. */
export const HEADER_BYTES = 71
export const TOKEN_BYTES = 53

type Field = { readonly offset: number; readonly size: number }

/** Where each header field sits, from the start of the message. */
export const MESSAGE_LAYOUT = {
  version: { offset: 0, size: 1 },
  nonce: { offset: 1, size: 8 },
  sourceChainId: { offset: 9, size: 8 },
  sender: { offset: 17, size: 20 },
  destChainId: { offset: 37, size: 8 },
  receiver: { offset: 45, size: 20 },
  finality: { offset: 65, size: 1 },
  gasLimit: { offset: 66, size: 4 },
  tokenCount: { offset: 70, size: 1 },
} as const satisfies Record<string, Field>

/** Where each field of one token entry sits, from the start of that entry. */
export const TOKEN_LAYOUT = {
  token: { offset: 0, size: 20 },
  amount: { offset: 20, size: 32 },
  mode: { offset: 52, size: 1 },
} as const satisfies Record<string, Field>

/** Wire value = index. `fast` is reserved: destinations treat it as `final` for now. */
export const FINALITY_VALUES = ['final', 'fast'] as const
/** Wire value = index: tokens locked in a pool at the source, or burned there. */
export const TOKEN_MODE_VALUES = ['lock', 'burn'] as const

export type Finality = (typeof FINALITY_VALUES)[number]
export type TokenMode = (typeof TOKEN_MODE_VALUES)[number]

export type TokenTransfer = {
  /** The token's address on the *source* chain; the destination maps it. */
  token: Address
  amount: bigint
  mode: TokenMode
}

/** A decoded v1 message. The version is not a field: encoding always writes v1, decoding accepts only v1. */
export type Message = {
  nonce: bigint
  sourceChainId: bigint
  sender: Address
  destChainId: bigint
  receiver: Address
  finality: Finality
  gasLimit: number
  tokens: readonly TokenTransfer[]
  /** Empty (`0x`) for a plain token transfer: the receiver is not called. */
  payload: Hex
}

export class MessageEncodeError extends BaseError {
  override name = 'MessageEncodeError'
}

export class MessageDecodeError extends BaseError {
  override name = 'MessageDecodeError'
}

export function encodeMessage(message: Message): Hex {
  const { tokens, payload } = message
  if (tokens.length > MAX_TOKENS) {
    throw new MessageEncodeError(`Message has ${tokens.length} tokens; at most ${MAX_TOKENS} are allowed.`)
  }
  const payloadBytes = byteLength(payload)
  if (payloadBytes === undefined) {
    throw new MessageEncodeError('Message payload is not hex: expected 0x and an even number of hex digits.')
  }
  if (payloadBytes > MAX_PAYLOAD_BYTES) {
    throw new MessageEncodeError(
      `Message payload is ${payloadBytes} bytes; at most ${MAX_PAYLOAD_BYTES} are allowed.`,
    )
  }
  return concat([encodeHeader(message), ...tokens.map(encodeToken), payload])
}

function encodeHeader(m: Message): Hex {
  const L = MESSAGE_LAYOUT
  return concat([
    uintField(MESSAGE_VERSION, L.version, 'version'),
    uintField(m.nonce, L.nonce, 'nonce'),
    uintField(m.sourceChainId, L.sourceChainId, 'sourceChainId'),
    addressField(m.sender, 'sender'),
    uintField(m.destChainId, L.destChainId, 'destChainId'),
    addressField(m.receiver, 'receiver'),
    uintField(enumCode(FINALITY_VALUES, m.finality, 'finality'), L.finality, 'finality'),
    uintField(m.gasLimit, L.gasLimit, 'gasLimit'),
    uintField(m.tokens.length, L.tokenCount, 'tokenCount'),
  ])
}

function encodeToken(t: TokenTransfer, index: number): Hex {
  const name = `tokens[${index}]`
  return concat([
    addressField(t.token, `${name}.token`),
    uintField(t.amount, TOKEN_LAYOUT.amount, `${name}.amount`),
    uintField(enumCode(TOKEN_MODE_VALUES, t.mode, `${name}.mode`), TOKEN_LAYOUT.mode, `${name}.mode`),
  ])
}

function uintField(value: bigint | number, field: Field, name: string): Hex {
  if (!fitsInBytes(value, field.size)) {
    throw new MessageEncodeError(`Message ${name} ${value} does not fit in ${field.size} bytes.`)
  }
  return numberToHex(value, { size: field.size })
}

function addressField(value: string, name: string): Hex {
  if (!isAddress(value)) throw new MessageEncodeError(`Message ${name} ${value} is not an address.`)
  return value.toLowerCase() as Hex
}

/** The types already rule out a bad value; this catches callers that bypassed them (parsed JSON). */
function enumCode(values: readonly string[], value: string, name: string): number {
  const code = values.indexOf(value)
  if (code < 0) throw new MessageEncodeError(`Message ${name} "${value}" is not one of ${values.join(', ')}.`)
  return code
}

/** Strict: anything but a well-formed v1 message throws a MessageDecodeError that names the bad value. */
export function decodeMessage(encoded: Hex): Message {
  const length = checkedLength(encoded)
  checkVersionAndHeader(encoded, length)
  const tokenCount = readNumber(encoded, MESSAGE_LAYOUT.tokenCount)
  const tokensEnd = checkSections(tokenCount, length)
  const L = MESSAGE_LAYOUT
  return {
    nonce: readUint(encoded, L.nonce),
    sourceChainId: readUint(encoded, L.sourceChainId),
    sender: readAddress(encoded, L.sender),
    destChainId: readUint(encoded, L.destChainId),
    receiver: readAddress(encoded, L.receiver),
    finality: decodeFinality(readNumber(encoded, L.finality)),
    gasLimit: readNumber(encoded, L.gasLimit),
    tokens: Array.from({ length: tokenCount }, (_, i) => decodeToken(encoded, i)),
    // viem's slice rejects a start offset at the very end, so an empty payload is spelled out.
    payload: tokensEnd === length ? '0x' : slice(encoded, tokensEnd),
  }
}

function checkedLength(encoded: Hex): number {
  const length = byteLength(encoded)
  if (length === undefined) {
    throw new MessageDecodeError('Message is not hex: expected 0x and an even number of hex digits.')
  }
  return length
}

/** The version comes first: another version may have another header, so "too short" would mislead. */
function checkVersionAndHeader(encoded: Hex, length: number): void {
  if (length > 0) {
    const version = readNumber(encoded, MESSAGE_LAYOUT.version)
    if (version !== MESSAGE_VERSION) {
      throw new MessageDecodeError(
        `Message version ${version} is not supported; expected ${MESSAGE_VERSION}.`,
      )
    }
  }
  if (length < HEADER_BYTES) {
    throw new MessageDecodeError(`Message is ${length} bytes; a v1 message has at least ${HEADER_BYTES}.`)
  }
}

/** Returns where the payload starts. */
function checkSections(tokenCount: number, length: number): number {
  if (tokenCount > MAX_TOKENS) {
    throw new MessageDecodeError(`Message has ${tokenCount} tokens; at most ${MAX_TOKENS} are allowed.`)
  }
  const tokensEnd = HEADER_BYTES + tokenCount * TOKEN_BYTES
  if (tokensEnd > length) {
    throw new MessageDecodeError(
      `Message token section overruns the message: ${tokenCount} tokens end at byte ${tokensEnd}, the message has ${length}.`,
    )
  }
  const payloadBytes = length - tokensEnd
  if (payloadBytes > MAX_PAYLOAD_BYTES) {
    throw new MessageDecodeError(
      `Message payload is ${payloadBytes} bytes; at most ${MAX_PAYLOAD_BYTES} are allowed.`,
    )
  }
  return tokensEnd
}

function decodeFinality(code: number): Finality {
  const finality = FINALITY_VALUES[code]
  if (finality === undefined) {
    throw new MessageDecodeError(`Message finality ${code} is unknown; expected 0 (final) or 1 (fast).`)
  }
  return finality
}

function decodeToken(encoded: Hex, index: number): TokenTransfer {
  const base = HEADER_BYTES + index * TOKEN_BYTES
  const code = readNumber(encoded, TOKEN_LAYOUT.mode, base)
  const mode = TOKEN_MODE_VALUES[code]
  if (mode === undefined) {
    throw new MessageDecodeError(
      `Message token ${index} has unknown mode ${code}; expected 0 (lock) or 1 (burn).`,
    )
  }
  return {
    token: readAddress(encoded, TOKEN_LAYOUT.token, base),
    amount: readUint(encoded, TOKEN_LAYOUT.amount, base),
    mode,
  }
}

function readField(encoded: Hex, field: Field, base: number): Hex {
  const start = base + field.offset
  return slice(encoded, start, start + field.size, { strict: true })
}

function readUint(encoded: Hex, field: Field, base = 0): bigint {
  return hexToBigInt(readField(encoded, field, base))
}

/** For fields of at most 4 bytes, which always fit a JS number. */
function readNumber(encoded: Hex, field: Field, base = 0): number {
  return Number(readUint(encoded, field, base))
}

function readAddress(encoded: Hex, field: Field, base = 0): Address {
  return getAddress(readField(encoded, field, base))
}

/**
 * keccak256 of the encoding, as the Outbox computes it. Raw bytes are hashed as given (a relayer
 * hashes what the Outbox emitted); a `Message` is encoded first.
 */
export function messageId(message: Hex | Message): Hex {
  if (typeof message !== 'string') return keccak256(encodeMessage(message))
  checkedLength(message)
  return keccak256(message)
}
