/**
 * The risk engine's speed (sdk/risk/lhf.ts): LHF, borrow HF and Aave's HF of a whole book on one
 * core, the keeper's scan. Goal: 1,000,000 positions ≤ 150 ms with the columnar path.
 *
 * 1. `lhfBatch` over 250,000 accounts × 4 positions (seeded random, realistic parameters), tables
 *    built once: warm-up, then the median of 5 runs.
 * 2. `accountHealth` (objects, full per-position breakdown) over 10,000 accounts × 4, for comparison.
 *
 * The margin bench (bench/margin.ts) reports these rows; run alone, this prints the table:
 *   node --import tsx bench/riskEngine.ts
 */
import { pathToFileURL } from 'node:url'
import {
  type AssetRisk,
  accountHealth,
  allocBatchHealth,
  type ChainRisk,
  type CollateralPosition,
  lhfBatch,
  type PositionBook,
  type RiskGlobals,
  riskTables,
} from '../sdk/risk/lhf.js'
import { median, type ResultRow } from './lib/results.js'

export const RISK_ENGINE_GOAL = 'LHF over 1,000,000 positions on one core ≤ 150 ms'

const ACCOUNTS = 250_000
const PER_ACCOUNT = 4
const OBJECT_ACCOUNTS = 10_000
const WARMUP = 3
const RUNS = 5
const SEED = 20_240_601
const NOW = 1_700_000_000
const SYSTEM = 'Isthmus risk engine (TypeScript, 1 core)'

const globals: RiskGlobals = { detectTime: 60, hubFinalityTime: 1020, grace: 600 }

type Listed = { name: string; asset: AssetRisk; usd: number }
const push = { conf: 0, heartbeat: 3600, unwindPerDay: 0 }
/** The devnet's assets plus a pull-fed one, two of them with an unwind term. */
const ASSETS: Listed[] = [
  {
    name: 'WETH',
    usd: 3000,
    asset: {
      ...push,
      ltv: 0.8,
      liquidationThreshold: 0.83,
      liquidationBonus: 1.05,
      volatility: 0.7,
      theta: 0.005,
      decimals: 18,
    },
  },
  {
    name: 'wstETH',
    usd: 3500,
    asset: {
      ...push,
      ltv: 0.75,
      liquidationThreshold: 0.79,
      liquidationBonus: 1.06,
      volatility: 0.75,
      theta: 0.005,
      decimals: 18,
      unwindPerDay: 20_000e18,
    },
  },
  {
    name: 'WBTC',
    usd: 60_000,
    asset: {
      ...push,
      ltv: 0.73,
      liquidationThreshold: 0.78,
      liquidationBonus: 1.05,
      volatility: 0.55,
      theta: 0.004,
      decimals: 8,
      unwindPerDay: 1_200e8,
    },
  },
  {
    name: 'SOL-like (pull feed)',
    usd: 150,
    asset: {
      ltv: 0.65,
      liquidationThreshold: 0.7,
      liquidationBonus: 1.08,
      volatility: 1,
      theta: 0,
      conf: 0.0015,
      heartbeat: 0,
      unwindPerDay: 0,
      decimals: 9,
    },
  },
  {
    name: 'T-bill',
    usd: 100,
    asset: {
      ...push,
      ltv: 0.85,
      liquidationThreshold: 0.88,
      liquidationBonus: 1.02,
      volatility: 0.05,
      theta: 0.001,
      heartbeat: 86_400,
      decimals: 6,
    },
  },
]
const CHAINS: ChainRisk[] = [
  { relayTime: 60, bridgeIntensity: 0.02, bridgeLgd: 1 },
  { relayTime: 30, bridgeIntensity: 0.03, bridgeLgd: 0.8 },
  { relayTime: 120, bridgeIntensity: 0.01, bridgeLgd: 0.5 },
]

/** mulberry32: seeded, so every run measures the same book. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

/** A book of `accounts` × PER_ACCOUNT positions: $100–$1M each, prices mostly fresh, 3% in flight. */
function randomBook(accounts: number): PositionBook {
  const random = mulberry32(SEED)
  const n = accounts * PER_ACCOUNT
  const book: PositionBook = {
    account: new Uint32Array(n),
    asset: new Uint16Array(n),
    chain: new Uint16Array(n),
    amount: new Float64Array(n),
    price: new Float64Array(n),
    updatedAt: new Float64Array(n),
    final: new Uint8Array(n),
    debtUsd: new Float64Array(accounts),
  }
  for (let j = 0; j < accounts; j++) {
    let valueLt = 0
    for (let k = 0; k < PER_ACCOUNT; k++) {
      const i = j * PER_ACCOUNT + k
      const a = Math.floor(random() * ASSETS.length)
      const { asset, usd } = ASSETS[a]!
      const price = usd * (0.9 + 0.2 * random())
      const valueUsd = 100 * 10_000 ** random()
      book.account[i] = j
      book.asset[i] = a
      book.chain[i] = Math.floor(random() * CHAINS.length)
      book.amount[i] = Math.round((valueUsd / price) * 10 ** asset.decimals)
      book.price[i] = price
      book.updatedAt[i] = NOW - Math.floor(random() ** 2 * 3 * 3600)
      book.final[i] = random() < 0.97 ? 1 : 0
      valueLt += valueUsd * asset.liquidationThreshold
    }
    book.debtUsd[j] = random() < 0.1 ? 0 : valueLt * (0.3 + random())
  }
  return book
}

