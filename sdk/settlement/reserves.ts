import { type Address, formatUnits } from 'viem'
import { collateralGateAbi } from '../abi/CollateralGate.js'
import { priceFeedAbi } from '../abi/PriceFeed.js'
import { reserveBackedTokenAbi } from '../abi/ReserveBackedToken.js'
import { reserveReporterAbi } from '../abi/ReserveReporter.js'
import { createReadClient } from '../client.js'
import { BaseError } from '../errors.js'
import { type ChainEntry, chainByName, type Manifest } from '../manifest.js'

export class ReserveStatusError extends BaseError {
  override name = 'ReserveStatusError'
}

/** The manifest name of a reserve-backed token's proof-of-reserve feed (on the token's chain). */
export const reserveFeedName = (symbol: string) => `ReserveFeed.${symbol}`
const HUB = 'hub'

/** Amounts are decimal strings in whole tokens (the token's decimals applied). */
export type ReserveStatusReport = {
  symbol: string
  /** The token's own chain (e.g. bank): what it says about itself. */
  chain: {
    name: string
    chainId: number
    token: Address
    feed: Address
    /** The chain's latest block time (seconds). */
    time: number
    supply: string
    /** The feed's latest answer in whole tokens, fresh or not; null before its first round. */
    reserves: string | null
    /** `reserves − supply` (negative: short); null before the first round. */
    headroom: string | null
    feedRound: number | null
    feedUpdatedAt: number | null
    feedAgeSeconds: number | null
    /** The token's `maxFeedAge`: a mint needs a reserve round at most this old. */
    maxFeedAgeSeconds: number
    feedStale: boolean
    breakerTripped: boolean
    /** `isBacked()`: breaker not tripped, feed fresh, reserves ≥ supply. */
    isBacked: boolean
  }
  /** The chain's ReserveReporter (null when none is deployed). */
  reporter: {
    address: Address
    /** Seconds between reports of an unchanged status. */
    minIntervalSeconds: number
    lastReport: { sentAt: number; ageSeconds: number; backed: boolean } | null
  } | null
  /** What the hub's CollateralGate holds (null when the deployment has none). */
  hub: {
    gate: Address
    tracked: boolean
    isEligible: boolean
    /** The latest report the gate accepted; null before the first. */
    status: { supply: string; reserves: string; backed: boolean; observedAt: number } | null
  } | null
}

/** The chain of `symbol`'s reserve feed (`ReserveFeed.<symbol>`), with a clear error naming the ones that exist. */
function reserveChain(manifest: Manifest, symbol: string): ChainEntry {
  const chain = manifest.chains.find((c) => c.contracts[reserveFeedName(symbol)])
  if (chain) return chain
  const known = reserveSymbols(manifest)
  throw new ReserveStatusError(
    `no reserve feed ${reserveFeedName(symbol)} in this deployment (${known.length ? `it has: ${known.join(', ')}` : 'it has none'})`,
  )
}

/** Every symbol with a `ReserveFeed.<SYMBOL>` on some chain of the manifest. */
export function reserveSymbols(manifest: Manifest): string[] {
  const prefix = reserveFeedName('')
  return manifest.chains.flatMap((c) =>
    Object.keys(c.contracts)
      .filter((n) => n.startsWith(prefix) && n.length > prefix.length)
      .map((n) => n.slice(prefix.length)),
  )
}

/**
 * A reserve-backed token's state on its own chain (supply, the reserve feed and its age, the
 * breaker, `isBacked`), its reporter's last report, and what the hub's CollateralGate makes of it
 * (docs/settlement.md, reserve-backed tokens).
 */
