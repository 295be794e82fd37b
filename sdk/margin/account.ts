import { type Address, formatUnits, type Hex, isAddressEqual, type PublicClient } from 'viem'
import { aggregatorV3InterfaceAbi } from '../abi/AggregatorV3Interface.js'
import { collateralVaultAbi } from '../abi/CollateralVault.js'
import { marginEngineAbi } from '../abi/MarginEngine.js'
import { createReadClient } from '../client.js'
import { BaseError } from '../errors.js'
import { type ChainEntry, chainByName, type Manifest } from '../manifest.js'
import {
  type AccountHealth,
  type AssetRisk,
  accountHealth,
  type ChainRisk,
  type CollateralPosition,
  type RiskGlobals,
} from '../risk/lhf.js'

const USDC_DECIMALS = 6
/** The engine's LHF for an account without debt. */
const NO_DEBT = 2n ** 256n - 1n

export class MarginError extends BaseError {
  override name = 'MarginError'
}

/** The chain the margin engine lives on. */
export const HUB = 'hub'

export type MarginChains = { hub: ChainEntry; engine: Address; spokes: ChainEntry[] }

/** Where the margin engine and the vaults are in a deployment. */
export function marginChains(manifest: Manifest): MarginChains {
  const hub = chainByName(manifest, HUB)
  const engine = hub.contracts.MarginEngine as Address | undefined
  if (!engine) throw new MarginError(`no MarginEngine on ${HUB}: this deployment has no margin stack`)
  const spokes = manifest.chains.filter((c) => c.name !== HUB && c.contracts.CollateralVault)
  return { hub, engine, spokes }
}

/** The contract name a token address has on `chain` (e.g. "WETH"), or the address. */
export function tokenSymbol(chain: ChainEntry, token: Address): string {
  const hit = Object.entries(chain.contracts).find(([, a]) => isAddressEqual(a as Address, token))
  return hit ? hit[0] : token
}

/** A token's address on a chain by its symbol, with a clear error naming what exists. */
export function tokenAddress(chain: ChainEntry, symbol: string): Address {
  const address = chain.contracts[symbol] as Address | undefined
  if (address) return address
  const known = Object.keys(chain.contracts).filter(
    (n) => /^[A-Za-z]{3,8}$/.test(n) && n !== 'Inbox' && n !== 'Outbox',
  )
  throw new MarginError(`no token "${symbol}" on ${chain.name} (it has: ${known.join(', ')})`)
}

export type PositionReport = {
  chain: string
  chainId: number
  symbol: string
  token: Address
  amount: string
  /** Final on its chain (credited on the hub), or a deposit still in flight. */
  final: boolean
  messageId?: Hex
  sourceTime: number
  priceUsd: number
  priceAgeSeconds: number
  valueUsd: number
  /** λ as the engine computes it (0 for in-flight deposits). */
  lambda: number
  /** The risk engine's view: λ, horizon, oracle error, bridge loss, freshness. */
  horizonSeconds: number
  oracleError: number
  bridgeLoss: number
  fresh: boolean
}

export type AccountReport = {
  account: Address
  hubTime: number
  debtUsdc: string
  /** On-chain figures (the engine's fixed point); null = no debt (infinite). */
  lhf: number | null
  borrowHf: number | null
  collateralUsd: number
  liquidationValueUsd: number
  borrowPowerUsd: number
  marginCallLevel: number
  positions: PositionReport[]
  /** The same account through the floating-point risk engine, in-flight deposits included (w = 0). */
  risk: Pick<AccountHealth, 'lhf' | 'borrowHf' | 'aaveHf'>
}

const ratio = (wad: bigint) => Number(wad) / 1e18

/**
 * Reads an account's margin state: the engine's own numbers (authoritative), each position's
 * breakdown through the TypeScript risk engine, and deposits locked on a spoke but not yet credited
 * (they count for nothing until their chain makes them final and the credit arrives).
 */
