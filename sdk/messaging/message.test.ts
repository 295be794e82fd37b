import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { concat, type Hex, keccak256, numberToHex, size, slice } from 'viem'
import { BaseError } from '../errors.js'
import {
  decodeMessage,
  encodeMessage,
  HEADER_BYTES,
  MAX_PAYLOAD_BYTES,
  MESSAGE_LAYOUT,
  type Message,
  MessageDecodeError,
  messageId,
  TOKEN_BYTES,
  TOKEN_LAYOUT,
} from './message.js'

const SENDER = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const RECEIVER = '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512'
const TOKEN_A = '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0'
const TOKEN_B = '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9'

const base: Message = {
  nonce: 7n,
  sourceChainId: 31001n,
  sender: SENDER,
  destChainId: 31002n,
  receiver: RECEIVER,
  finality: 'final',
  gasLimit: 200_000,
  tokens: [],
  payload: '0x',
}

const withTokens: Message = {
  ...base,
  finality: 'fast',
  tokens: [
    { token: TOKEN_A, amount: 10n ** 18n, mode: 'lock' },
    { token: TOKEN_B, amount: 1n, mode: 'burn' },
  ],
  payload: '0xdeadbeef',
}

/** `hex` with the byte at `offset` replaced, for building malformed messages from good ones. */
function setByte(hex: Hex, offset: number, value: number): Hex {
  const at = 2 + offset * 2
  return `0x${hex.slice(2, at)}${value.toString(16).padStart(2, '0')}${hex.slice(at + 2)}`
}

function zeros(bytes: number): Hex {
  return `0x${'00'.repeat(bytes)}`
}

describe('message layout', () => {
  it('lays the header and token fields end to end', () => {
    for (const [layout, total] of [
      [MESSAGE_LAYOUT, HEADER_BYTES],
      [TOKEN_LAYOUT, TOKEN_BYTES],
    ] as const) {
      let offset = 0
      for (const field of Object.values(layout)) {
        assert.equal(field.offset, offset)
        offset += field.size
      }
      assert.equal(offset, total)
    }
  })

  it('puts every field where docs/messaging.md says, big-endian', () => {
    const expected = concat([
      '0x01',
      '0x0000000000000007',
      '0x0000000000007919',
      SENDER.toLowerCase() as Hex,
      '0x000000000000791a',
      RECEIVER.toLowerCase() as Hex,
      '0x01',
      '0x00030d40',
      '0x02',
      TOKEN_A.toLowerCase() as Hex,
      numberToHex(10n ** 18n, { size: 32 }),
      '0x00',
      TOKEN_B.toLowerCase() as Hex,
      numberToHex(1n, { size: 32 }),
      '0x01',
      '0xdeadbeef',
    ])
    assert.equal(encodeMessage(withTokens), expected)
    assert.equal(size(expected), HEADER_BYTES + 2 * TOKEN_BYTES + 4)
  })
})

describe('encodeMessage / decodeMessage', () => {
  it('round-trips messages with and without tokens and payload', () => {
    for (const message of [base, withTokens, { ...base, payload: '0x00' as Hex }]) {
      assert.deepEqual(decodeMessage(encodeMessage(message)), message)
    }
  })

  it('round-trips the largest values and the largest message', () => {
    const max: Message = {
      ...withTokens,
      nonce: 2n ** 64n - 1n,
      sourceChainId: 2n ** 64n - 1n,
      destChainId: 2n ** 64n - 1n,
      gasLimit: 2 ** 32 - 1,
      tokens: Array.from({ length: 8 }, () => ({
        token: TOKEN_A,
        amount: 2n ** 256n - 1n,
        mode: 'burn' as const,
      })),
      payload: `0x${'ab'.repeat(MAX_PAYLOAD_BYTES)}`,
    }
    const encoded = encodeMessage(max)
    assert.equal(size(encoded), HEADER_BYTES + 8 * TOKEN_BYTES + MAX_PAYLOAD_BYTES)
    assert.deepEqual(decodeMessage(encoded), max)
  })

  it('decodes addresses checksummed, whatever the case they were given in', () => {
    const decoded = decodeMessage(
      encodeMessage({
        ...withTokens,
        sender: SENDER.toLowerCase() as Hex,
        receiver: RECEIVER.toLowerCase() as Hex,
      }),
    )
    assert.equal(decoded.sender, SENDER)
    assert.equal(decoded.receiver, RECEIVER)
    assert.equal(decoded.tokens[1]!.token, TOKEN_B)
  })
})

describe('messageId', () => {
  it('is the keccak256 of the encoding, from a message or its bytes', () => {
    const encoded = encodeMessage(withTokens)
    assert.equal(messageId(withTokens), keccak256(encoded))
    assert.equal(messageId(encoded), keccak256(encoded))
  })

  it('rejects bytes that are not hex', () => {
    assert.throws(() => messageId('0x123'), {
      name: 'MessageDecodeError',
      message: 'Message is not hex: expected 0x and an even number of hex digits.',
    })
  })
})

