/**
 * Aave v3's half of the side-by-side margin gas benchmark: Aave's own contracts, deployed from the
 * Hardhat artifacts that ship in the pinned `@aave/core-v3` (solc 0.8.10, optimizer 100,000 runs,
 * evmVersion london), on the chain Isthmus is measured on, so both run on the same EVM and hardfork.
 * Every figure is a receipt's `gasUsed`.
 *
 * Chain flags: none; start anvil as for Isthmus. Every runtime fits EIP-170's 24,576 bytes (the
 * largest, PoolConfigurator, is 24,267; Pool 21,673), every initcode EIP-3860's 49,152, the
 * largest deployment takes 5.25M gas (under Osaka's 16,777,216 per-transaction cap, which anvil
 * only enforces with `--enable-tx-gas-limit`, and that passes too), and london bytecode has no
 * PUSH0 or newer opcodes. Checked on anvil 1.7.1: its default hardfork (Bpo1, after Osaka),
 * `--hardfork osaka --enable-tx-gas-limit`, `prague` and `cancun` all deploy it and give the same
 * figures. No `--code-size-limit` / `--disable-code-size-limit` / `--hardfork` is needed. The
 * chain must answer `evm_increaseTime` (anvil does; see below why), and may automine or mine at
 * an interval: the figures are the same either way.
 *
 * What is deployed, and why (sources under node_modules/@aave/core-v3/contracts):
 * - PoolAddressesProvider (owner: deployer), with the deployer as ACL admin; ACLManager, where the
 *   deployer gets POOL_ADMIN (every PoolConfigurator call below needs it, and AaveOracle's
 *   setAssetSources too) and EMERGENCY_ADMIN.
 * - The Pool's external libraries SupplyLogic, BorrowLogic, LiquidationLogic, EModeLogic,
 *   BridgeLogic, PoolLogic and FlashLoanLogic (which itself links BorrowLogic), linked into the Pool
 *   implementation, and ConfiguratorLogic into PoolConfigurator's, at the artifacts'
 *   `linkReferences` offsets. Both go behind the provider's proxies (setPoolImpl /
 *   setPoolConfiguratorImpl deploy an InitializableImmutableAdminUpgradeabilityProxy and call
 *   `initialize(provider)`), so every user call pays the proxy's delegatecall as on mainnet.
 * - AaveOracle in USD (base currency 0x0, unit 1e8, no fallback oracle) with one MockAggregator
 *   (Aave's mock with a fixed `latestAnswer`) per asset: WETH $2,000, USDC $1. The price drop
 *   before the liquidation is a new MockAggregator at $1,800 set with `setAssetSources`, which to
 *   the Pool is what a feed update is: it only reads `latestAnswer`.
 * - WETH (18 decimals) and USDC (6) as Aave's MintableERC20 mock; AToken, StableDebtToken and
 *   VariableDebtToken implementations, one DefaultReserveInterestRateStrategy per reserve with
 *   Ethereum-market-like curves, listed with PoolConfigurator.initReserves (which puts each token
 *   behind its own proxy). No incentives controller (address 0): the tokens skip `handleAction`,
 *   the rewards hook Aave's Ethereum market runs on every balance change.
 * - WETH: collateral with LTV 80%, liquidation threshold 82.5%, bonus 105%, and borrowable; USDC:
 *   borrowable, not collateral. Variable rate only (stable borrowing stays off, as in v3.0
 *   markets). No caps, e-mode, isolation mode or price-oracle sentinel; AaveProtocolDataProvider
 *   is not deployed (the Pool never reads it).
 * - Reserve factor and liquidation protocol fee stay at initReserves' 0, which is also what the
 *   reference figures fit (with the fees below liquidationCall is 399k, +21%). Aave's Ethereum
 *   market charges both; measured here with reserve factors 15% (WETH) /
 *   10% (USDC) and a 10% liquidation protocol fee: steady-state supply +5.7k gas, liquidationCall
 *   +51k (the protocol's cut of the bonus moves as aWETH to the treasury, here to a fresh balance),
 *   first supply and borrow +22.8k each, which is each reserve's first treasury accrual filling a
 *   fresh slot, a cost a live market no longer pays.
 *
 * What is measured, in this order; before every Pool call the clock moves 12 s (one slot,
 * evm_increaseTime), so the call lands in a block later than any earlier update of the reserves it
 * touches. That matters: a reserve already updated at the block's timestamp skips `updateState`
 * (no index or treasury update), and anvil stamps blocks with the wall clock, so consecutive
 * blocks often share a second and without this the figures would change from run to run. Only
 * "later or not" changes gas, not by how much.
 * - Market: the supplier supplies 1,000,000 USDC and 100 WETH and borrows 100,000 USDC and 10 WETH
 *   against its WETH, so both reserves have liquidity, debt and non-zero rates, and every measured
 *   call moves both indexes as on a live market.
 * - supplyFirst: the borrower's first supply, 10 WETH. Being its first, it also writes the user's
 *   aToken balance from zero and turns the user's collateral flag on
 *   (validateAutomaticUseAsCollateral + the first user-configuration write): 194,522 gas.
 * - supply: the borrower supplies 10 WETH more (a top-up, the steady state): 153,045 gas. This is
 *   the figure that matches the reference 144,560; every first supply measured (with or without
 *   debt in the market, time passing or not, fees or not) was 175k–217k, so the reference was not
 *   a user's first supply.
 * - borrow: the borrower's first variable-rate borrow, 30,000 USDC against its 20 WETH (health
 *   factor 1.1), so it also writes its debt balance and borrowing flag from zero: 247,096 gas.
 * - liquidationCall: WETH falls to $1,800 (health factor 0.99, so the close factor is 50%); a
 *   liquidator repays 10,000 USDC of the debt and takes 5.83 WETH (the 5% bonus included) in the
 *   underlying (receiveAToken false), its first WETH: 348,463 gas.
 * Neither the borrower nor the liquidator empties its token balance in a measured call (that would
 * earn a 4,800-gas SSTORE refund on the token, which says nothing about Aave).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hash,
  type Hex,
  type LocalAccount,
  type PublicClient,
  parseAbi,
  parseEventLogs,
  parseUnits,
  type TransactionReceipt,
  type Transport,
  testActions,
  type WalletClient,
} from 'viem'
import { BaseError } from '../../sdk/errors.js'
import type { ResultRow } from '../lib/results.js'

export class AaveBenchError extends BaseError {
  override name = 'AaveBenchError'
}

/** Measured before this way (Aave's npm contracts on anvil), for the ±15% sanity check. */
export const AAVE_REFERENCE = { supply: 144_560n, borrow: 244_615n, liquidationCall: 328_812n } as const