export async function readAccount(manifest: Manifest, account: Address): Promise<AccountReport> {
  const { hub, engine, spokes } = marginChains(manifest)
  const client = publicOf(hub)
  const contract = { address: engine, abi: marginEngineAbi } as const
  const [block, health, views, debt, globals] = await Promise.all([
    client.getBlock({ blockTag: 'latest' }),
    client.readContract({ ...contract, functionName: 'healthOf', args: [account] }),
    client.readContract({ ...contract, functionName: 'positionsOf', args: [account] }),
    client.readContract({ ...contract, functionName: 'debtOf', args: [account] }),
    client.readContract({ ...contract, functionName: 'globalParams' }),
  ])
  const now = Number(block.timestamp)
  const riskGlobals: RiskGlobals = {
    detectTime: globals.detectTime,
    hubFinalityTime: globals.hubFinalityTime,
    grace: globals.grace,
  }
  const chainRisk = new Map<number, ChainRisk>()
  const assetRisk = new Map<number, AssetRisk>()
  const chainOf = async (chainId: number) => {
    if (!chainRisk.has(chainId)) {
      const p = await client.readContract({
        ...contract,
        functionName: 'chainParams',
        args: [BigInt(chainId)],
      })
      chainRisk.set(chainId, {
        relayTime: p.relayTime,
        bridgeIntensity: ratio(p.bridgeIntensity),
        bridgeLgd: ratio(p.bridgeLgd),
      })
    }
    return chainRisk.get(chainId)!
  }
  const assetOf = async (assetId: number) => {
    if (!assetRisk.has(assetId)) {
      const [p] = await client.readContract({ ...contract, functionName: 'assetParams', args: [assetId] })
      assetRisk.set(assetId, {
        ltv: ratio(p.ltv),
        liquidationThreshold: ratio(p.liquidationThreshold),
        liquidationBonus: ratio(p.liquidationBonus),
        volatility: ratio(p.volatility),
        theta: ratio(p.theta),
        conf: ratio(p.conf),
        heartbeat: p.heartbeat,
        unwindPerDay: Number(p.unwindPerDay),
        decimals: p.decimals,
      })
    }
    return assetRisk.get(assetId)!
  }

  const inputs: CollateralPosition[] = []
  const rows: Omit<
    PositionReport,
    'horizonSeconds' | 'oracleError' | 'bridgeLoss' | 'fresh' | 'lambda' | 'valueUsd'
  >[] = []
  const lambdas: number[] = []
  for (const v of views) {
    const chainId = Number(v.chainId)
    const chain = manifest.chains.find((c) => c.chainId === chainId)
    const asset = await assetOf(v.assetId)
    inputs.push({
      amount: v.amount,
      price: v.price,
      priceDecimals: 18,
      updatedAt: now - Number(v.priceAge),
      final: true,
      asset,
      chain: await chainOf(chainId),
    })
    lambdas.push(ratio(v.lambda))
    rows.push({
      chain: chain?.name ?? String(chainId),
      chainId,
      symbol: chain ? tokenSymbol(chain, v.token) : v.token,
      token: v.token,
      amount: formatUnits(v.amount, asset.decimals),
      final: true,
      sourceTime: Number(v.sourceTime),
      priceUsd: ratio(v.price),
      priceAgeSeconds: Number(v.priceAge),
    })
  }
  // In-flight deposits: the same asset's price as a credited position when there is one.
  for (const pending of await pendingDeposits(spokes, hub, engine, account)) {
    const assetId = await client.readContract({
      ...contract,
      functionName: 'assetOf',
      args: [BigInt(pending.chain.chainId), pending.token],
    })
    if (!assetId) continue
    const asset = await assetOf(assetId)
    const [params] = await client.readContract({ ...contract, functionName: 'assetParams', args: [assetId] })
    const round = (await client.readContract({
      address: params.feed,
      abi: aggregatorV3InterfaceAbi,
      functionName: 'latestRoundData',
    })) as readonly [bigint, bigint, bigint, bigint, bigint]
    const decimals = (await client.readContract({
      address: params.feed,
      abi: aggregatorV3InterfaceAbi,
      functionName: 'decimals',
    })) as number
    inputs.push({
      amount: pending.amount,
      price: round[1],
      priceDecimals: decimals,
      updatedAt: Number(round[3]),
      final: false,
      asset,
      chain: await chainOf(pending.chain.chainId),
    })
    lambdas.push(0)
    rows.push({
      chain: pending.chain.name,
      chainId: pending.chain.chainId,
      symbol: tokenSymbol(pending.chain, pending.token),
      token: pending.token,
      amount: formatUnits(pending.amount, asset.decimals),
      final: false,
      messageId: pending.messageId,
      sourceTime: pending.depositedAt,
      priceUsd: Number(formatUnits(round[1], decimals)),
      priceAgeSeconds: Math.max(0, now - Number(round[3])),
    })
  }
  const debtUsd = Number(formatUnits(debt, USDC_DECIMALS))
  const risk = accountHealth(inputs, debtUsd, riskGlobals, now)
  return {
    account,
    hubTime: now,
    debtUsdc: formatUnits(debt, USDC_DECIMALS),
    lhf: health.lhf === NO_DEBT ? null : ratio(health.lhf),
    borrowHf: health.borrowHf === NO_DEBT ? null : ratio(health.borrowHf),
    collateralUsd: ratio(health.collateralUsd),
    liquidationValueUsd: ratio(health.liquidationValueUsd),
    borrowPowerUsd: ratio(health.borrowPowerUsd),
    marginCallLevel: ratio(globals.marginCallLevel),
    positions: rows.map((row, i) => {
      const r = risk.positions[i]!
      return {
        ...row,
        valueUsd: r.valueUsd,
        lambda: lambdas[i]!,
        horizonSeconds: r.horizonSeconds,
        oracleError: r.oracleError,
        bridgeLoss: r.bridgeLoss,
        fresh: r.fresh,
      }
    }),
    risk: { lhf: risk.lhf, borrowHf: risk.borrowHf, aaveHf: risk.aaveHf },
  }
}

