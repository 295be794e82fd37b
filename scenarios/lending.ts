/**
 * `isthmus scenario lending` (issue 4): collateral on two spokes secures a loan delivered to a third
 * place; a price drop brings a margin call, then a liquidation on the hub that releases the seized
 * WETH to the liquidator on l1. Every step is a real transaction on the running devnet, carried by
 * the running relayer, priced by the running oracle nodes and — when it runs — acted on by the keeper.
 */
import { type Address, erc20Abi, formatUnits, type Hash, type Hex, parseEther, parseUnits } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { DEVNET_ROLES } from '../devnet/topology.js'
import { collateralVaultAbi } from '../sdk/abi/CollateralVault.js'
import { marginEngineAbi } from '../sdk/abi/MarginEngine.js'
import { createChainClients } from '../sdk/client.js'
import { chainByName, type Manifest } from '../sdk/manifest.js'
import { marginChains, tokenAddress } from '../sdk/margin/account.js'
import { borrow, deposit, faucet, USDC_DECIMALS } from '../sdk/margin/actions.js'
import { ScenarioError, type Timeline, waitForEvent } from './timeline.js'

const WETH_AMOUNT = '10'
const WSTETH_AMOUNT = '5'
/** The loan takes this share of the borrowing power: healthy, but close enough to the call level. */
const BORROW_SHARE = 0.9
/** Shocks aim at these LHFs: below the margin-call level (1.1), then below 1. */
const CALL_TARGET = 1.06
const LIQUIDATION_TARGET = 0.96

export type LendingOptions = { timeoutMs?: number; log?: (line: string) => void }

