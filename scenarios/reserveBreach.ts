/**
 * `reserve-breach`: a tokenized T-bill (TBILL on bank, a ReserveBackedToken) secures margin on the
 * hub only while its proof of reserve covers its supply. A fresh institution deposits TBILL and it
 * weighs; the custodian then reports reserves below the supply, the oracle nodes push the reserve
 * round on bank and call the ReserveReporter, which trips the token's breaker (further mints are
 * refused) and tells the hub's CollateralGate in a verified message; the account's TBILL then
 * weighs nothing and a borrow against it is refused. Reserves restored, the same path resets the
 * breaker and the weight comes back. Every step is a real transaction on the running devnet,
 * carried by the running relayer and oracle nodes.
 *
 * The devnet is shared: while reserves are short, nobody can mint TBILL (other scenarios' faucets
 * are refused too), and the reserves are put back in a `finally` whatever happens.
 */
import {
  type Address,
  ContractFunctionRevertedError,
  formatUnits,
  type Hash,
  type Hex,
  parseEther,
  parseUnits,
  BaseError as ViemBaseError,
} from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { DEVNET_ROLES } from '../devnet/topology.js'
import { collateralGateAbi } from '../sdk/abi/CollateralGate.js'
import { marginEngineAbi } from '../sdk/abi/MarginEngine.js'
import { priceFeedAbi } from '../sdk/abi/PriceFeed.js'
import { reserveBackedTokenAbi } from '../sdk/abi/ReserveBackedToken.js'
import { reserveReporterAbi } from '../sdk/abi/ReserveReporter.js'
import { createChainClients } from '../sdk/client.js'
import { chainByName, type Manifest } from '../sdk/manifest.js'
import { marginChains } from '../sdk/margin/account.js'
import { borrow, deposit, faucet, MintRefusedError } from '../sdk/margin/actions.js'
import { ScenarioError, type Timeline, waitForEvent } from './timeline.js'

const SYMBOL = 'TBILL'
const TOKEN_CHAIN = 'bank'
const AMOUNT = '1000'
/** The reserve feed's decimals on the devnet (a PriceFeed: whole tokens × 1e8). */
const FEED_DECIMALS = 8
const NO_DEBT = 2n ** 256n - 1n

export type ReserveBreachOptions = { timeoutMs?: number }