type PendingDeposit = {
  chain: ChainEntry
  token: Address
  amount: bigint
  messageId: Hex
  depositedAt: number
}

/** Deposits a vault locked for `account` whose credit has not (yet) reached the hub. */
async function pendingDeposits(
  spokes: readonly ChainEntry[],
  hub: ChainEntry,
  engine: Address,
  account: Address,
): Promise<PendingDeposit[]> {
  const credited = await publicOf(hub).getContractEvents({
    address: engine,
    abi: marginEngineAbi,
    eventName: 'Credited',
    args: { account },
    fromBlock: BigInt(hub.deployBlock ?? 0),
    strict: true,
  })
  const done = new Set(credited.map((e) => e.args.messageId.toLowerCase()))
  const refunded = await publicOf(hub).getContractEvents({
    address: engine,
    abi: marginEngineAbi,
    eventName: 'CreditRefunded',
    args: { account },
    fromBlock: BigInt(hub.deployBlock ?? 0),
    strict: true,
  })
  const perSpoke = await Promise.all(
    spokes.map(async (chain) => {
      const client = publicOf(chain)
      const logs = await client.getContractEvents({
        address: chain.contracts.CollateralVault as Address,
        abi: collateralVaultAbi,
        eventName: 'Deposited',
        args: { account },
        fromBlock: BigInt(chain.deployBlock ?? 0),
        strict: true,
      })
      const out: PendingDeposit[] = []
      for (const log of logs) {
        if (done.has(log.args.messageId.toLowerCase())) continue
        // A refused credit comes back as a refund of the same amount from that chain: not pending.
        const refund = refunded.findIndex(
          (r) =>
            Number(r.args.chainId) === chain.chainId &&
            isAddressEqual(r.args.token, log.args.token) &&
            r.args.amount === log.args.received,
        )
        if (refund >= 0) {
          refunded.splice(refund, 1)
          continue
        }
        const block = await client.getBlock({ blockNumber: log.blockNumber })
        out.push({
          chain,
          token: log.args.token,
          amount: log.args.received,
          messageId: log.args.messageId,
          depositedAt: Number(block.timestamp),
        })
      }
      return out
    }),
  )
  return perSpoke.flat()
}

const clients = new Map<string, PublicClient>()
function publicOf(chain: ChainEntry): PublicClient {
  let client = clients.get(chain.rpcUrl)
  if (!client) {
    client = createReadClient(chain) as PublicClient
    clients.set(chain.rpcUrl, client)
  }
  return client
}
