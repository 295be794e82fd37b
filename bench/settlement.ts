/**
 * npm run bench:settlement — what settlement costs and how long it takes.
 *
 * 1. Gas, one run (bench/settlementGas.ts): a cross-chain DvP with every message verified under a
 *    3-of-5 committee proof, the same swap as an HTLC pair, and an ERC-7683 intent fill + repayment.
 *    Every figure is a receipt's gasUsed.
 * 2. End-to-end time of a repo open on the devnet as `npm start` runs it (validators, relayer, oracle
 *    nodes, keeper and solver as processes): proposal → both opening legs escrowed → the
 *    coordinator's decision → T-bills paid on bank and cash paid on the hub (RUNS repos, one after
 *    the other, each between two fresh institutions).
 *
 * The results go to bench/results/settlement.{json,md}.
 */
import { mkdtempSync } from 'node:fs'
import os, { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePortRange } from '../devnet/ports.js'
import { defaultTopology } from '../devnet/topology.js'
import { measureRepoOpen, type RepoOpenTimings } from '../scenarios/repo.js'
import { readManifest } from '../sdk/manifest.js'
import { runCli } from '../testing/cli.js'
import { startTestDevnet } from '../testing/devnet.js'
import { median, type ResultRow, report } from './lib/results.js'
import { measureSettlementGas, SETTLEMENT_CHAINS, settlementGasRows } from './settlementGas.js'

const RUNS = Number(process.env.RUNS ?? 3)

async function gasRows(): Promise<ResultRow[]> {
  const devnet = await startTestDevnet({ chains: [...SETTLEMENT_CHAINS] })
  try {
    return settlementGasRows(await measureSettlementGas(devnet))
  } finally {
    await devnet.stop()
  }
}

async function repoOpenRows(): Promise<ResultRow[]> {
  const manifestPath = join(mkdtempSync(join(tmpdir(), 'isthmus-bench-settlement-')), 'devnet.json')
  const devnet = runCli(['devnet', '--port', String(await freePortRange(4)), '--manifest', manifestPath])
  try {
    await devnet.waitForLine(/^ready in /, 120_000)
    const manifest = await readManifest(manifestPath)
    const runs: RepoOpenTimings[] = []
    for (let i = 0; i < RUNS; i++) runs.push(await measureRepoOpen(manifest, { timeoutMs: 120_000 }))
    const stage = (operation: string, pick: (t: RepoOpenTimings) => number): ResultRow => {
      const values = runs.map(pick)
      return {
        system: 'Isthmus devnet',
        operation,
        value: Math.round(median(values)),
        unit: 'ms (median)',
        max: Math.round(Math.max(...values)),
        runs: runs.length,
      }
    }
    return [
      stage('repo open: both opening legs escrowed (after the proposal)', (t) => t.legsEscrowedMs),
      stage('repo open: coordinator decided (leg reports verified on the hub)', (t) => t.decidedMs),
      stage('repo open: cash paid to the borrower on the hub', (t) => t.cashPaidMs),
      stage('repo open: T-bills paid to the lender on bank', (t) => t.billsPaidMs),
      stage('repo open end to end: proposal → both legs paid', (t) => t.totalMs),
    ]
  } finally {
    devnet.kill()
    await devnet.exited
  }
}

const rows = [...(await gasRows()), ...(await repoOpenRows())]
const finality = defaultTopology
  .filter((c) => c.name === 'hub' || c.name === 'bank')
  .map((c) => `${c.name} ${c.finalityConfirmations} × ${c.blockTimeMs} ms`)
  .join(', ')
await report('settlement', rows, {
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
  gas: 'one run on a test devnet (a block per transaction), approvals excluded',
  'repo open': `${RUNS} runs on the full devnet; messages wait for finality (${finality}) before they are signed`,
})