// ---------------------------------------------------------------------------------------------
// Artifacts and library linking
// ---------------------------------------------------------------------------------------------

type LinkReferences = Record<string, Record<string, readonly { start: number; length: number }[]>>

export type AaveArtifact = {
  contractName: string
  sourceName: string
  abi: Abi
  bytecode: Hex
  linkReferences: LinkReferences
}

const packageDir = dirname(createRequire(import.meta.url).resolve('@aave/core-v3/package.json'))

export const AAVE_VERSION: string = (
  JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }
).version

/** `source` is the path under contracts/ without `.sol`, e.g. `protocol/pool/Pool`. */
export function loadAaveArtifact(
  source: string,
  name = source.slice(source.lastIndexOf('/') + 1),
): AaveArtifact {
  const path = join(packageDir, 'artifacts/contracts', `${source}.sol`, `${name}.json`)
  const artifact = JSON.parse(readFileSync(path, 'utf8')) as AaveArtifact
  if (!artifact.bytecode || artifact.bytecode === '0x') throw new AaveBenchError(`${name} has no bytecode`)
  return artifact
}

/**
 * Writes each library's address over its placeholders at the offsets the artifact lists (byte
 * offsets into the creation code, 20 bytes each). Hardhat's placeholders are
 * `__$` + keccak256("<source>:<name>")[0:34 hex] + `$__`; the offsets avoid recomputing that, and
 * every placeholder must be covered, so a missing library fails here instead of deploying
 * bytecode that reverts on its first delegatecall.
 */
