import { type Address, encodeDeployData, encodeFunctionData, maxUint256, parseUnits } from 'viem'
import { burnMintERC20Abi, burnMintERC20Bytecode } from '../sdk/abi/BurnMintERC20.js'
import { burnMintPoolAbi, burnMintPoolBytecode } from '../sdk/abi/BurnMintPool.js'
import { collateralVaultAbi, collateralVaultBytecode } from '../sdk/abi/CollateralVault.js'
import { inboxAbi } from '../sdk/abi/Inbox.js'
import { latencyModelAbi, latencyModelBytecode } from '../sdk/abi/LatencyModel.js'
import { marginEngineAbi, marginEngineBytecode } from '../sdk/abi/MarginEngine.js'
import { outboxAbi } from '../sdk/abi/Outbox.js'
import { priceFeedAbi, priceFeedBytecode } from '../sdk/abi/PriceFeed.js'
import { reserveBackedTokenAbi, reserveBackedTokenBytecode } from '../sdk/abi/ReserveBackedToken.js'
import type { ChainEntry } from '../sdk/manifest.js'
import { call, deploy, type Step } from './steps.js'

/** Who signs prices, and how many of them may be faulty (n ≥ 3f + 1). */
export type MarginSetup = {
  oracles: readonly Address[]
  faulty: number
  /** Devnet: the keeper's account gets KEEPER_USDC on the hub to repay debt when it liquidates. */
  keeper?: Address
}

/** The chain that carries the margin engine; every other chain is a spoke with a vault. */
export const HUB_CHAIN = 'hub'

const WAD = 10n ** 18n
const wad = (value: number | string) => parseUnits(String(value), 18)

/** Collateral assets: risk parameters (docs/margin.md) and the spoke chains each one lives on. */
export const MARGIN_ASSETS = [
  {
    symbol: 'WETH',
    name: 'Wrapped Ether',
    decimals: 18,
    price: 3000,
    volatility: 0.7,
    ltv: 0.8,
    liquidationThreshold: 0.83,
    liquidationBonus: 1.05,
    chains: ['l1', 'base'],
  },
  {
    symbol: 'wstETH',
    name: 'Wrapped liquid staked Ether',
    decimals: 18,
    price: 3500,
    volatility: 0.72,
    ltv: 0.75,
    liquidationThreshold: 0.79,
    liquidationBonus: 1.06,
    chains: ['base'],
  },
  {
    symbol: 'WBTC',
    name: 'Wrapped Bitcoin',
    decimals: 8,
    price: 60_000,
    volatility: 0.6,
    ltv: 0.73,
    liquidationThreshold: 0.78,
    liquidationBonus: 1.07,
    chains: ['l1', 'bank'],
  },
  {
    // A tokenized T-bill: one token per $100 of face value, minted only against proven reserves,
    // held only by allowlisted institutions, and gated on the hub by its reserve status.
    symbol: 'TBILL',
    name: 'Tokenized T-Bill',
    decimals: 18,
    price: 99.5,
    volatility: 0.02,
    ltv: 0.9,
    liquidationThreshold: 0.93,
    liquidationBonus: 1.02,
    chains: ['bank'],
    reserveBacked: true,
  },
] as const

export type MarginAsset = (typeof MARGIN_ASSETS)[number]

/** Assets minted against a proof-of-reserve feed (ReserveBackedToken) rather than freely. */
export const RESERVE_ASSETS = MARGIN_ASSETS.filter((a) => 'reserveBacked' in a && a.reserveBacked)

/**
 * Devnet timing (seconds). Prices are pushed at least every PRICE_HEARTBEAT_S by the oracle nodes,
 * so a price older than heartbeat + grace means the oracle network is in trouble.
 */
export const PRICE_HEARTBEAT_S = 60
const PRICE_GRACE_S = 30
const PRICE_MAX_OBSERVATION_AGE_S = 120
const RELAY_TIME_S = 5
/** Bridge failure intensity and loss given failure: DESIGN §6's worked example. */
const BRIDGE_INTENSITY = wad('0.02')
const BRIDGE_LGD = WAD
/** The lending pool starts with this much USDC, supplied by the deployer. */
export const POOL_LIQUIDITY = parseUnits('10000000', 6)
export const KEEPER_USDC = parseUnits('1000000', 6)
/** Constructors that read another contract of the same block cannot be estimated: fixed gas. */
const ENGINE_DEPLOY_GAS = 8_000_000n

