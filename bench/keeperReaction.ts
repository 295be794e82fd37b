/**
 * The keeper's reaction, price update → liquidation transaction sent; goal: within one hub block
 * (the devnet hub makes a block every 250 ms).
 *
 * Setup: a devnet of l1 and hub (startTestDevnet, interval mining, a block every 250 ms on both),
 * the keeper in this process (startKeeper, services/keeper) with a temporary database, and a book
 * of 310 borrowers created on the hub's MarginEngine by impersonating the hub Inbox (as the keeper's
 * tests do, services/keeper/fixtures.ts):
 * - 300 healthy borrowers, each with 1 WETH and 0.05 WBTC on l1 and 300–500 USDC of debt (LHF
 *   10–16 at list prices, 3–5 at the run's lowest prices): every price update makes the keeper
 *   re-read all of them, after the accounts the drop may have put at risk;
 * - 10 accounts at risk, 5 with 10 WETH and 5 with 0.5 WBTC, their LHFs at list prices spaced by a
 *   factor 1.25 from 1.2 (1.2, 1.5, … 2.93 per asset).
 *
 * Then 10 rounds, alternating WETH and WBTC: a price report (3 observations signed with the devnet
 * oracle keys) drops the asset so that the next account at risk has an LHF of 0.9 — below the full
 * close level, so the liquidation repays all of its debt and the account leaves the book's risk —
 * while the following one stays above the margin-call level (1.1). The price block makes exactly
 * one account liquidatable and calls no other: the keeper's reaction is that account's margin call
 * (it went from above 1.1 to below 1 in one block; the keeper sends the call first) and then its
 * liquidation, the worst case for one account. Each round measures
 * (a) the keeper's own figure (its `reaction_ms`, GET /status `reaction`): from the keeper seeing
 *     the price-update block to its liquidation transaction accepted by the node;
 * (b) from the price update mined — the moment this bench saw its receipt, polled every 2 ms (block
 *     timestamps are whole seconds) — to the liquidation sent (the keeper's "liquidation sent" log
 *     line, intercepted in this process): (a) plus the keeper's polling delay and any work it was
 *     busy with when the block came;
 * (c) hub blocks from the price update's block to the liquidation's (1 = the very next block).
 * The price falls by 20% a round per asset, 70% over the run: a crash, with each step large enough
 * to liquidate one account and none of the next.
 *
 * Run alone, this prints its rows: node --import tsx bench/keeperReaction.ts
 */
import { rmSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { pino } from 'pino'
import { type Address, getAddress, type Hex, hexToBigInt, parseEther, parseUnits } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { assetId } from '../deploy/margin.js'
import { DEVNET_MNEMONIC, DEVNET_ROLES } from '../devnet/topology.js'
import { marginEngineAbi } from '../sdk/abi/MarginEngine.js'
import { priceFeedAbi } from '../sdk/abi/PriceFeed.js'
import { openPositions, type Position } from '../services/keeper/fixtures.js'
import { type RunningKeeper, startKeeper } from '../services/keeper/keeper.js'
import { startTestDevnet, type TestChain, type TestDevnet } from '../testing/devnet.js'
import { signedReport } from '../testing/margin.js'
import { tempDir } from '../testing/messaging.js'
import { median, type ResultRow } from './lib/results.js'

const HUB_BLOCK_MS = 250
const CROWD = 300
const PER_ASSET = 5
const ROUNDS = 2 * PER_ASSET
const BOOK = CROWD + ROUNDS
/** The LHF a round's price drop gives its account: below FULL_CLOSE_LHF (0.95), so all its debt is repaid. */
const TARGET_LHF = 0.9
/** The accounts at risk of one asset: LHF at list prices FIRST_LHF × SPACING^k. */
const FIRST_LHF = 1.2
const SPACING = 1.25
const ASSETS = [
  { symbol: 'WETH', price: 3000, atRisk: parseEther('10'), crowd: parseEther('1') },
  { symbol: 'WBTC', price: 60_000, atRisk: parseUnits('0.5', 8), crowd: parseUnits('0.05', 8) },
] as const
const WAD = 10n ** 18n

const SYSTEM = `Isthmus keeper (in-process; devnet hub, ${HUB_BLOCK_MS} ms blocks)`
const MS_GOAL = `≤ ${HUB_BLOCK_MS} ms (one hub block)`

type Round = {
  symbol: string
  account: Address
  /** (a) the keeper's reaction_ms: price-update block seen → liquidation accepted by the node. */
  reactionMs: number
  /** (b) price update's receipt seen here → liquidation sent. */
  fromMinedMs: number
  /** (c) hub blocks from the price update to the liquidation. */
  blocks: number
  /** The keeper's own blocks_to_inclusion, for the cross-check. */
  keeperBlocks: number | null
}

/** What the keeper logged that the bench waits for, with performance.now() at the log call. */
type Logged = {
  at: number
  msg: string
  account?: string
  tx?: Hex
  reactionMs?: number
  triggerBlock?: number
}

const addressOf = (prefix: number, i: number) =>
  getAddress(`0x${(prefix + i).toString(16).padStart(40, '0')}`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const round1 = (ms: number) => Math.round(ms * 10) / 10
const n = (value: number) => value.toLocaleString('en-US')

/** "met, 83 ms under (−55.3%)" or "missed by 12 ms (+4.8%)", as bench/margin.ts's verdicts. */
function verdictMs(value: number, goal: number): string {
  const difference = value - goal
  const ratio = difference / goal
  const relative = `${ratio >= 0 ? '+' : '−'}${Math.abs(ratio * 100).toFixed(1)}%`
  const amount = `${n(Math.abs(Math.round(difference)))} ms`
  return difference <= 0 ? `met, ${amount} under (${relative})` : `missed by ${amount} (${relative})`
}

/** Polls for a receipt every `everyMs`; returns it with performance.now() when it was seen. */
async function receiptOf(
  hub: TestChain,
  hash: Hex,
  everyMs: number,
  timeoutMs = 30_000,
): Promise<{ blockNumber: bigint; status: string; seenAt: number }> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const receipt = (await hub.public.request({
      method: 'eth_getTransactionReceipt',
      params: [hash],
    })) as { blockNumber: Hex; status: Hex } | null
    if (receipt) {
      const seenAt = performance.now()
      return {
        blockNumber: hexToBigInt(receipt.blockNumber),
        status: receipt.status === '0x1' ? 'success' : 'reverted',
        seenAt,
      }
    }
    if (performance.now() > deadline) throw new Error(`${hash} not mined in ${timeoutMs} ms`)
    await sleep(everyMs)
  }
}