export function linkBytecode(
  artifact: AaveArtifact,
  libraries: Readonly<Partial<Record<string, Address>>>,
): Hex {
  let code = artifact.bytecode.slice(2)
  for (const [source, names] of Object.entries(artifact.linkReferences)) {
    for (const [name, references] of Object.entries(names)) {
      const address = libraries[name]
      if (!address) throw new AaveBenchError(`${artifact.contractName} needs library ${source}:${name}`)
      for (const { start, length } of references) {
        if (length !== 20) throw new AaveBenchError(`${artifact.contractName}: link of ${length} bytes`)
        const at = start * 2
        if (!code.startsWith('__$', at))
          throw new AaveBenchError(`${artifact.contractName}: no placeholder for ${name} at byte ${start}`)
        code = code.slice(0, at) + address.slice(2).toLowerCase() + code.slice(at + 40)
      }
    }
  }
  if (code.includes('__$')) throw new AaveBenchError(`${artifact.contractName}: unlinked placeholder left`)
  return `0x${code}`
}

const artifacts = {
  addressesProvider: loadAaveArtifact('protocol/configuration/PoolAddressesProvider'),
  aclManager: loadAaveArtifact('protocol/configuration/ACLManager'),
  pool: loadAaveArtifact('protocol/pool/Pool'),
  poolConfigurator: loadAaveArtifact('protocol/pool/PoolConfigurator'),
  oracle: loadAaveArtifact('misc/AaveOracle'),
  aggregator: loadAaveArtifact('mocks/oracle/CLAggregators/MockAggregator'),
  token: loadAaveArtifact('mocks/tokens/MintableERC20'),
  aToken: loadAaveArtifact('protocol/tokenization/AToken'),
  stableDebtToken: loadAaveArtifact('protocol/tokenization/StableDebtToken'),
  variableDebtToken: loadAaveArtifact('protocol/tokenization/VariableDebtToken'),
  rateStrategy: loadAaveArtifact('protocol/pool/DefaultReserveInterestRateStrategy'),
}

// The functions this file calls, typed for viem (the artifacts' JSON ABIs are untyped).
const providerAbi = parseAbi([
  'function setACLAdmin(address newAclAdmin)',
  'function setACLManager(address newAclManager)',
  'function setPoolImpl(address newPoolImpl)',
  'function setPoolConfiguratorImpl(address newPoolConfiguratorImpl)',
  'function setPriceOracle(address newPriceOracle)',
  'function getPool() view returns (address)',
  'function getPoolConfigurator() view returns (address)',
])
const aclAbi = parseAbi(['function addPoolAdmin(address admin)', 'function addEmergencyAdmin(address admin)'])
const configuratorAbi = parseAbi([
  'struct InitReserveInput { address aTokenImpl; address stableDebtTokenImpl; address variableDebtTokenImpl; uint8 underlyingAssetDecimals; address interestRateStrategyAddress; address underlyingAsset; address treasury; address incentivesController; string aTokenName; string aTokenSymbol; string variableDebtTokenName; string variableDebtTokenSymbol; string stableDebtTokenName; string stableDebtTokenSymbol; bytes params; }',
  'function initReserves(InitReserveInput[] input)',
  'function configureReserveAsCollateral(address asset, uint256 ltv, uint256 liquidationThreshold, uint256 liquidationBonus)',
  'function setReserveBorrowing(address asset, bool enabled)',
  'event ReserveInitialized(address indexed asset, address indexed aToken, address stableDebtToken, address variableDebtToken, address interestRateStrategyAddress)',
])
const oracleAbi = parseAbi(['function setAssetSources(address[] assets, address[] sources)'])
export const aavePoolAbi = parseAbi([
  'function supply(address asset, uint256 amount, address onBehalfOf, uint16 referralCode)',
  'function borrow(address asset, uint256 amount, uint256 interestRateMode, uint16 referralCode, address onBehalfOf)',
  'function liquidationCall(address collateralAsset, address debtAsset, address user, uint256 debtToCover, bool receiveAToken)',
  'function getUserAccountData(address user) view returns (uint256 totalCollateralBase, uint256 totalDebtBase, uint256 availableBorrowsBase, uint256 currentLiquidationThreshold, uint256 ltv, uint256 healthFactor)',
  'event LiquidationCall(address indexed collateralAsset, address indexed debtAsset, address indexed user, uint256 debtToCover, uint256 liquidatedCollateralAmount, address liquidator, bool receiveAToken)',
])
const tokenAbi = parseAbi([
  'function mint(address account, uint256 value) returns (bool)',
  'function approve(address spender, uint256 amount) returns (bool)',
  'function balanceOf(address account) view returns (uint256)',
])

// ---------------------------------------------------------------------------------------------
// Market parameters
// ---------------------------------------------------------------------------------------------