export async function lendingScenario(manifest: Manifest, timeline: Timeline, options: LendingOptions = {}) {
  const timeoutMs = options.timeoutMs ?? 120_000
  const { hub, engine } = marginChains(manifest)
  const l1 = chainByName(manifest, 'l1')
  const base = chainByName(manifest, 'base')
  const key = (index: number) => manifest.accounts[index]?.privateKey as Hex | undefined
  const deployerKey = key(DEVNET_ROLES.deployer)
  if (manifest.network !== 'devnet' || !deployerKey)
    throw new ScenarioError('the lending scenario runs on the devnet (it mints tokens and moves prices)')
  const deployer = privateKeyToAccount(deployerKey)
  const oracleUrl = manifest.services['oracle-0']
  if (!oracleUrl)
    throw new ScenarioError('no oracle nodes in the manifest: start the devnet with services (npm start)')
  if (!manifest.services.keeper)
    throw new ScenarioError(
      'no keeper in the manifest: the margin call and liquidation are its job (npm start runs it)',
    )

  // A fresh user per run, so the scenario can run again on the same devnet.
  const user = privateKeyToAccount(generatePrivateKey())
  for (const chain of [l1, base, hub]) {
    const clients = createChainClients(chain, deployer)
    const hash = await clients.wallet.sendTransaction({ to: user.address, value: parseEther('1') })
    await clients.public.waitForTransactionReceipt({ hash })
  }
  await faucet(manifest, 'l1', 'WETH', user.address, WETH_AMOUNT, deployer)
  await faucet(manifest, 'base', 'wstETH', user.address, WSTETH_AMOUNT, deployer)
  timeline.note(
    `user ${user.address} funded with ${WETH_AMOUNT} WETH on l1 and ${WSTETH_AMOUNT} wstETH on base`,
  )

  const hubClient = createChainClients(hub, user).public
  const lhf = async () => {
    const health = await hubClient.readContract({
      address: engine,
      abi: marginEngineAbi,
      functionName: 'healthOf',
      args: [user.address],
    })
    return health.lhf === 2n ** 256n - 1n ? Number.POSITIVE_INFINITY : Number(health.lhf) / 1e18
  }
  const hubFrom = await hubClient.getBlockNumber({ cacheTime: 0 })
  const credited = (messageId: Hex) =>
    waitForEvent<ArgsLog<{ messageId: Hex }>>(hubClient, {
      address: engine,
      abi: marginEngineAbi,
      eventName: 'Credited',
      args: { account: user.address },
      fromBlock: hubFrom,
      match: (log) => log.args.messageId === messageId,
      timeoutMs,
      what: `the hub crediting message ${messageId}`,
    })

  for (const [chain, symbol, amount] of [
    ['l1', 'WETH', WETH_AMOUNT],
    ['base', 'wstETH', WSTETH_AMOUNT],
  ] as const) {
    const sent = await deposit(manifest, user, { chain, symbol, amount })
    timeline.step(`deposit ${amount} ${symbol}`, sent, await lhf())
    const credit = await credited(sent.messageId!)
    timeline.step(`hub credits ${symbol} (verified message)`, { chain: hub.name, ...credit }, await lhf())
  }

  const power = await hubClient.readContract({
    address: engine,
    abi: marginEngineAbi,
    functionName: 'healthOf',
    args: [user.address],
  })
  const loan = Math.floor((Number(power.borrowPowerUsd) / 1e18) * BORROW_SHARE)
  const baseUsdc = createChainClients(base, user).public
  const usdcOnBase = tokenAddress(base, 'USDC')
  const before = await baseUsdc.readContract({
    address: usdcOnBase,
    abi: erc20Abi,
    functionName: 'balanceOf',
    args: [user.address],
  })
  const borrowed = await borrow(manifest, user, { amount: String(loan), to: 'base' })
  timeline.step(`borrow ${loan} USDC for base`, borrowed, await lhf())
  const arrived = await waitForEvent<ArgsLog<{ value: bigint }>>(baseUsdc, {
    address: usdcOnBase,
    abi: erc20Abi,
    eventName: 'Transfer',
    args: { to: user.address },
    fromBlock: 0n,
    match: (log) => log.args.value === parseUnits(String(loan), USDC_DECIMALS),
    timeoutMs,
    what: 'the borrowed USDC on base',
  })
  const after = await baseUsdc.readContract({
    address: usdcOnBase,
    abi: erc20Abi,
    functionName: 'balanceOf',
    args: [user.address],
  })
  if (after - before !== parseUnits(String(loan), USDC_DECIMALS))
    throw new ScenarioError(`base balance moved by ${formatUnits(after - before, 6)} USDC, not ${loan}`)
  timeline.step(`${loan} USDC minted to the user on base`, { chain: base.name, ...arrived }, await lhf())

  // The market falls: both collateral assets by the same factor, so LHF scales with it.
  const shock = async (target: number) => {
    const factor = target / (await lhf())
    for (const asset of ['WETH', 'wstETH']) await postShock(oracleUrl, asset, factor)
    timeline.note(`oracle shock: WETH and wstETH × ${factor.toFixed(4)} (aiming at LHF ${target})`)
  }
  await shock(CALL_TARGET)
  const called = await waitForEvent<MarginCallLog>(hubClient, {
    address: engine,
    abi: marginEngineAbi,
    eventName: 'MarginCall',
    args: { account: user.address },
    fromBlock: hubFrom,
    timeoutMs,
    what: 'a margin call from the keeper',
  })
  timeline.step(
    'margin call (MarginCall event)',
    { chain: hub.name, ...called },
    Number(called.args.lhf) / 1e18,
  )

  await shock(LIQUIDATION_TARGET)
  const liquidated = await waitForEvent<LiquidatedLog>(hubClient, {
    address: engine,
    abi: marginEngineAbi,
    eventName: 'Liquidated',
    args: { account: user.address },
    fromBlock: hubFrom,
    timeoutMs,
    what: 'a liquidation by the keeper',
  })
  const { liquidator, token, seized, repaid, lhfBefore, lhfAfter } = liquidated.args
  timeline.step(
    `liquidation: repaid ${formatUnits(repaid, USDC_DECIMALS)} USDC, seized ${formatUnits(seized, 18)} WETH`,
    { chain: hub.name, ...liquidated },
    Number(lhfAfter) / 1e18,
  )
  if (lhfAfter < lhfBefore) throw new ScenarioError('the liquidation lowered LHF')
  if (token.toLowerCase() !== tokenAddress(l1, 'WETH').toLowerCase())
    throw new ScenarioError(`the liquidation seized ${token}, not WETH on l1`)

  const l1Client = createChainClients(l1, user).public
  const released = await waitForEvent<ArgsLog<{ amount: bigint }>>(l1Client, {
    address: l1.contracts.CollateralVault as Address,
    abi: collateralVaultAbi,
    eventName: 'Released',
    args: { account: user.address, recipient: liquidator },
    fromBlock: 0n,
    match: (log) => log.args.amount === seized,
    timeoutMs,
    what: 'the seized WETH released on l1',
  })
  timeline.step(
    `${formatUnits(seized, 18)} WETH released to the liquidator ${liquidator.slice(0, 10)}… on l1`,
    { chain: l1.name, ...released },
    await lhf(),
  )
  // Leave the market where it was for whoever uses the devnet next.
  for (const asset of ['WETH', 'wstETH']) await postShock(oracleUrl, asset, 1, true)
  timeline.note('oracle shock reset')
}

async function postShock(url: string, asset: string, factor: number, reset = false): Promise<void> {
  const response = await fetch(new URL('/shock', url), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ asset, factor, ...(reset ? { reset: true } : {}) }),
  })
  if (!response.ok)
    throw new ScenarioError(`oracle shock refused: ${response.status} ${await response.text()}`)
}

type EventBase = { transactionHash: Hash; blockNumber: bigint }
type ArgsLog<A> = EventBase & { args: A }
type MarginCallLog = EventBase & { args: { account: Address; lhf: bigint; callLevel: bigint } }
type LiquidatedLog = EventBase & {
  args: {
    account: Address
    liquidator: Address
    chainId: bigint
    token: Address
    repaid: bigint
    seized: bigint
    bonus: bigint
    lhfBefore: bigint
    lhfAfter: bigint
    messageId: Hex
  }
}