const seconds = (ms: number) => Math.ceil(ms / 1000)

/** Asset ids follow listing order: 1, 2, 3 … */
export const assetId = (symbol: string) => MARGIN_ASSETS.findIndex((a) => a.symbol === symbol) + 1

export const priceFeedName = (symbol: string) => `PriceFeed.${symbol}`
/** The proof-of-reserve feed of a reserve-backed asset, on the asset's own chain. */
export const reserveFeedName = (symbol: string) => `ReserveFeed.${symbol}`
/** A mint accepts a reserve report at most this old; the oracle nodes refresh it every heartbeat. */
export const RESERVE_MAX_AGE_S = 300
/** Gas for a ReserveBackedToken constructor: it reads its feed, deployed in the same block. */
const RESERVE_TOKEN_DEPLOY_GAS = 3_000_000n

/**
 * The margin stack's transactions on one chain. The hub gets USDC (burn/mint), a price feed per
 * asset, the MarginEngine (assets, spokes, timing, rate model) and the pool's first liquidity; a
 * spoke gets its collateral tokens, USDC with its pool, and a CollateralVault. No hub: nothing.
 */
export function planMargin(
  entry: ChainEntry,
  others: readonly ChainEntry[],
  setup: MarginSetup,
  guardian: Address,
  owner: Address,
): Step[] {
  const hub = entry.name === HUB_CHAIN ? entry : others.find((c) => c.name === HUB_CHAIN)
  if (!hub) return []
  return entry.name === HUB_CHAIN
    ? planHub(hub, others, setup, guardian, owner)
    : planSpoke(entry, hub, setup, guardian, owner)
}

function usdcSteps(me: string, owner: Address): Step[] {
  return [
    deploy('USDC', () =>
      encodeDeployData({
        abi: burnMintERC20Abi,
        bytecode: burnMintERC20Bytecode,
        args: ['USD Coin', 'USDC', 6, owner],
      }),
    ),
    deploy('USDCPool', (book) =>
      encodeDeployData({
        abi: burnMintPoolAbi,
        bytecode: burnMintPoolBytecode,
        args: [book(me, 'USDC'), book(me, 'Outbox'), book(me, 'Inbox')],
      }),
    ),
    call('USDC', 'setMinter(USDCPool)', (book) =>
      encodeFunctionData({
        abi: burnMintERC20Abi,
        functionName: 'setMinter',
        args: [book(me, 'USDCPool'), true],
      }),
    ),
    // The deployer is the devnet faucet.
    call('USDC', 'setMinter(deployer)', () =>
      encodeFunctionData({ abi: burnMintERC20Abi, functionName: 'setMinter', args: [owner, true] }),
    ),
    call('Outbox', 'setPool(USDC)', (book) =>
      encodeFunctionData({
        abi: outboxAbi,
        functionName: 'setPool',
        args: [book(me, 'USDC'), book(me, 'USDCPool')],
      }),
    ),
  ]
}

/** USDC sent from `source` arrives through this chain's pool: map the source's token to it. */
const usdcFrom = (me: string, source: ChainEntry): Step =>
  call('Inbox', `setPool(${source.name}, USDC)`, (book) =>
    encodeFunctionData({
      abi: inboxAbi,
      functionName: 'setPool',
      args: [BigInt(source.chainId), book(source.name, 'USDC'), book(me, 'USDCPool')],
    }),
  )