const RAY = 10n ** 27n
const ray = (percent: number) => (BigInt(Math.round(percent * 100)) * RAY) / 10_000n
/** Basis points, as PoolConfigurator takes them (10_000 = 100%). */
const bps = (percent: number) => BigInt(Math.round(percent * 100))
/** AaveOracle's USD prices have 8 decimals. */
const usd = (dollars: number) => BigInt(dollars) * 10n ** 8n

export const AAVE_MARKET = {
  weth: {
    decimals: 18,
    price: usd(2_000),
    ltv: bps(80),
    liquidationThreshold: bps(82.5),
    liquidationBonus: bps(105),
    // optimal usage, base, slope 1, slope 2, stable slope 1 and 2, stable offset, excess offset, optimal stable ratio
    rates: [ray(80), 0n, ray(3.8), ray(80), ray(4), ray(80), ray(2), ray(8), ray(20)],
  },
  usdc: {
    decimals: 6,
    price: usd(1),
    rates: [ray(90), 0n, ray(4), ray(60), ray(0.5), ray(60), ray(1), ray(8), ray(20)],
  },
  /** WETH's price after the drop that makes the borrower liquidatable (health factor 0.99). */
  wethCrashPrice: usd(1_800),
  amounts: {
    supplierUsdc: parseUnits('1000000', 6),
    supplierWeth: parseUnits('100', 18),
    supplierUsdcDebt: parseUnits('100000', 6),
    supplierWethDebt: parseUnits('10', 18),
    /** More than the borrower supplies, so no supply empties its WETH balance (no SSTORE refund). */
    borrowerWeth: parseUnits('25', 18),
    wethSupply: parseUnits('10', 18),
    /** Against 20 WETH at $2,000: health factor 40,000 × 0.825 / 30,000 = 1.1. */
    usdcBorrow: parseUnits('30000', 6),
    /** Likewise more than the liquidator repays. */
    liquidatorUsdc: parseUnits('20000', 6),
    usdcRepaid: parseUnits('10000', 6),
  },
} as const

const VARIABLE_RATE = 2n
/** Seconds between measured transactions: one Ethereum slot. */
const SLOT_SECONDS = 12

// ---------------------------------------------------------------------------------------------
// Deployment
// ---------------------------------------------------------------------------------------------

export type AaveClients = {
  public: PublicClient<Transport, Chain>
  /** The deployer: owner of the market and its pool admin. */
  wallet: WalletClient<Transport, Chain, Account>
}

export type AaveAccounts = { supplier: LocalAccount; borrower: LocalAccount; liquidator: LocalAccount }

/** In deployment order: FlashLoanLogic links BorrowLogic, Pool all but ConfiguratorLogic. */
const LIBRARIES = [
  'SupplyLogic',
  'BorrowLogic',
  'LiquidationLogic',
  'EModeLogic',
  'BridgeLogic',
  'PoolLogic',
  'FlashLoanLogic',
  'ConfiguratorLogic',
] as const
export type AaveLibrary = (typeof LIBRARIES)[number]

/** Every address is a contract of the market except `treasury` (the deployer's account). */
export type AaveDeployment = {
  addressesProvider: Address
  aclManager: Address
  pool: Address
  poolImpl: Address
  poolConfigurator: Address
  poolConfiguratorImpl: Address
  oracle: Address
  weth: Address
  usdc: Address
  aWeth: Address
  aUsdc: Address
  variableDebtUsdc: Address
  treasury: Address
} & Record<AaveLibrary, Address>

export type AaveMeasurement = {
  /** The borrower's second supply of WETH (a top-up): the steady-state supply. */
  supply: bigint
  /** The borrower's first supply of WETH, which also turns its collateral flag on. */
  supplyFirst: bigint
  /** The borrower's first borrow (sets its borrowing flag) from a reserve with other debt. */
  borrow: bigint
  liquidationCall: bigint
  /** What the liquidation moved: USDC repaid, and WETH the liquidator received. */
  liquidation: { debtCovered: bigint; collateralReceived: bigint }
  deployed: AaveDeployment
}

async function mined(clients: AaveClients, hash: Hash, what: string): Promise<TransactionReceipt> {
  const receipt = await clients.public.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new AaveBenchError(`${what} (${hash}) reverted`)
  return receipt
}