export async function reserveBreachScenario(
  manifest: Manifest,
  timeline: Timeline,
  options: ReserveBreachOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000
  const { hub, engine } = marginChains(manifest)
  const bank = chainByName(manifest, TOKEN_CHAIN)
  const deployerKey = manifest.accounts[DEVNET_ROLES.deployer]?.privateKey as Hex | undefined
  if (manifest.network !== 'devnet' || !deployerKey)
    throw new ScenarioError(
      'the reserve-breach scenario runs on the devnet (it mints T-bills and moves reserves)',
    )
  const oracles = Object.entries(manifest.services)
    .filter(([name]) => name.startsWith('oracle-'))
    .map(([, url]) => url)
  if (!oracles.length || !manifest.services.relayer)
    throw new ScenarioError(
      'no oracle nodes or relayer in the manifest: start the devnet with services (npm start)',
    )
  const contract = (chain: typeof bank, name: string) => {
    const address = chain.contracts[name] as Address | undefined
    if (!address)
      throw new ScenarioError(`no ${name} on ${chain.name}: this devnet has no reserve-backed T-bill`)
    return address
  }
  const token = contract(bank, SYMBOL)
  const reserveFeed = contract(bank, `ReserveFeed.${SYMBOL}`)
  const reporter = contract(bank, 'ReserveReporter')
  const gate = contract(hub, 'CollateralGate')
  const bankChainId = BigInt(bank.chainId)
  const deployer = privateKeyToAccount(deployerKey)
  const bankDeployer = createChainClients(bank, deployer)
  const bankClient = bankDeployer.public
  const hubClient = createChainClients(hub, deployer).public

  // A fresh institution per run, so the scenario can run again on the same devnet.
  const user = privateKeyToAccount(generatePrivateKey())
  for (const chain of [bank, hub]) {
    const clients = createChainClients(chain, deployer)
    const hash = await clients.wallet.sendTransaction({ to: user.address, value: parseEther('1') })
    await clients.public.waitForTransactionReceipt({ hash })
  }
  const onboard = await bankDeployer.wallet.writeContract({
    address: token,
    abi: reserveBackedTokenAbi,
    functionName: 'setInstitution',
    args: [user.address, true],
  })
  timeline.step(
    `user ${user.address} allowlisted as an institution on ${SYMBOL}`,
    await record(bankClient, bank.name, onboard),
  )

  const readToken = <F extends 'totalSupply' | 'breakerTripped'>(functionName: F) =>
    bankClient.readContract({ address: token, abi: reserveBackedTokenAbi, functionName })
  const eligible = () =>
    hubClient.readContract({
      address: gate,
      abi: collateralGateAbi,
      functionName: 'isEligible',
      args: [bankChainId, token],
    })
  const health = () =>
    hubClient.readContract({
      address: engine,
      abi: marginEngineAbi,
      functionName: 'healthOf',
      args: [user.address],
    })
  const lhf = async () => {
    const { lhf: value } = await health()
    return value === NO_DEBT ? Number.POSITIVE_INFINITY : Number(value) / 1e18
  }
  /** The TBILL position's λ on the hub and the account's borrowing power (USD). */
  const weight = async () => {
    const views = await hubClient.readContract({
      address: engine,
      abi: marginEngineAbi,
      functionName: 'positionsOf',
      args: [user.address],
    })
    const position = views.find(
      (v) => v.chainId === bankChainId && v.token.toLowerCase() === token.toLowerCase(),
    )
    if (!position) throw new ScenarioError(`the hub holds no ${SYMBOL} position for the user`)
    const { borrowPowerUsd } = await health()
    return { lambda: Number(position.lambda) / 1e18, borrowPowerUsd: Number(borrowPowerUsd) / 1e18 }
  }

  if (!(await eligible())) {
    await until(eligible, timeoutMs, `the hub gate to accept ${SYMBOL} (the nodes report it at start)`)
    timeline.note(`hub gate: ${SYMBOL} eligible`)
  }
  const minted = await faucet(manifest, bank.name, SYMBOL, user.address, AMOUNT, deployer)
  timeline.step(`faucet: ${AMOUNT} ${SYMBOL} minted within the proven reserves`, minted)

  const hubFrom = await hubClient.getBlockNumber({ cacheTime: 0 })
  const deposited = await deposit(manifest, user, { chain: bank.name, symbol: SYMBOL, amount: AMOUNT })
  timeline.step(`deposit ${AMOUNT} ${SYMBOL} in the bank vault`, deposited, await lhf())
  const credited = await waitForEvent<ArgsLog<{ messageId: Hex }>>(hubClient, {
    address: engine,
    abi: marginEngineAbi,
    eventName: 'Credited',
    args: { account: user.address },
    fromBlock: hubFrom,
    match: (log) => log.args.messageId === deposited.messageId,
    timeoutMs,
    what: `the hub crediting the ${SYMBOL} deposit`,
  })
  timeline.step(`hub credits ${SYMBOL} (verified message)`, { chain: hub.name, ...credited }, await lhf())
  const backed = await weight()
  if (!(backed.lambda > 0))
    throw new ScenarioError(`${SYMBOL} weighs ${backed.lambda} while its reserves cover it`)
  timeline.note(
    `${SYMBOL} weight λ ${backed.lambda.toFixed(6)}, borrowing power ${usd(backed.borrowPowerUsd)}`,
  )

  // The breach: the custodian reports half the supply.
  let restored = false
  try {
    const supply = await readToken('totalSupply')
    const short = supply / 2n / 10n ** 18n || 1n
    const breachFrom = await bankClient.getBlockNumber({ cacheTime: 0 })
    const breachHubFrom = await hubClient.getBlockNumber({ cacheTime: 0 })
    await postReserves(oracles, { asset: SYMBOL, amount: short.toString() })
    timeline.note(
      `custodian reports ${short.toLocaleString('en-US')} ${SYMBOL} of reserves (supply ${tokens(supply)})`,
    )
    const round = await waitForEvent<ArgsLog<{ current: bigint; roundId: bigint }>>(bankClient, {
      address: reserveFeed,
      abi: priceFeedAbi,
      eventName: 'AnswerUpdated',
      fromBlock: breachFrom,
      match: (log) => log.args.current === parseUnits(short.toString(), FEED_DECIMALS),
      timeoutMs,
      what: 'the oracle nodes pushing the shortfall on bank',
    })
    timeline.step(`reserve round ${round.args.roundId} on bank: reserves ${short} < supply`, {
      chain: bank.name,
      ...round,
    })
    const tripped = await reported(false, breachFrom)
    if (!(await readToken('breakerTripped'))) throw new ScenarioError('the report did not trip the breaker')
    timeline.step(
      `ReserveReporter: breaker tripped, "not backed" sent to the hub (supply ${tokens(tripped.args.supply)}, reserves ${tokens(tripped.args.reserves)})`,
      { chain: bank.name, ...tripped },
    )
    try {
      await faucet(manifest, bank.name, SYMBOL, user.address, '1', deployer)
      throw new ScenarioError(`a ${SYMBOL} mint went through while the breaker is tripped`)
    } catch (error) {
      if (!(error instanceof MintRefusedError)) throw error
      timeline.note(`faucet refused: ${error.shortMessage}`)
    }
    const dropped = await eligibility(false, breachHubFrom)
    timeline.step(
      `hub gate: ${SYMBOL} NOT eligible (verified message)`,
      { chain: hub.name, ...dropped },
      await lhf(),
    )
    const zero = await weight()
    if (zero.lambda !== 0) throw new ScenarioError(`${SYMBOL} still weighs λ ${zero.lambda} while short`)
    timeline.note(
      `${SYMBOL} weight λ 0, borrowing power ${usd(backed.borrowPowerUsd)} → ${usd(zero.borrowPowerUsd)}`,
    )
    timeline.note(`borrow 1 USDC refused: ${await refusedBorrow(manifest, user)}`)

    // Recovery: the custodian's own level again.
    const restoreFrom = await bankClient.getBlockNumber({ cacheTime: 0 })
    const restoreHubFrom = await hubClient.getBlockNumber({ cacheTime: 0 })
    await postReserves(oracles, { asset: SYMBOL, reset: true })
    restored = true
    timeline.note('custodian reserves restored')
    const back = await waitForEvent<ArgsLog<{ current: bigint; roundId: bigint }>>(bankClient, {
      address: reserveFeed,
      abi: priceFeedAbi,
      eventName: 'AnswerUpdated',
      fromBlock: restoreFrom,
      match: (log) => log.args.current * 10n ** BigInt(18 - FEED_DECIMALS) >= supply,
      timeoutMs,
      what: 'the oracle nodes pushing the restored reserves on bank',
    })
    timeline.step(
      `reserve round ${back.args.roundId} on bank: reserves ${formatUnits(back.args.current, FEED_DECIMALS)}`,
      { chain: bank.name, ...back },
    )
    const reset = await reported(true, restoreFrom)
    if (await readToken('breakerTripped')) throw new ScenarioError('the report did not reset the breaker')
    timeline.step('ReserveReporter: breaker reset, "backed" sent to the hub', { chain: bank.name, ...reset })
    const eligibleAgain = await eligibility(true, restoreHubFrom)
    timeline.step(`hub gate: ${SYMBOL} eligible again`, { chain: hub.name, ...eligibleAgain }, await lhf())
    const again = await weight()
    if (!(again.lambda > 0)) throw new ScenarioError(`${SYMBOL} weighs nothing after the recovery`)
    timeline.note(
      `${SYMBOL} weight λ ${again.lambda.toFixed(6)}, borrowing power ${usd(again.borrowPowerUsd)}`,
    )
  } finally {
    // Leave the reserves where they were for whoever uses the devnet next; a failed restore is
    // reported here while the scenario's own error (if any) goes on.
    if (!restored)
      await postReserves(oracles, { asset: SYMBOL, reset: true }).then(
        () => timeline.note('custodian reserves restored'),
        (error: unknown) => timeline.note(`could not restore the reserves: ${(error as Error).message}`),
      )
  }

  function reported(expected: boolean, fromBlock: bigint) {
    return waitForEvent<ArgsLog<{ supply: bigint; reserves: bigint; backed: boolean }>>(bankClient, {
      address: reporter,
      abi: reserveReporterAbi,
      eventName: 'ReserveReported',
      args: { token },
      fromBlock,
      match: (log) => log.args.backed === expected,
      timeoutMs,
      what: `a ReserveReported with backed=${expected} from the oracle nodes`,
    })
  }

  function eligibility(expected: boolean, fromBlock: bigint) {
    return waitForEvent<ArgsLog<{ eligible: boolean }>>(hubClient, {
      address: gate,
      abi: collateralGateAbi,
      eventName: 'EligibilityChanged',
      args: { chainId: bankChainId, token },
      fromBlock,
      match: (log) => log.args.eligible === expected,
      timeoutMs,
      what: `the hub gate making ${SYMBOL} ${expected ? 'eligible' : 'ineligible'} (relayed report)`,
    })
  }
}

