import { isHex } from 'viem'

/**
 * Small checks shared by the packed codecs (message, committee proof). viem's `size()` rounds an odd
 * number of hex digits up and `numberToHex` reports a range error without naming the field, so the
 * codecs check first and raise their own errors with the field's name.
 */

/** The length in bytes of `value`, or undefined when it is not `0x` followed by an even number of hex digits. */
export function byteLength(value: string): number | undefined {
  if (!isHex(value, { strict: true }) || value.length % 2 !== 0) return undefined
  return (value.length - 2) / 2
}

/** Whether `value` is a non-negative integer that fits in `size` bytes, big-endian unsigned. */
export function fitsInBytes(value: bigint | number, size: number): boolean {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) return false
  const n = BigInt(value)
  return n >= 0n && n < 1n << BigInt(8 * size)
}