async function deploy(
  clients: AaveClients,
  artifact: AaveArtifact,
  args: readonly unknown[] = [],
  libraries: Readonly<Partial<Record<string, Address>>> = {},
): Promise<Address> {
  const hash = await clients.wallet.deployContract({
    abi: artifact.abi,
    bytecode: linkBytecode(artifact, libraries),
    args,
  })
  const { contractAddress } = await mined(clients, hash, `deploying ${artifact.contractName}`)
  if (!contractAddress) throw new AaveBenchError(`deploying ${artifact.contractName} created no contract`)
  return contractAddress
}

type Nonpayable<abi extends Abi> = ContractFunctionName<abi, 'nonpayable'>

/** Sends a call from `account` (default: the deployer), waits for it, and returns its receipt. */
async function send<const abi extends Abi, functionName extends Nonpayable<abi>>(
  clients: AaveClients,
  what: string,
  request: {
    address: Address
    abi: abi
    functionName: functionName
    args: ContractFunctionArgs<abi, 'nonpayable', functionName>
    account?: Account
  },
): Promise<TransactionReceipt> {
  // Call sites are checked against the typed ABIs above; viem's own generics cannot follow a
  // functionName that is itself a type parameter, hence the widening here.
  const hash = await clients.wallet.writeContract(
    request as unknown as Parameters<typeof clients.wallet.writeContract>[0],
  )
  return mined(clients, hash, what)
}

/** Deploys a minimal Aave v3 market (see the header comment) with WETH and USDC listed. */
export async function deployAave(clients: AaveClients): Promise<AaveDeployment> {
  const deployer = clients.wallet.account.address
  const treasury = deployer

  const addressesProvider = await deploy(clients, artifacts.addressesProvider, ['Isthmus bench', deployer])
  const callProvider = (functionName: Nonpayable<typeof providerAbi>, arg: Address) =>
    send(clients, `PoolAddressesProvider.${functionName}`, {
      address: addressesProvider,
      abi: providerAbi,
      functionName,
      args: [arg],
    })
  await callProvider('setACLAdmin', deployer)
  const aclManager = await deploy(clients, artifacts.aclManager, [addressesProvider])
  await callProvider('setACLManager', aclManager)
  for (const functionName of ['addPoolAdmin', 'addEmergencyAdmin'] as const)
    await send(clients, `ACLManager.${functionName}`, {
      address: aclManager,
      abi: aclAbi,
      functionName,
      args: [deployer],
    })

  const libraries: Partial<Record<AaveLibrary, Address>> = {}
  for (const name of LIBRARIES) {
    libraries[name] = await deploy(
      clients,
      loadAaveArtifact(`protocol/libraries/logic/${name}`),
      [],
      libraries,
    )
  }
  const poolImpl = await deploy(clients, artifacts.pool, [addressesProvider], libraries)
  await callProvider('setPoolImpl', poolImpl)
  const poolConfiguratorImpl = await deploy(clients, artifacts.poolConfigurator, [], libraries)
  await callProvider('setPoolConfiguratorImpl', poolConfiguratorImpl)
  const read = (functionName: 'getPool' | 'getPoolConfigurator') =>
    clients.public.readContract({ address: addressesProvider, abi: providerAbi, functionName })
  const pool = await read('getPool')
  const poolConfigurator = await read('getPoolConfigurator')

  const { weth: wethParams, usdc: usdcParams } = AAVE_MARKET
  const weth = await deploy(clients, artifacts.token, ['Wrapped Ether', 'WETH', wethParams.decimals])
  const usdc = await deploy(clients, artifacts.token, ['USD Coin', 'USDC', usdcParams.decimals])
  const wethFeed = await deploy(clients, artifacts.aggregator, [wethParams.price])
  const usdcFeed = await deploy(clients, artifacts.aggregator, [usdcParams.price])
  const zero: Address = '0x0000000000000000000000000000000000000000'
  const oracle = await deploy(clients, artifacts.oracle, [
    addressesProvider,
    [weth, usdc],
    [wethFeed, usdcFeed],
    zero, // no fallback oracle
    zero, // base currency USD
    usd(1),
  ])
  await callProvider('setPriceOracle', oracle)

  const aTokenImpl = await deploy(clients, artifacts.aToken, [pool])
  const stableDebtTokenImpl = await deploy(clients, artifacts.stableDebtToken, [pool])
  const variableDebtTokenImpl = await deploy(clients, artifacts.variableDebtToken, [pool])
  const reserveInput = async (
    asset: Address,
    symbol: string,
    decimals: number,
    rates: readonly bigint[],
  ) => ({
    aTokenImpl,
    stableDebtTokenImpl,
    variableDebtTokenImpl,
    underlyingAssetDecimals: decimals,
    interestRateStrategyAddress: await deploy(clients, artifacts.rateStrategy, [addressesProvider, ...rates]),
    underlyingAsset: asset,
    treasury,
    incentivesController: zero,
    aTokenName: `Aave ${symbol}`,
    aTokenSymbol: `a${symbol}`,
    variableDebtTokenName: `Aave Variable Debt ${symbol}`,
    variableDebtTokenSymbol: `variableDebt${symbol}`,
    stableDebtTokenName: `Aave Stable Debt ${symbol}`,
    stableDebtTokenSymbol: `stableDebt${symbol}`,
    params: '0x' as Hex,
  })
  const initReceipt = await send(clients, 'PoolConfigurator.initReserves', {
    address: poolConfigurator,
    abi: configuratorAbi,
    functionName: 'initReserves',
    args: [
      [
        await reserveInput(weth, 'WETH', wethParams.decimals, wethParams.rates),
        await reserveInput(usdc, 'USDC', usdcParams.decimals, usdcParams.rates),
      ],
    ],
  })
  const reserves = parseEventLogs({
    abi: configuratorAbi,
    eventName: 'ReserveInitialized',
    logs: initReceipt.logs,
  })
  const reserveOf = (asset: Address) => {
    const event = reserves.find((r) => r.args.asset.toLowerCase() === asset.toLowerCase())
    if (!event) throw new AaveBenchError(`initReserves listed no reserve for ${asset}`)
    return event.args
  }

  const configure = <F extends Nonpayable<typeof configuratorAbi>>(
    functionName: F,
    args: ContractFunctionArgs<typeof configuratorAbi, 'nonpayable', F>,
  ) =>
    send(clients, `PoolConfigurator.${functionName}`, {
      address: poolConfigurator,
      abi: configuratorAbi,
      functionName,
      args,
    })
  await configure('configureReserveAsCollateral', [
    weth,
    wethParams.ltv,
    wethParams.liquidationThreshold,
    wethParams.liquidationBonus,
  ])
  await configure('setReserveBorrowing', [weth, true])
  await configure('setReserveBorrowing', [usdc, true])

  return {
    addressesProvider,
    aclManager,
    pool,
    poolImpl,
    poolConfigurator,
    poolConfiguratorImpl,
    oracle,
    weth,
    usdc,
    aWeth: reserveOf(weth).aToken,
    aUsdc: reserveOf(usdc).aToken,
    variableDebtUsdc: reserveOf(usdc).variableDebtToken,
    treasury,
    ...(libraries as Record<AaveLibrary, Address>),
  }
}