async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
) {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (performance.now() > deadline) throw new Error(`keeper reaction bench: no ${what} in ${timeoutMs} ms`)
    await sleep(10)
  }
}

/** Price reports signed with the devnet oracle keys (2f + 1 observations), sent by the deployer. */
function pricer(devnet: TestDevnet) {
  const hub = devnet.chain('hub')
  const feedOf = (symbol: string) => hub.entry.contracts[`PriceFeed.${symbol}`] as Address
  /** The feed's last answer and its time (0 and 0 before its first round). */
  const latest = async (symbol: string) => {
    const feed = { address: feedOf(symbol), abi: priceFeedAbi } as const
    if ((await hub.public.readContract({ ...feed, functionName: 'latestRound' })) === 0n)
      return { answer: 0n, updatedAt: 0n }
    const [, answer, , updatedAt] = await hub.public.readContract({
      ...feed,
      functionName: 'latestRoundData',
    })
    return { answer, updatedAt }
  }
  /** Sends a report of `answer` (8 decimals); the observation is the latest block's time, newer than the feed's. */
  const send = async (symbol: string, answer: bigint): Promise<Hex> => {
    const { updatedAt } = await latest(symbol)
    // Block timestamps are whole seconds: wait for the chain's clock to pass the feed's last round.
    const now = await waitFor('hub block newer than the last price', async () => {
      const { timestamp } = await hub.public.getBlock({ blockTag: 'latest' })
      return timestamp > updatedAt ? timestamp : undefined
    })
    return hub.wallet.writeContract({
      address: feedOf(symbol),
      abi: priceFeedAbi,
      functionName: 'transmit',
      args: [await signedReport(devnet, feedOf(symbol), answer, Number(now))],
    })
  }
  return { latest, send }
}

/**
 * Runs the keeper on a devnet with a book of 310 borrowers and measures 10 liquidations, each
 * caused by one price update (see the module's comment). Rows with goal and verdict.
 */