function planHub(
  hub: ChainEntry,
  spokes: readonly ChainEntry[],
  setup: MarginSetup,
  guardian: Address,
  owner: Address,
): Step[] {
  const me = hub.name
  const steps: Step[] = [...usdcSteps(me, owner), ...spokes.map((s) => usdcFrom(me, s))]
  for (const asset of MARGIN_ASSETS) {
    const feed = priceFeedName(asset.symbol)
    steps.push(
      deploy(feed, () =>
        encodeDeployData({
          abi: priceFeedAbi,
          bytecode: priceFeedBytecode,
          args: [owner, 8, `${asset.symbol} / USD`, PRICE_MAX_OBSERVATION_AGE_S],
        }),
      ),
      call(feed, 'setOracles', () =>
        encodeFunctionData({
          abi: priceFeedAbi,
          functionName: 'setOracles',
          args: [[...setup.oracles].sort(byAddress), setup.faulty],
        }),
      ),
    )
  }
  steps.push(
    deploy('LatencyModel', () => encodeDeployData({ abi: latencyModelAbi, bytecode: latencyModelBytecode })),
    deploy(
      'MarginEngine',
      (book) =>
        encodeDeployData({
          abi: marginEngineAbi,
          bytecode: marginEngineBytecode,
          args: [
            owner,
            guardian,
            book(me, 'Outbox'),
            book(me, 'Inbox'),
            BigInt(hub.chainId),
            book(me, 'USDC'),
            book(me, 'LatencyModel'),
          ],
        }),
      ENGINE_DEPLOY_GAS,
    ),
  )
  for (const asset of MARGIN_ASSETS) {
    steps.push(
      call('MarginEngine', `listAsset(${asset.symbol})`, (book) =>
        encodeFunctionData({
          abi: marginEngineAbi,
          functionName: 'listAsset',
          args: [
            {
              feed: book(me, priceFeedName(asset.symbol)),
              decimals: asset.decimals,
              heartbeat: PRICE_HEARTBEAT_S,
              ltv: wad(asset.ltv),
              liquidationThreshold: wad(asset.liquidationThreshold),
              liquidationBonus: wad(asset.liquidationBonus),
              volatility: wad(asset.volatility),
              theta: wad('0.005'),
              conf: 0n,
              unwindPerDay: 0n,
              supplyCap: 0n,
              enabled: true,
            },
          ],
        }),
      ),
    )
  }
  for (const spoke of spokes) {
    for (const asset of MARGIN_ASSETS.filter((a) => (a.chains as readonly string[]).includes(spoke.name))) {
      steps.push(
        call('MarginEngine', `setAssetToken(${spoke.name}, ${asset.symbol})`, (book) =>
          encodeFunctionData({
            abi: marginEngineAbi,
            functionName: 'setAssetToken',
            args: [BigInt(spoke.chainId), book(spoke.name, asset.symbol), assetId(asset.symbol)],
          }),
        ),
      )
    }
    steps.push(
      call('MarginEngine', `setChain(${spoke.name})`, (book) =>
        encodeFunctionData({
          abi: marginEngineAbi,
          functionName: 'setChain',
          args: [
            BigInt(spoke.chainId),
            {
              vault: book(spoke.name, 'CollateralVault'),
              finalityTime: seconds(spoke.finality.expectedMs),
              relayTime: RELAY_TIME_S,
              bridgeIntensity: BRIDGE_INTENSITY,
              bridgeLgd: BRIDGE_LGD,
              enabled: true,
            },
          ],
        }),
      ),
      call('Inbox', `setReceiver(${spoke.name}, MarginEngine)`, (book) =>
        encodeFunctionData({
          abi: inboxAbi,
          functionName: 'setReceiver',
          args: [BigInt(spoke.chainId), book(me, 'MarginEngine'), true],
        }),
      ),
    )
  }
  steps.push(
    call('MarginEngine', 'setGlobals', () =>
      encodeFunctionData({
        abi: marginEngineAbi,
        functionName: 'setGlobals',
        args: [
          {
            detectTime: Math.max(1, seconds(hub.blockTimeMs)),
            hubFinalityTime: seconds(hub.finality.expectedMs),
            grace: PRICE_GRACE_S,
            marginCallLevel: wad('1.1'),
            smallDebtUsd: wad(2000),
          },
        ],
      }),
    ),
    call('MarginEngine', 'setRateModel', () =>
      encodeFunctionData({
        abi: marginEngineAbi,
        functionName: 'setRateModel',
        args: [{ baseRate: 0n, slope1: wad('0.04'), slope2: wad('0.75'), kink: wad('0.8') }],
      }),
    ),
    call('USDC', 'mint(liquidity)', () =>
      encodeFunctionData({ abi: burnMintERC20Abi, functionName: 'mint', args: [owner, POOL_LIQUIDITY] }),
    ),
    call('USDC', 'approve(MarginEngine)', (book) =>
      encodeFunctionData({
        abi: burnMintERC20Abi,
        functionName: 'approve',
        args: [book(me, 'MarginEngine'), maxUint256],
      }),
    ),
    call('MarginEngine', 'supply', () =>
      encodeFunctionData({ abi: marginEngineAbi, functionName: 'supply', args: [POOL_LIQUIDITY] }),
    ),
  )
  const keeper = setup.keeper
  if (keeper) {
    steps.push(
      call('USDC', 'mint(keeper)', () =>
        encodeFunctionData({ abi: burnMintERC20Abi, functionName: 'mint', args: [keeper, KEEPER_USDC] }),
      ),
    )
  }
  return steps
}