// ---------------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------------

/**
 * Deploys the market and measures supply, borrow and liquidationCall (the scenario is in the
 * header comment). The three accounts must have no position in this market yet (a fresh market
 * guarantees that); the deployer gives each 1 ETH for gas when it has less. The chain must be
 * anvil (or answer `evm_increaseTime`), which spaces the Pool calls in time.
 */
export async function measureAave(clients: AaveClients, accounts: AaveAccounts): Promise<AaveMeasurement> {
  const deployed = await deployAave(clients)
  const { pool, weth, usdc, oracle } = deployed
  const { supplier, borrower, liquidator } = accounts
  const { amounts } = AAVE_MARKET
  const anvil = clients.public.extend(testActions({ mode: 'anvil' }))

  for (const account of [supplier, borrower, liquidator]) {
    if ((await clients.public.getBalance({ address: account.address })) >= 10n ** 18n) continue
    await mined(
      clients,
      await clients.wallet.sendTransaction({ to: account.address, value: 10n ** 18n }),
      `funding ${account.address}`,
    )
  }
  const maxUint = 2n ** 256n - 1n
  const fund = async (account: LocalAccount, asset: Address, amount: bigint) => {
    await send(clients, 'MintableERC20.mint', {
      address: asset,
      abi: tokenAbi,
      functionName: 'mint',
      args: [account.address, amount],
      account,
    })
    await send(clients, 'MintableERC20.approve', {
      address: asset,
      abi: tokenAbi,
      functionName: 'approve',
      args: [pool, maxUint],
      account,
    })
  }
  /** A Pool call one slot (12 s) later on the chain's clock, so every reserve it touches accrues. */
  const poolCall = async <F extends Nonpayable<typeof aavePoolAbi>>(
    account: LocalAccount,
    functionName: F,
    args: ContractFunctionArgs<typeof aavePoolAbi, 'nonpayable', F>,
  ) => {
    await anvil.increaseTime({ seconds: SLOT_SECONDS })
    return send(clients, `Pool.${functionName}`, {
      address: pool,
      abi: aavePoolAbi,
      functionName,
      args,
      account,
    })
  }
  const balanceOf = (asset: Address, account: Address) =>
    clients.public.readContract({ address: asset, abi: tokenAbi, functionName: 'balanceOf', args: [account] })

  // A live market: the supplier's liquidity in both reserves and debt in both, so indexes and
  // rates move in every measured transaction.
  await fund(supplier, usdc, amounts.supplierUsdc)
  await fund(supplier, weth, amounts.supplierWeth)
  await poolCall(supplier, 'supply', [usdc, amounts.supplierUsdc, supplier.address, 0])
  await poolCall(supplier, 'supply', [weth, amounts.supplierWeth, supplier.address, 0])
  await poolCall(supplier, 'borrow', [usdc, amounts.supplierUsdcDebt, VARIABLE_RATE, 0, supplier.address])
  await poolCall(supplier, 'borrow', [weth, amounts.supplierWethDebt, VARIABLE_RATE, 0, supplier.address])

  await fund(borrower, weth, amounts.borrowerWeth)
  const supplyFirst = await poolCall(borrower, 'supply', [weth, amounts.wethSupply, borrower.address, 0])
  const supply = await poolCall(borrower, 'supply', [weth, amounts.wethSupply, borrower.address, 0])
  const borrow = await poolCall(borrower, 'borrow', [
    usdc,
    amounts.usdcBorrow,
    VARIABLE_RATE,
    0,
    borrower.address,
  ])

  const crashFeed = await deploy(clients, artifacts.aggregator, [AAVE_MARKET.wethCrashPrice])
  await send(clients, 'AaveOracle.setAssetSources', {
    address: oracle,
    abi: oracleAbi,
    functionName: 'setAssetSources',
    args: [[weth], [crashFeed]],
  })
  const [, , , , , healthFactor] = await clients.public.readContract({
    address: pool,
    abi: aavePoolAbi,
    functionName: 'getUserAccountData',
    args: [borrower.address],
  })
  // Between 0.95 and 1: liquidatable, with the 50% close factor.
  if (healthFactor >= 10n ** 18n || healthFactor <= 95n * 10n ** 16n)
    throw new AaveBenchError(`borrower's health factor ${healthFactor} after the drop is not in (0.95, 1)`)

  await fund(liquidator, usdc, amounts.liquidatorUsdc)
  const wethBefore = await balanceOf(weth, liquidator.address)
  const liquidation = await poolCall(liquidator, 'liquidationCall', [
    weth,
    usdc,
    borrower.address,
    amounts.usdcRepaid,
    false,
  ])
  const collateralReceived = (await balanceOf(weth, liquidator.address)) - wethBefore
  const [event] = parseEventLogs({ abi: aavePoolAbi, eventName: 'LiquidationCall', logs: liquidation.logs })
  if (!event || event.args.debtToCover !== amounts.usdcRepaid || collateralReceived <= 0n)
    throw new AaveBenchError(`liquidationCall ${liquidation.transactionHash} did not liquidate as expected`)

  return {
    supply: supply.gasUsed,
    supplyFirst: supplyFirst.gasUsed,
    borrow: borrow.gasUsed,
    liquidationCall: liquidation.gasUsed,
    liquidation: { debtCovered: event.args.debtToCover, collateralReceived },
    deployed,
  }
}

/** The figures as benchmark rows, named like the other peers' (`<system> v<version> (npm)`). */
export function aaveRows(measurement: AaveMeasurement): ResultRow[] {
  const system = `Aave v3 (@aave/core-v3 ${AAVE_VERSION}, npm)`
  const row = (operation: string, gas: bigint): ResultRow => ({
    system,
    operation,
    value: Number(gas),
    unit: 'gas',
  })
  return [
    row('supply (first)', measurement.supplyFirst),
    row('supply (steady state)', measurement.supply),
    row('borrow (first)', measurement.borrow),
    row('liquidationCall', measurement.liquidationCall),
  ]
}
