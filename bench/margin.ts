/**
 * npm run bench:margin — the margin stack's gas side by side with Aave v3, and the risk engine's speed.
 *
 * 1. Gas, one run, one EVM: the devnet as `startTestDevnet` deploys it (chains l1, hub, base and
 *    bank, a block per transaction, margin stack included), Isthmus measured first through real
 *    transactions (bench/marginGas.ts: deposits on spokes, credits, borrows, withdrawal, price drop
 *    and liquidation, every message delivered with a 3-of-5 committee proof), then Aave v3's own
 *    contracts from npm deployed on the same hub chain and measured there (bench/peers/aave.ts).
 *    Every figure is a receipt's gasUsed.
 * 2. The risk engine (bench/riskEngine.ts): LHF of a 1,000,000-position book on one core.
 * 3. Keeper reaction (price update → liquidation transaction sent): {@link keeperReactionRows}.
 *
 * Each row carries its goal (or, for Aave, the reference it is checked against) and a verdict.
 * The results go to bench/results/margin.{json,md}.
 */
import os from 'node:os'
import { pathToFileURL } from 'node:url'
import { keccak256, stringToHex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { startTestDevnet } from '../testing/devnet.js'
import { type ResultRow, report } from './lib/results.js'
import {
  MARGIN_OPERATIONS,
  type MarginGasMeasurement,
  type MarginGasStep,
  marginGasRows,
  marginGoals,
  measureMarginGas,
} from './marginGas.js'
import { AAVE_REFERENCE, AAVE_VERSION, type AaveMeasurement, measureAave } from './peers/aave.js'
import { benchRiskEngine, RISK_ENGINE_GOAL } from './riskEngine.js'

/** The risk engine's goal in ms, for the verdict (RISK_ENGINE_GOAL says it in words). */
const RISK_ENGINE_GOAL_MS = 150
/** How far Aave's figures may stray from AAVE_REFERENCE before the peer measurement is suspect. */
const AAVE_TOLERANCE = 0.15

const AAVE_SYSTEM = `Aave v3 (@aave/core-v3 ${AAVE_VERSION}, npm)`
const NO_GOAL = '—'

const n = (value: number | bigint) => Number(value).toLocaleString('en-US')
const percent = (ratio: number) => `${ratio >= 0 ? '+' : '−'}${Math.abs(ratio * 100).toFixed(1)}%`

/** "met, 26,220 under (−13.5%)" or "missed by 15,520 (+7.8%)": how a figure stands against an upper bound. */
export function verdict(value: number, goal: number, unit = ''): string {
  const difference = value - goal
  const relative = percent(difference / goal)
  const amount = `${n(Math.abs(Math.round(difference)))}${unit}`
  return difference <= 0 ? `met, ${amount} under (${relative})` : `missed by ${amount} (${relative})`
}

/** Isthmus's rows, each with its goal and verdict (goals in bench/marginGas.ts's `marginGoals`). */
export function isthmusRows(isthmus: MarginGasMeasurement, aave: AaveMeasurement): ResultRow[] {
  const goals = marginGoals(aave)
  const aaveLabel: Partial<Record<MarginGasStep, string>> = {
    creditFirst: "Aave's supply (first)",
    credit: "Aave's supply (steady state)",
  }
  const steps = Object.keys(MARGIN_OPERATIONS) as MarginGasStep[]
  return marginGasRows(isthmus).map((row, i) => {
    const step = steps[i]!
    const goal = goals[step]
    const label = aaveLabel[step]
    return {
      ...row,
      goal: goal === undefined ? NO_GOAL : label ? `≤ ${label}, ${n(goal)}` : `≤ ${n(goal)}`,
      verdict: goal === undefined ? NO_GOAL : verdict(row.value, Number(goal)),
    }
  })
}

/** Aave's rows, each checked against the figure measured before (bench/peers/aave.ts) where there is one. */
export function aaveComparisonRows(aave: AaveMeasurement): ResultRow[] {
  const row = (operation: string, gas: bigint, reference?: bigint): ResultRow => {
    const value = Number(gas)
    const off = reference === undefined ? 0 : value / Number(reference) - 1
    return {
      system: AAVE_SYSTEM,
      operation,
      value,
      unit: 'gas',
      goal:
        reference === undefined
          ? 'peer (no reference)'
          : `peer; reference ${n(reference)} ± ${AAVE_TOLERANCE * 100}%`,
      verdict:
        reference === undefined
          ? NO_GOAL
          : `${Math.abs(off) <= AAVE_TOLERANCE ? 'as expected' : 'off the reference'} (${percent(off)})`,
    }
  }
  return [
    row('supply (first)', aave.supplyFirst),
    row('supply (steady state)', aave.supply, AAVE_REFERENCE.supply),
    row('borrow (first)', aave.borrow, AAVE_REFERENCE.borrow),
    row('liquidationCall', aave.liquidationCall, AAVE_REFERENCE.liquidationCall),
  ]
}

/** The risk engine's rows with the goal on the 1,000,000-position scan. */
export function riskEngineRows(rows: readonly ResultRow[]): ResultRow[] {
  return rows.map((row, i) => {
    // benchRiskEngine's first row is lhfBatch over the whole book, the one the goal is about.
    const goal = i === 0 && row.positions === 1_000_000
    return {
      ...row,
      goal: goal ? `≤ ${RISK_ENGINE_GOAL_MS} ms` : NO_GOAL,
      verdict: goal ? verdict(row.value, RISK_ENGINE_GOAL_MS, ' ms') : NO_GOAL,
    }
  })
}

export type GasComparison = {
  rows: ResultRow[]
  isthmus: MarginGasMeasurement
  aave: AaveMeasurement
  anvil: string
}

/** Part 1: Isthmus, then Aave on the same hub chain of one devnet. */
export async function measureGasComparison(): Promise<GasComparison> {
  const devnet = await startTestDevnet({ chains: ['l1', 'hub', 'base', 'bank'] })
  try {
    const hub = devnet.chain('hub')
    const anvil = await hub.public.request({ method: 'web3_clientVersion' })
    // Isthmus first: Aave's measurement moves the hub's clock 12 s per Pool call, which would age
    // the prices Isthmus's borrows read.
    const isthmus = await measureMarginGas(devnet)
    // Fixed keys (as bench/peers/aave-run.ts), so every run sends the same transactions.
    const key = (name: string) => privateKeyToAccount(keccak256(stringToHex(`isthmus bench ${name}`)))
    const aave = await measureAave(hub, {
      supplier: key('aave supplier'),
      borrower: key('aave borrower'),
      liquidator: key('aave liquidator'),
    })
    return { rows: [...isthmusRows(isthmus, aave), ...aaveComparisonRows(aave)], isthmus, aave, anvil }
  } finally {
    await devnet.stop()
  }
}

/**
 * Part 3, the keeper's reaction: from a price update on the hub to the keeper's liquidation
 * transaction being sent (goal: within one hub block), measured by bench/keeperReaction.ts on its
 * own devnet (hub blocks every 250 ms, the keeper in this process, a book of 310 borrowers, 10
 * liquidations); its rows carry `goal` and `verdict` like the others and are appended to the results.
 */
export async function keeperReactionRows(): Promise<ResultRow[]> {
  // Imported here, so that this function is all that part 3 changes in this file.
  const { benchKeeperReaction } = await import('./keeperReaction.js')
  return benchKeeperReaction()
}

/** Writes bench/results/margin.{json,md}: the measured rows, then `extraRows` (the keeper's, say). */
export async function reportMargin(
  rows: readonly ResultRow[],
  extraRows: readonly ResultRow[],
  anvil: string,
): Promise<void> {
  const cpu = os.cpus()
  await report('margin', [...rows, ...extraRows], {
    machine: `${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    chains: `${anvil}, default hardfork; startTestDevnet with l1, hub, base and bank (a block per transaction), the margin stack as deploy/margin.ts deploys it; Aave on the same hub chain after Isthmus`,
    gas: "receipts' gasUsed (intrinsic gas, calldata and refunds included). Every Isthmus delivery (Inbox.execute) includes verifying a 3-of-5 committee proof, signed with the devnet validator keys as the relayer sends it; prices are reports of 3 observations signed with the devnet oracle keys. Figures move by a few dozen gas between runs (zero bytes in signatures and message ids)",
    isthmus:
      'a live market first (another account holds every asset, borrows on the hub and to base, withdraws on l1), then the borrower: 5 WETH on l1 credited (first position) and topped up, 8 wstETH on base and 0.5 WBTC on bank credited, borrows 97% of its borrowing power on the hub less 5,000 USDC delivered to base, withdraws 0.25 wstETH on base, WETH drops until its LHF is 0.98, a liquidator repays 10,000 USDC and seizes WETH on l1 (bench/marginGas.ts)',
    aave: `WETH collateral, USDC debt, a live market first; first supply and a top-up of 10 WETH, a first borrow at health factor 1.1, liquidationCall at 0.99 repaying 10,000 USDC (bench/peers/aave.ts)`,
    compared:
      "Aave's supply moves the tokens on the chain it credits; an Isthmus deposit moves them on the spoke (the CollateralVault.deposit rows) and the hub credit is a relayed message. Borrowed USDC and seized collateral go to a first balance of that token in both",
    goals: `hub credit with verification ≤ Aave's supply on the same chain (first vs first, top-up vs top-up); borrow ≤ 200,000 (paid on the hub or delivered to a spoke); liquidation with its seize message ≤ 300,000; ${RISK_ENGINE_GOAL}`,
    keeper: extraRows.length
      ? 'its own l1 + hub devnet with 250 ms blocks, the keeper in-process, 300 healthy borrowers and 10 at-risk accounts; 10 price drops, each making one account liquidatable (bench/keeperReaction.ts)'
      : 'keeper reaction (price update → liquidation sent, ≤ one hub block): not measured in this run',
  })
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const gas = await measureGasComparison()
  const risk = riskEngineRows(await benchRiskEngine())
  await reportMargin([...gas.rows, ...risk], await keeperReactionRows(), gas.anvil)
}