/** A borrow of 1 USDC must be refused with EngineInsufficientCollateral; returns how it was refused. */
async function refusedBorrow(
  manifest: Manifest,
  user: ReturnType<typeof privateKeyToAccount>,
): Promise<string> {
  try {
    await borrow(manifest, user, { amount: '1' })
  } catch (error) {
    const reverted =
      error instanceof ViemBaseError
        ? error.walk((e) => e instanceof ContractFunctionRevertedError)
        : undefined
    if (
      reverted instanceof ContractFunctionRevertedError &&
      reverted.data?.errorName === 'EngineInsufficientCollateral'
    ) {
      const [required, available] = (reverted.data.args ?? []) as bigint[]
      return `EngineInsufficientCollateral(required ${usd(Number(required) / 1e18)}, available ${usd(Number(available) / 1e18)})`
    }
    throw error
  }
  throw new ScenarioError('a borrow against the unbacked T-bills went through')
}

async function record(client: ReturnType<typeof createChainClients>['public'], chain: string, tx: Hash) {
  const receipt = await client.waitForTransactionReceipt({ hash: tx })
  if (receipt.status !== 'success') throw new ScenarioError(`transaction ${tx} reverted on ${chain}`)
  return { chain, tx, gasUsed: receipt.gasUsed }
}

/** POST /reserves to every oracle service (absolute amounts and resets are idempotent across nodes of one process). */
async function postReserves(urls: readonly string[], body: Record<string, unknown>): Promise<void> {
  for (const url of urls) {
    const response = await fetch(new URL('/reserves', url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    if (!response.ok)
      throw new ScenarioError(
        `oracle ${url} refused the reserves: ${response.status} ${await response.text()}`,
      )
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new ScenarioError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

const tokens = (units: bigint) => Number(formatUnits(units, 18)).toLocaleString('en-US')
const usd = (value: number) => `${value.toLocaleString('en-US', { maximumFractionDigits: 2 })} USD`

type ArgsLog<A> = { transactionHash: Hash; blockNumber: bigint; args: A }