describe('decodeMessage errors', () => {
  const good = encodeMessage(withTokens)
  const rejects = (encoded: Hex, message: string) =>
    assert.throws(
      () => decodeMessage(encoded),
      (error: unknown) => {
        assert.ok(error instanceof MessageDecodeError)
        assert.ok(error instanceof BaseError)
        assert.equal(error.name, 'MessageDecodeError')
        assert.equal(error.message, message)
        return true
      },
    )

  it('rejects input that is not hex', () => {
    rejects('0x0g' as Hex, 'Message is not hex: expected 0x and an even number of hex digits.')
    rejects('0x012', 'Message is not hex: expected 0x and an even number of hex digits.')
  })

  it('rejects a version other than 1', () => {
    rejects(setByte(good, 0, 2), 'Message version 2 is not supported; expected 1.')
    rejects('0x00', 'Message version 0 is not supported; expected 1.')
  })

  it('rejects a message shorter than the header', () => {
    rejects('0x', 'Message is 0 bytes; a v1 message has at least 71.')
    rejects(slice(good, 0, 70), 'Message is 70 bytes; a v1 message has at least 71.')
  })

  it('rejects more than 8 tokens', () => {
    const nine = concat([setByte(slice(good, 0, HEADER_BYTES), 70, 9), zeros(9 * TOKEN_BYTES)])
    rejects(nine, 'Message has 9 tokens; at most 8 are allowed.')
  })

  it('rejects a token section that runs past the end', () => {
    const short = slice(good, 0, HEADER_BYTES + 2 * TOKEN_BYTES - 1)
    rejects(
      short,
      'Message token section overruns the message: 2 tokens end at byte 177, the message has 176.',
    )
  })

  it('rejects a payload over 16 KiB', () => {
    const header = encodeMessage(base)
    rejects(
      concat([header, zeros(MAX_PAYLOAD_BYTES + 1)]),
      'Message payload is 16385 bytes; at most 16384 are allowed.',
    )
    assert.equal(decodeMessage(concat([header, zeros(MAX_PAYLOAD_BYTES)])).payload, zeros(MAX_PAYLOAD_BYTES))
  })

  it('rejects an unknown finality', () => {
    rejects(setByte(good, 65, 2), 'Message finality 2 is unknown; expected 0 (final) or 1 (fast).')
  })

  it('rejects an unknown token mode, naming the token', () => {
    rejects(
      setByte(good, HEADER_BYTES + TOKEN_BYTES + 52, 255),
      'Message token 1 has unknown mode 255; expected 0 (lock) or 1 (burn).',
    )
  })
})

describe('encodeMessage errors', () => {
  const rejects = (message: Message, text: string) =>
    assert.throws(() => encodeMessage(message), { name: 'MessageEncodeError', message: text })

  it('rejects values that do not fit their field', () => {
    rejects({ ...base, nonce: 2n ** 64n }, 'Message nonce 18446744073709551616 does not fit in 8 bytes.')
    rejects({ ...base, sourceChainId: -1n }, 'Message sourceChainId -1 does not fit in 8 bytes.')
    rejects({ ...base, gasLimit: 2 ** 32 }, 'Message gasLimit 4294967296 does not fit in 4 bytes.')
    rejects({ ...base, gasLimit: 1.5 }, 'Message gasLimit 1.5 does not fit in 4 bytes.')
    rejects(
      { ...withTokens, tokens: [{ token: TOKEN_A, amount: 2n ** 256n, mode: 'lock' }] },
      `Message tokens[0].amount ${2n ** 256n} does not fit in 32 bytes.`,
    )
  })

  it('rejects bad addresses and enum values', () => {
    rejects({ ...base, receiver: '0x1234' }, 'Message receiver 0x1234 is not an address.')
    rejects(
      { ...base, sender: '0x5fbdb2315678afecb367f032d93F642f64180aa3' },
      'Message sender 0x5fbdb2315678afecb367f032d93F642f64180aa3 is not an address.',
    )
    rejects(
      { ...base, finality: 'soon' as Message['finality'] },
      'Message finality "soon" is not one of final, fast.',
    )
    rejects(
      { ...base, tokens: [{ token: TOKEN_A, amount: 1n, mode: 'mint' as 'lock' }] },
      'Message tokens[0].mode "mint" is not one of lock, burn.',
    )
  })

  it('rejects too many tokens and too large or malformed payloads', () => {
    const token = { token: TOKEN_A, amount: 1n, mode: 'lock' as const }
    rejects({ ...base, tokens: Array(9).fill(token) }, 'Message has 9 tokens; at most 8 are allowed.')
    rejects(
      { ...base, payload: zeros(MAX_PAYLOAD_BYTES + 1) },
      'Message payload is 16385 bytes; at most 16384 are allowed.',
    )
    rejects(
      { ...base, payload: '0xabc' },
      'Message payload is not hex: expected 0x and an even number of hex digits.',
    )
  })
})