function planSpoke(
  entry: ChainEntry,
  hub: ChainEntry,
  setup: MarginSetup,
  guardian: Address,
  owner: Address,
): Step[] {
  const me = entry.name
  const assets = MARGIN_ASSETS.filter((a) => (a.chains as readonly string[]).includes(me))
  const steps: Step[] = [...usdcSteps(me, owner), usdcFrom(me, hub)]
  for (const asset of assets) {
    if (RESERVE_ASSETS.includes(asset)) {
      steps.push(...reserveTokenSteps(asset, me, setup, owner))
      continue
    }
    steps.push(
      deploy(asset.symbol, () =>
        encodeDeployData({
          abi: burnMintERC20Abi,
          bytecode: burnMintERC20Bytecode,
          args: [asset.name, asset.symbol, asset.decimals, owner],
        }),
      ),
      call(asset.symbol, 'setMinter(deployer)', () =>
        encodeFunctionData({ abi: burnMintERC20Abi, functionName: 'setMinter', args: [owner, true] }),
      ),
    )
  }
  steps.push(
    deploy('CollateralVault', (book) =>
      encodeDeployData({
        abi: collateralVaultAbi,
        bytecode: collateralVaultBytecode,
        args: [
          owner,
          guardian,
          book(me, 'Outbox'),
          book(me, 'Inbox'),
          BigInt(hub.chainId),
          book(HUB_CHAIN, 'MarginEngine'),
        ],
      }),
    ),
    ...assets.map((asset) =>
      call('CollateralVault', `setToken(${asset.symbol})`, (book) =>
        encodeFunctionData({
          abi: collateralVaultAbi,
          functionName: 'setToken',
          args: [book(me, asset.symbol), true],
        }),
      ),
    ),
    call('Inbox', `setReceiver(${HUB_CHAIN}, CollateralVault)`, (book) =>
      encodeFunctionData({
        abi: inboxAbi,
        functionName: 'setReceiver',
        args: [BigInt(hub.chainId), book(me, 'CollateralVault'), true],
      }),
    ),
  )
  return steps
}

/**
 * A reserve-backed token: its proof-of-reserve feed (signed by the same oracle nodes as the prices,
 * answer = reserves in whole tokens, 8 decimals), then the token reading it. The deployer mints.
 */
function reserveTokenSteps(asset: MarginAsset, me: string, setup: MarginSetup, owner: Address): Step[] {
  const feed = reserveFeedName(asset.symbol)
  return [
    deploy(feed, () =>
      encodeDeployData({
        abi: priceFeedAbi,
        bytecode: priceFeedBytecode,
        args: [owner, 8, `${asset.symbol} reserves`, PRICE_MAX_OBSERVATION_AGE_S],
      }),
    ),
    call(feed, 'setOracles', () =>
      encodeFunctionData({
        abi: priceFeedAbi,
        functionName: 'setOracles',
        args: [[...setup.oracles].sort(byAddress), setup.faulty],
      }),
    ),
    deploy(
      asset.symbol,
      (book) =>
        encodeDeployData({
          abi: reserveBackedTokenAbi,
          bytecode: reserveBackedTokenBytecode,
          args: [asset.name, asset.symbol, asset.decimals, owner, book(me, feed), BigInt(RESERVE_MAX_AGE_S)],
        }),
      RESERVE_TOKEN_DEPLOY_GAS,
    ),
    call(asset.symbol, 'setMinter(deployer)', () =>
      encodeFunctionData({ abi: reserveBackedTokenAbi, functionName: 'setMinter', args: [owner, true] }),
    ),
  ]
}

const byAddress = (a: Address, b: Address) => (BigInt(a) < BigInt(b) ? -1 : 1)
