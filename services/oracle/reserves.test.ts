import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type Address, type Hex, type LocalAccount, parseEventLogs, parseUnits } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { collateralGateAbi } from '../../sdk/abi/CollateralGate.js'
import { marginEngineAbi } from '../../sdk/abi/MarginEngine.js'
import { priceFeedAbi } from '../../sdk/abi/PriceFeed.js'
import { reserveBackedTokenAbi } from '../../sdk/abi/ReserveBackedToken.js'
import { reserveReporterAbi } from '../../sdk/abi/ReserveReporter.js'
import { MintRefusedError, faucet as sdkFaucet } from '../../sdk/margin/actions.js'
import { startTestDevnet, type TestChain, type TestDevnet, timeTravel } from '../../testing/devnet.js'
import {
  contractAddress,
  deliverOnHub,
  fundAndDeposit,
  mined,
  sentMessage,
  tokenUnits,
} from '../../testing/margin.js'
import { eventually, tempDir } from '../../testing/messaging.js'
import { createLogger } from '../core/logger.js'
import { type OracleNodesOptions, type RunningOracleNodes, startOracleNodes } from './oracle.js'
import { backedAfterSync, type ReserveView, reportDue } from './reporter.js'
import { constantReserves, parseReserveChange } from './reserves.js'

const tokens = (n: number | string) => parseUnits(String(n), 18)
const feedUnits = (n: number | string) => parseUnits(String(n), 8)

describe('reporter: when a reserve report is due', () => {
  const view = (fields: Partial<ReserveView>): ReserveView => ({
    token: '0x0000000000000000000000000000000000000001',
    reporter: '0x0000000000000000000000000000000000000002',
    tokenDecimals: 18,
    supply: tokens(100),
    reserves: tokens(200),
    backed: true,
    last: { sentAt: 1_000, backed: true, sent: true },
    minInterval: 60,
    ...fields,
  })

  it('first, on a change of the status the report would send, and on the heartbeat only otherwise', () => {
    assert.equal(reportDue(view({ last: { sentAt: 0, backed: false, sent: false } }), 5), 'first')
    assert.equal(reportDue(view({}), 1_030), undefined, 'unchanged, inside the interval')
    assert.equal(reportDue(view({}), 1_060), 'heartbeat')
    assert.equal(
      reportDue(view({ reserves: tokens(50), backed: false }), 1_001),
      'change',
      'reserves below supply',
    )
    assert.equal(
      reportDue(view({ reserves: 0n, backed: false }), 1_001),
      'change',
      'a stale feed reads 0 reserves',
    )
  })

  it('a tripped breaker with reserves back above supply is a change (report resets it), although preview says unbacked', () => {
    const recovered = view({ backed: false, last: { sentAt: 1_000, backed: false, sent: true } })
    assert.equal(backedAfterSync(recovered), true)
    assert.equal(reportDue(recovered, 1_001), 'change')
  })
})

describe('custodian reserves', () => {
  it('constant levels; POST /reserves bodies', () => {
    assert.equal(constantReserves({ TBILL: 5 }).reserves('TBILL', 0), 5)
    assert.throws(() => constantReserves({ TBILL: 5 }).reserves('GOLD', 0), /no reserves for GOLD/)
    assert.throws(() => constantReserves({ TBILL: 0 }), /positive/)
    assert.deepEqual(parseReserveChange({ amount: '1000.5' }), { amount: 1000.5 })
    assert.deepEqual(parseReserveChange({ factor: 0.5 }), { factor: 0.5 })
    assert.deepEqual(parseReserveChange({ reset: true }), { reset: true })
    assert.match(parseReserveChange({ amount: 0 }) as string, /positive/)
    assert.match(parseReserveChange({}) as string, /amount/)
  })
})

