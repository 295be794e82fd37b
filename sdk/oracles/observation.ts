import { type Address, encodeAbiParameters, type Hex, keccak256, type LocalAccount, stringToHex } from 'viem'

/**
 * What oracle nodes sign for a PriceFeed (contracts/src/oracles/PriceFeed.sol): one value observed
 * at one time, bound to the chain and the feed so that it is worthless anywhere else.
 */
export const OBSERVATION_TYPE =
  'IsthmusObservation(uint256 chainId,address feed,int192 value,uint32 observedAt)'
export const OBSERVATION_TYPEHASH: Hex = keccak256(stringToHex(OBSERVATION_TYPE))

export type Observation = { value: bigint; observedAt: number; signature: Hex }

export function observationDigest(chainId: number, feed: Address, value: bigint, observedAt: number): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'bytes32' }, { type: 'uint256' }, { type: 'address' }, { type: 'int192' }, { type: 'uint32' }],
      [OBSERVATION_TYPEHASH, BigInt(chainId), feed, value, observedAt],
    ),
  )
}

/** An oracle node's signed observation (EIP-191 over the digest, as the feed recovers it). */
export async function signObservation(
  oracle: LocalAccount,
  chainId: number,
  feed: Address,
  value: bigint,
  observedAt: number,
): Promise<Observation & { oracle: Address }> {
  const signature = await oracle.signMessage({
    message: { raw: observationDigest(chainId, feed, value, observedAt) },
  })
  return { value, observedAt, signature, oracle: oracle.address }
}

/** A report as the feed takes it: one observation per oracle, ascending by oracle address. */
export function toReport(observations: readonly (Observation & { oracle: Address })[]): Observation[] {
  const oracles = observations.map((o) => o.oracle.toLowerCase())
  if (new Set(oracles).size !== oracles.length) throw new Error('a report takes one observation per oracle')
  return [...observations]
    .sort((a, b) => (BigInt(a.oracle) < BigInt(b.oracle) ? -1 : 1))
    .map(({ value, observedAt, signature }) => ({ value, observedAt, signature }))
}