export async function readReserveStatus(manifest: Manifest, symbol: string): Promise<ReserveStatusReport> {
  const entry = reserveChain(manifest, symbol)
  const token = entry.contracts[symbol] as Address | undefined
  if (!token)
    throw new ReserveStatusError(`${reserveFeedName(symbol)} on ${entry.name} has no token ${symbol} there`)
  const feed = entry.contracts[reserveFeedName(symbol)] as Address
  const client = createReadClient(entry)
  const tokenContract = { address: token, abi: reserveBackedTokenAbi } as const
  const [block, supply, decimals, breakerTripped, isBacked, maxFeedAge, feedDecimals, round] =
    await Promise.all([
      client.getBlock({ blockTag: 'latest' }),
      client.readContract({ ...tokenContract, functionName: 'totalSupply' }),
      client.readContract({ ...tokenContract, functionName: 'decimals' }),
      client.readContract({ ...tokenContract, functionName: 'breakerTripped' }),
      client.readContract({ ...tokenContract, functionName: 'isBacked' }),
      client.readContract({ ...tokenContract, functionName: 'maxFeedAge' }),
      client.readContract({ address: feed, abi: priceFeedAbi, functionName: 'decimals' }),
      client.readContract({ address: feed, abi: priceFeedAbi, functionName: 'latestRound' }),
    ])
  const time = Number(block.timestamp)
  const latest = round
    ? await client.readContract({ address: feed, abi: priceFeedAbi, functionName: 'latestRoundData' })
    : undefined
  // The feed's answer is whole tokens at its own decimals: in token units, rounded down as the token does.
  const reserves = latest
    ? decimals >= feedDecimals
      ? latest[1] * 10n ** BigInt(decimals - feedDecimals)
      : latest[1] / 10n ** BigInt(feedDecimals - decimals)
    : undefined
  const updatedAt = latest ? Number(latest[3]) : null
  const age = updatedAt === null ? null : time - updatedAt
  const tokens = (units: bigint) => formatUnits(units, decimals)

  return {
    symbol,
    chain: {
      name: entry.name,
      chainId: entry.chainId,
      token,
      feed,
      time,
      supply: tokens(supply),
      reserves: reserves === undefined ? null : tokens(reserves),
      headroom: reserves === undefined ? null : tokens(reserves - supply),
      feedRound: latest ? Number(latest[0]) : null,
      feedUpdatedAt: updatedAt,
      feedAgeSeconds: age,
      maxFeedAgeSeconds: Number(maxFeedAge),
      feedStale: age === null || age < 0 || age > Number(maxFeedAge),
      breakerTripped,
      isBacked,
    },
    reporter: await readReporter(entry, token, time),
    hub: await readGate(manifest, entry, token, tokens),
  }
}

async function readReporter(
  entry: ChainEntry,
  token: Address,
  time: number,
): Promise<ReserveStatusReport['reporter']> {
  const address = entry.contracts.ReserveReporter as Address | undefined
  if (!address) return null
  const client = createReadClient(entry)
  const contract = { address, abi: reserveReporterAbi } as const
  const [minInterval, [sentAt, backed, sent]] = await Promise.all([
    client.readContract({ ...contract, functionName: 'minInterval' }),
    client.readContract({ ...contract, functionName: 'lastReport', args: [token] }),
  ])
  return {
    address,
    minIntervalSeconds: Number(minInterval),
    lastReport: sent ? { sentAt: Number(sentAt), ageSeconds: time - Number(sentAt), backed } : null,
  }
}

async function readGate(
  manifest: Manifest,
  entry: ChainEntry,
  token: Address,
  tokens: (units: bigint) => string,
): Promise<ReserveStatusReport['hub']> {
  const hub = manifest.chains.find((c) => c.name === HUB)
  const gate = hub?.contracts.CollateralGate as Address | undefined
  if (!hub || !gate) return null
  const client = createReadClient(chainByName(manifest, HUB))
  const contract = { address: gate, abi: collateralGateAbi } as const
  const chainId = BigInt(entry.chainId)
  const [tracked, isEligible, status] = await Promise.all([
    client.readContract({ ...contract, functionName: 'isTracked', args: [chainId, token] }),
    client.readContract({ ...contract, functionName: 'isEligible', args: [chainId, token] }),
    client.readContract({ ...contract, functionName: 'statusOf', args: [chainId, token] }),
  ])
  return {
    gate,
    tracked,
    isEligible,
    status:
      status.observedAt === 0n
        ? null
        : {
            supply: tokens(status.supply),
            reserves: tokens(status.reserves),
            backed: status.backed,
            observedAt: Number(status.observedAt),
          },
  }
}