export async function benchKeeperReaction(): Promise<ResultRow[]> {
  const dir = tempDir('keeper-reaction')
  const devnet = await startTestDevnet({ chains: ['l1', 'hub'], blockTimeMs: HUB_BLOCK_MS })
  let keeper: RunningKeeper | undefined
  try {
    const hub = devnet.chain('hub')
    const engine = hub.entry.contracts.MarginEngine as Address
    const prices = pricer(devnet)
    const mined = async (hash: Hex, what: string) => {
      const receipt = await receiptOf(hub, hash, 10)
      if (receipt.status !== 'success') throw new Error(`${what} reverted: ${hash}`)
      return receipt
    }
    const usd8 = (price: number) => parseUnits(String(price), 8)
    for (const { symbol, price } of ASSETS)
      await mined(await prices.send(symbol, usd8(price)), `${symbol} price`)

    // The healthy book: both assets in every account.
    const crowd = Array.from({ length: CROWD }, (_, i) => addressOf(0xc0de0000, i))
    await openPositions(
      devnet,
      crowd.flatMap((account, i) =>
        ASSETS.map(
          (asset, j): Position => ({
            account,
            spoke: 'l1',
            token: asset.symbol,
            amount: asset.crowd,
            // The whole debt with the first credit.
            borrow: j === 0 ? parseUnits(String(300 + (i % 5) * 50), 6) : undefined,
          }),
        ),
      ),
    )
    // The accounts at risk, their debts worked out from a position's liquidation weight (LT × λ)
    // as the engine values it now.
    const positions = await hub.public.readContract({
      address: engine,
      abi: marginEngineAbi,
      functionName: 'positionsOf',
      args: [crowd[0]!],
    })
    const params = (assetId: number) =>
      hub.public.readContract({
        address: engine,
        abi: marginEngineAbi,
        functionName: 'assetParams',
        args: [assetId],
      })
    const atRisk: { symbol: string; account: Address }[] = []
    const risky: Position[] = []
    for (const [j, asset] of ASSETS.entries()) {
      const held = positions.find((p) => p.assetId === assetId(asset.symbol))
      if (!held) throw new Error(`no ${asset.symbol} position in the book`)
      const [{ liquidationThreshold }] = await params(held.assetId)
      // The liquidation value (USD WAD) of the account's collateral at today's price.
      const weightedValue =
        (asset.atRisk * held.valueUsd * liquidationThreshold * held.lambda) / held.amount / WAD / WAD
      for (let k = 0; k < PER_ASSET; k++) {
        const lhf = FIRST_LHF * SPACING ** k
        const account = addressOf(0xbad00000 + j * 0x100, k)
        const debtUsdWad = (weightedValue * 1_000_000n) / BigInt(Math.round(lhf * 1_000_000))
        atRisk.push({ symbol: asset.symbol, account })
        risky.push({
          account,
          spoke: 'l1',
          token: asset.symbol,
          amount: asset.atRisk,
          borrow: debtUsdWad / 10n ** 12n,
        })
      }
    }
    await openPositions(devnet, risky)

    // The keeper, its log lines read as they are written.
    const logged: Logged[] = []
    const destination = {
      write(line: string) {
        const at = performance.now()
        const entry = JSON.parse(line) as Omit<Logged, 'at'> & { level: number }
        // Warnings and errors go to stderr, but the margin calls every round makes.
        if (entry.level >= 40 && entry.msg !== 'margin call') process.stderr.write(line)
        logged.push({
          at,
          msg: entry.msg,
          account: entry.account,
          tx: entry.tx,
          reactionMs: entry.reactionMs,
          triggerBlock: entry.triggerBlock,
        })
      },
    }
    keeper = await startKeeper({
      manifest: devnet.manifest,
      account: mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: DEVNET_ROLES.keeper }),
      logger: pino({ level: 'info', base: { service: 'keeper' } }, destination),
      dbPath: `${dir}/keeper.db`,
      port: 0,
    })
    const url = keeper.url
    const api = async <T>(path: string): Promise<T> => (await fetch(`${url}${path}`)).json() as Promise<T>
    type Status = {
      block: number
      accounts: { indebted: number }
      liquidations: Record<string, number>
      reaction: {
        samples: number
        p50Ms: number | null
        maxMs: number | null
        maxBlocksToInclusion: number | null
      }
    }
    const caughtUp = async (block: bigint) =>
      waitFor(`keeper at block ${block}`, async () =>
        (await api<Status>('/status')).block >= Number(block) ? true : undefined,
      )

    // Fresh prices for both feeds (the book took a while), then the keeper must have read them.
    for (const { symbol, price } of ASSETS) {
      const { blockNumber } = await mined(await prices.send(symbol, usd8(price)), `${symbol} price`)
      await caughtUp(blockNumber)
    }
    const book = (await api<Status>('/status')).accounts.indebted
    if (book !== BOOK) throw new Error(`the keeper sees ${book} indebted accounts, not ${BOOK}`)
    if (logged.some((l) => l.msg === 'margin call' || l.msg === 'liquidation sent'))
      throw new Error('the book is not healthy at list prices')

    const rounds: Round[] = []
    for (let i = 0; i < ROUNDS; i++) {
      const { symbol, account } = atRisk[(i % 2) * PER_ASSET + Math.floor(i / 2)]!
      const { lhf } = await hub.public.readContract({
        address: engine,
        abi: marginEngineAbi,
        functionName: 'healthOf',
        args: [account],
      })
      const { answer } = await prices.latest(symbol)
      const target = (answer * BigInt(TARGET_LHF * 1e6) * 10n ** 12n) / lhf
      const from = logged.length
      const hash = await prices.send(symbol, target)
      const priceUpdate = await receiptOf(hub, hash, 2)
      if (priceUpdate.status !== 'success') throw new Error(`${symbol} price drop reverted: ${hash}`)
      const sent = await waitFor(`liquidation of ${account}`, () =>
        logged.slice(from).find((l) => l.msg === 'liquidation sent'),
      )
      if (sent.account !== account)
        throw new Error(`round ${i + 1}: the keeper liquidated ${sent.account}, expected ${account}`)
      if (sent.triggerBlock !== Number(priceUpdate.blockNumber))
        throw new Error(
          `round ${i + 1}: triggered by block ${sent.triggerBlock}, the price is in ${priceUpdate.blockNumber}`,
        )
      const liquidation = await receiptOf(hub, sent.tx!, 5)
      if (liquidation.status !== 'success')
        throw new Error(`round ${i + 1}: the liquidation reverted: ${sent.tx}`)
      // The keeper records the liquidation's end, then reads the account it healed.
      const confirmed = await waitFor('the liquidation confirmed by the keeper', async () => {
        const { liquidations } = await api<{
          liquidations: { tx: { hash: string } | null; result: { blocksToInclusion: number } | null }[]
        }>('/liquidations?status=confirmed')
        return liquidations.find((l) => l.tx?.hash === sent.tx)
      })
      await caughtUp(liquidation.blockNumber + 1n)
      const others = logged
        .slice(from)
        .filter((l) => (l.msg === 'liquidation sent' || l.msg === 'margin call') && l.account !== account)
      if (others.length)
        process.stderr.write(
          `keeper reaction bench, round ${i + 1}: also ${others.map((l) => `${l.msg} ${l.account}`).join(', ')}\n`,
        )
      rounds.push({
        symbol,
        account,
        reactionMs: sent.reactionMs!,
        fromMinedMs: round1(sent.at - priceUpdate.seenAt),
        blocks: Number(liquidation.blockNumber - priceUpdate.blockNumber),
        keeperBlocks: confirmed.result?.blocksToInclusion ?? null,
      })
      // Rounds apart from one another and from block boundaries (the keeper's 5 s full rechecks fall where they may).
      await sleep(HUB_BLOCK_MS * 2 + ((i * 97) % HUB_BLOCK_MS))
    }

    const status = await api<Status>('/status')
    const reactions = rounds.map((r) => r.reactionMs)
    const fromMined = rounds.map((r) => r.fromMinedMs)
    const blocks = rounds.map((r) => r.blocks)
    for (const r of rounds)
      if (r.keeperBlocks !== r.blocks)
        process.stderr.write(
          `keeper reaction bench: the keeper counts ${r.keeperBlocks} blocks, the bench ${r.blocks}\n`,
        )
    if (status.reaction.samples !== ROUNDS || status.reaction.maxMs !== Math.max(...reactions))
      process.stderr.write(
        `keeper reaction bench: /status reaction ${JSON.stringify(status.reaction)} differs\n`,
      )
    console.log(
      `keeper reaction: ${rounds
        .map((r) => `${r.symbol} ${r.reactionMs}/${r.fromMinedMs} ms, ${r.blocks} block(s)`)
        .join('; ')}`,
    )

    const runs = `${ROUNDS} rounds, one liquidation each`
    const where = `book of ${BOOK} borrowers`
    const msRow = (operation: string, value: number): ResultRow => ({
      system: SYSTEM,
      operation,
      value,
      unit: 'ms',
      goal: MS_GOAL,
      verdict: verdictMs(value, HUB_BLOCK_MS),
      runs,
    })
    const nextBlock = blocks.filter((b) => b <= 1).length
    const maxBlocks = Math.max(...blocks)
    return [
      msRow(
        `reaction p50: price-update block seen → liquidation tx accepted by the node (${where})`,
        round1(median(reactions)),
      ),
      msRow(
        `reaction max: price-update block seen → liquidation tx accepted by the node (${where})`,
        Math.max(...reactions),
      ),
      msRow(
        `price update mined (receipt seen) → liquidation tx sent, p50 (${where})`,
        round1(median(fromMined)),
      ),
      msRow(
        `price update mined (receipt seen) → liquidation tx sent, max (${where})`,
        Math.max(...fromMined),
      ),
      {
        system: SYSTEM,
        operation: `hub blocks from the price update to the liquidation's inclusion, max (${where})`,
        value: maxBlocks,
        unit: 'blocks',
        goal: '≤ 1 block after the price update',
        verdict: `${maxBlocks <= 1 ? 'met' : `missed by ${maxBlocks - 1} block(s)`} (${nextBlock} of ${ROUNDS} in the next block)`,
        runs,
      },
    ]
  } finally {
    await keeper?.stop()
    await devnet.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.table(await benchKeeperReaction())
}