/** The first `accounts` accounts of the book as objects (bigint amounts, 8-decimal feed answers). */
function objectAccounts(book: PositionBook, accounts: number) {
  return Array.from({ length: accounts }, (_, j) => ({
    debtUsd: book.debtUsd[j]!,
    positions: Array.from({ length: PER_ACCOUNT }, (_, k): CollateralPosition => {
      const i = j * PER_ACCOUNT + k
      return {
        amount: BigInt(book.amount[i]!),
        price: BigInt(Math.round(book.price[i]! * 1e8)),
        priceDecimals: 8,
        updatedAt: book.updatedAt[i]!,
        final: book.final[i] === 1,
        asset: ASSETS[book.asset[i]!]!.asset,
        chain: CHAINS[book.chain[i]!]!,
      }
    }),
  }))
}

/**
 * Median wall time of RUNS calls after WARMUP untimed ones, in ms, and the median process CPU time
 * beside it: on a shared machine the two differ, and the CPU time shows what the work itself costs.
 */
function time(run: () => void): { wallMs: number; cpuMs: number } {
  for (let i = 0; i < WARMUP; i++) run()
  const wall: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < RUNS; i++) {
    const cpuStart = process.cpuUsage()
    const started = performance.now()
    run()
    wall.push(performance.now() - started)
    const used = process.cpuUsage(cpuStart)
    cpu.push((used.user + used.system) / 1000)
  }
  return { wallMs: median(wall), cpuMs: median(cpu) }
}

export async function benchRiskEngine(): Promise<ResultRow[]> {
  const tables = riskTables(
    ASSETS.map((l) => l.asset),
    CHAINS,
    globals,
  )
  const book = randomBook(ACCOUNTS)
  const out = allocBatchHealth(ACCOUNTS)
  const batch = time(() => lhfBatch(tables, book, NOW, out))

  const accounts = objectAccounts(book, OBJECT_ACCOUNTS)
  let objectLhf: number[] = []
  const objects = time(() => {
    objectLhf = accounts.map((a) => accountHealth(a.positions, a.debtUsd, globals, NOW).lhf)
  })
  checkAgreement(objectLhf, out.lhf)

  const row = (operation: string, positions: number, t: { wallMs: number; cpuMs: number }): ResultRow => ({
    system: SYSTEM,
    operation,
    value: t.wallMs,
    unit: 'ms',
    positions,
    nsPerPosition: (t.wallMs * 1e6) / positions,
    cpuMs: t.cpuMs,
    runs: `median of ${RUNS} after ${WARMUP} warm-up`,
  })
  const n = (x: number) => x.toLocaleString('en-US')
  return [
    row(
      `LHF of a book, ${n(ACCOUNTS)} accounts × ${PER_ACCOUNT}: lhfBatch (columns, tables built once)`,
      ACCOUNTS * PER_ACCOUNT,
      batch,
    ),
    row(
      `LHF of a book, ${n(OBJECT_ACCOUNTS)} accounts × ${PER_ACCOUNT}: accountHealth (objects, with breakdown)`,
      OBJECT_ACCOUNTS * PER_ACCOUNT,
      objects,
    ),
  ]
}

/** A fast path that disagreed with the object path would be measuring something else. */
function checkAgreement(objectLhf: readonly number[], batchLhf: Float64Array): void {
  for (const [j, lhf] of objectLhf.entries()) {
    const batch = batchLhf[j]!
    if (batch !== lhf && Math.abs(batch - lhf) > 1e-9 * Math.abs(lhf)) {
      throw new Error(`account ${j}: lhfBatch ${batch} but accountHealth ${lhf}`)
    }
  }
}

/** The table as bench/lib/results.ts prints it, without writing bench/results (the margin bench does). */
function printRows(rows: ResultRow[]): void {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))]
  const cell = (v: unknown) =>
    typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 2 }) : String(v ?? '')
  console.log(`\n## risk engine\n\n- goal: ${RISK_ENGINE_GOAL}\n`)
  console.log(`| ${columns.join(' | ')} |`)
  console.log(`| ${columns.map((c) => (c === 'value' ? '---:' : '---')).join(' | ')} |`)
  for (const r of rows) console.log(`| ${columns.map((c) => cell(r[c])).join(' | ')} |`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printRows(await benchRiskEngine())
}