describe('oracle nodes serve reserve feeds and report reserve status (bank → hub gate)', () => {
  let devnet: TestDevnet
  let hub: TestChain
  let bank: TestChain
  let keys: LocalAccount[]
  let user: LocalAccount
  let token: Address
  let reporter: Address
  let reserveFeed: Address
  let gate: Address
  let engine: Address
  let bankChainId: bigint
  const dataDir = tempDir('oracle-reserves')
  const running: RunningOracleNodes[] = []
  const logger = createLogger('oracle-reserves-test')

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub', 'bank'] })
    hub = devnet.chain('hub')
    bank = devnet.chain('bank')
    keys = devnet.manifest.oracles!.nodes.map((n) => privateKeyToAccount(n.privateKey as Hex))
    user = bank.accounts[3]! // an institution on the T-bill
    token = contractAddress(bank, 'TBILL')
    reporter = contractAddress(bank, 'ReserveReporter')
    reserveFeed = contractAddress(bank, 'ReserveFeed.TBILL')
    gate = contractAddress(hub, 'CollateralGate')
    engine = contractAddress(hub, 'MarginEngine')
    bankChainId = BigInt(bank.entry.chainId)
  })
  after(async () => {
    await Promise.all(running.map((r) => r.stop()))
    await devnet.stop()
  })

  /** One process, two chains: the T-bill's price on the hub and its reserves on bank. */
  async function start(overrides: Partial<OracleNodesOptions> = {}): Promise<RunningOracleNodes> {
    const nodes = await startOracleNodes({
      manifest: devnet.manifest,
      feeds: [
        { address: contractAddress(hub, 'PriceFeed.TBILL'), asset: 'TBILL', chain: 'hub' },
        { address: reserveFeed, asset: 'TBILL', chain: 'bank', kind: 'reserve', token, reporter },
      ],
      nodes: keys.map((account) => ({ account })),
      source: { kind: 'manual', price: () => 99.5 },
      dataDir,
      logger,
      devnet: true,
      tickMs: 150,
      fallbackMs: 1_000,
      ...overrides,
    })
    running.push(nodes)
    return nodes
  }

  const latest = async (chain: TestChain, feed: Address) => {
    const round = await chain.public.readContract({
      address: feed,
      abi: priceFeedAbi,
      functionName: 'latestRound',
    })
    if (!round) return undefined
    const [roundId, answer, , updatedAt] = await chain.public.readContract({
      address: feed,
      abi: priceFeedAbi,
      functionName: 'latestRoundData',
    })
    return { roundId, answer, updatedAt }
  }
  const reserveRound = (answer: bigint, what: string) =>
    eventually(what, async () => {
      const round = await latest(bank, reserveFeed)
      return round?.answer === answer ? round : undefined
    })

  /** The first ReserveReported with `backed` from `fromBlock` on, delivered to the hub's gate like the relayer would. */
  async function reportDelivered(backed: boolean, fromBlock: bigint) {
    const log = await eventually(`a report with backed=${backed}`, async () => {
      const logs = await bank.public.getContractEvents({
        address: reporter,
        abi: reserveReporterAbi,
        eventName: 'ReserveReported',
        fromBlock,
        strict: true,
      })
      return logs.find((l) => l.args.backed === backed)
    })
    const receipt = await bank.public.getTransactionReceipt({ hash: log.transactionHash })
    await deliverOnHub(devnet, 'bank', sentMessage(bank, receipt))
    return { log, receipt }
  }

  const eligible = () =>
    hub.public.readContract({
      address: gate,
      abi: collateralGateAbi,
      functionName: 'isEligible',
      args: [bankChainId, token],
    })
  const breaker = () =>
    bank.public.readContract({ address: token, abi: reserveBackedTokenAbi, functionName: 'breakerTripped' })
  const tbillWeight = async () => {
    const views = await hub.public.readContract({
      address: engine,
      abi: marginEngineAbi,
      functionName: 'positionsOf',
      args: [user.address],
    })
    const position = views.find((v) => v.token.toLowerCase() === token.toLowerCase())
    assert.ok(position, 'the user has a TBILL position on the hub')
    return position.lambda
  }
  const borrowPower = async () =>
    (
      await hub.public.readContract({
        address: engine,
        abi: marginEngineAbi,
        functionName: 'healthOf',
        args: [user.address],
      })
    ).borrowPowerUsd
  const bankBlock = () => bank.public.getBlockNumber({ cacheTime: 0 })

  it('one process pushes the reserve feed on bank (the custodian level) and the price on the hub; the first report makes TBILL eligible', async () => {
    const from = await bankBlock()
    await start()
    assert.equal(await eligible(), false, 'tracked and fail-closed before the first report')
    const reserves = await reserveRound(feedUnits(50_000_000), 'the custodian level on bank')
    assert.equal(reserves.roundId, 1n)
    const price = await eventually('the TBILL price on the hub', () =>
      latest(hub, contractAddress(hub, 'PriceFeed.TBILL')),
    )
    assert.equal(price.answer, feedUnits('99.5'))

    const { log } = await reportDelivered(true, from)
    assert.equal(
      log.args.supply,
      await bank.public.readContract({
        address: token,
        abi: reserveBackedTokenAbi,
        functionName: 'totalSupply',
      }),
    )
    assert.equal(log.args.reserves, tokens(50_000_000))
    assert.equal(await eligible(), true, 'the gate took the backed report')
  })

  it('reserves below supply: round → report (breaker tripped) → gate → TBILL weighs 0 and a borrow is refused; restored: all back', async () => {
    // A TBILL position on the hub that counts.
    const amount = tokenUnits('TBILL', 1_000)
    const { message } = await fundAndDeposit(bank, { account: user, token: 'TBILL', amount })
    await deliverOnHub(devnet, 'bank', message)
    assert.ok((await tbillWeight()) > 0n, 'weighs while backed')
    const power = await borrowPower()
    assert.ok(power > 0n)

    const [node] = running.at(-1)!.nodes
    let from = await bankBlock()
    const set = await fetch(`${node!.url}/reserves`, {
      method: 'POST',
      body: JSON.stringify({ asset: 'tbill', amount: 500 }),
    })
    assert.equal(set.status, 200)
    assert.equal(((await set.json()) as { reserves: number }).reserves, 500)
    await reserveRound(feedUnits(500), 'the custodian shortfall on bank')
    const breach = await reportDelivered(false, from)
    assert.ok(breach.log.args.supply >= amount)
    assert.equal(breach.log.args.reserves, tokens(500))
    assert.equal(await breaker(), true, 'the report tripped the breaker')
    const [tripped] = parseEventLogs({
      abi: reserveBackedTokenAbi,
      eventName: 'ReserveBreakerTripped',
      logs: breach.receipt.logs,
    })
    assert.equal(tripped?.args.reserves, tokens(500), 'ReserveBreakerTripped in the report transaction')
    assert.equal(await eligible(), false)
    assert.equal(await tbillWeight(), 0n, 'no weight while short')
    assert.equal(await borrowPower(), 0n)
    await assert.rejects(
      hub.public.simulateContract({
        account: user,
        address: engine,
        abi: marginEngineAbi,
        functionName: 'borrow',
        args: [1_000_000n, BigInt(hub.entry.chainId), user.address],
      }),
      /EngineInsufficientCollateral/,
    )
    await assert.rejects(
      sdkFaucet(devnet.manifest, 'bank', 'TBILL', user.address, '1', bank.accounts[0]!),
      (error: unknown) => error instanceof MintRefusedError && error.reason === 'ReserveBreakerActive()',
    )

    from = await bankBlock()
    const reset = await fetch(`${node!.url}/reserves`, {
      method: 'POST',
      body: JSON.stringify({ asset: 'TBILL', reset: true }),
    })
    assert.equal(reset.status, 200)
    await reserveRound(feedUnits(50_000_000), 'the custodian level again')
    await reportDelivered(true, from)
    assert.equal(await breaker(), false, 'the report reset the breaker')
    assert.equal(await eligible(), true)
    assert.ok((await tbillWeight()) > 0n, 'the weight is back')
    const back = await borrowPower()
    // λ moves a little with the price's age; the weight itself is back whole.
    assert.ok(back > (power * 99n) / 100n && back < (power * 101n) / 100n, `${back} ≈ ${power}`)
  })

  it('a stale reserve feed refuses mints (ReserveFeedStale) and drops TBILL at the hub; restarted nodes keep their override and bring it back', async () => {
    const nodes = running.at(-1)!
    const set = await fetch(`${nodes.nodes[2]!.url}/reserves`, {
      method: 'POST',
      body: JSON.stringify({ asset: 'TBILL', amount: '40000000' }),
    })
    assert.equal(set.status, 200)
    await reserveRound(feedUnits(40_000_000), 'the override on bank')
    await nodes.stop()

    await timeTravel(bank, 301) // past the token's 300 s maximum feed age
    await assert.rejects(
      sdkFaucet(devnet.manifest, 'bank', 'TBILL', user.address, '1', bank.accounts[0]!),
      (error: unknown) => error instanceof MintRefusedError && error.reason.startsWith('ReserveFeedStale('),
    )
    // Anyone may report: the stale feed reads as no reserves, so the token is unbacked.
    const from = await bankBlock()
    const hash = await bank.wallet.writeContract({
      address: reporter,
      abi: reserveReporterAbi,
      functionName: 'report',
      args: [token],
    })
    await mined(bank, hash, 'report')
    await reportDelivered(false, from)
    assert.equal(await eligible(), false)
    assert.equal(await tbillWeight(), 0n, 'no weight on a stale proof of reserve')

    const beforeRestart = await bankBlock()
    const restarted = await start()
    const status = (await (await fetch(`${restarted.nodes[0]!.url}/status`)).json()) as {
      feeds: { kind: string; chain: string; reserveOverride?: number | null }[]
    }
    assert.equal(status.feeds.find((f) => f.kind === 'reserve')?.reserveOverride, 40_000_000)
    await reserveRound(feedUnits(40_000_000), 'a fresh round at the kept override')
    await reportDelivered(true, beforeRestart)
    assert.equal(await eligible(), true)
    assert.ok((await tbillWeight()) > 0n)
    await sdkFaucet(devnet.manifest, 'bank', 'TBILL', user.address, '1', bank.accounts[0]!)

    const refused = await Promise.all([
      fetch(`${restarted.nodes[0]!.url}/reserves`, {
        method: 'POST',
        body: JSON.stringify({ asset: 'WETH', amount: 1 }),
      }),
      fetch(`${restarted.nodes[0]!.url}/reserves`, {
        method: 'POST',
        body: JSON.stringify({ asset: 'TBILL', amount: 0 }),
      }),
    ])
    assert.deepEqual(
      refused.map((r) => r.status),
      [400, 400],
    )
  })
})
