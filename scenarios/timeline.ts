import type { Abi, Hash, PublicClient } from 'viem'
import { BaseError } from '../sdk/errors.js'

export class ScenarioError extends BaseError {
  override name = 'ScenarioError'
}

/** Where a step happened: its chain, transaction and gas. */
export type StepRecord = { chain: string; tx: Hash; gasUsed: bigint }

type Row = { at: number; step: string; record?: StepRecord; lhf?: number }

/** The steps of a scenario as they happen, printed as they come and as a table at the end. */
export class Timeline {
  readonly rows: Row[] = []
  private readonly started = Date.now()

  constructor(private readonly print: (line: string) => void = () => {}) {}

  step(step: string, record: StepRecord, lhf?: number): void {
    const row = { at: Date.now() - this.started, step, record, lhf }
    this.rows.push(row)
    this.print(formatRow(row))
  }

  note(text: string): void {
    const row = { at: Date.now() - this.started, step: text }
    this.rows.push(row)
    this.print(formatRow(row))
  }

  toJSON() {
    return this.rows.map((r) => ({
      seconds: r.at / 1000,
      step: r.step,
      chain: r.record?.chain,
      tx: r.record?.tx,
      gasUsed: r.record?.gasUsed.toString(),
      lhf: r.lhf === undefined ? undefined : Number.isFinite(r.lhf) ? r.lhf : null,
    }))
  }
}

const HEADER = `${'time'.padStart(7)}  ${'chain'.padEnd(5)}  ${'tx'.padEnd(12)}  ${'gas'.padStart(8)}  ${'LHF'.padStart(7)}  step`
export const timelineHeader = () => HEADER

function formatRow(row: Row): string {
  const lhf = row.lhf === undefined ? '' : Number.isFinite(row.lhf) ? row.lhf.toFixed(4) : '∞'
  return [
    `${(row.at / 1000).toFixed(1)}s`.padStart(7),
    (row.record?.chain ?? '').padEnd(5),
    (row.record ? `${row.record.tx.slice(0, 10)}…` : '').padEnd(12),
    (row.record ? String(row.record.gasUsed) : '').padStart(8),
    lhf.padStart(7),
    row.step,
  ].join('  ')
}

type EventLog = { args: object; transactionHash: Hash; blockNumber: bigint }

/**
 * Polls for an event until one matches; returns it with its transaction and gas. A timeout is a
 * failed step, named by `what`.
 */
export async function waitForEvent<L extends EventLog = EventLog>(
  client: PublicClient,
  query: {
    address: `0x${string}`
    abi: Abi
    eventName: string
    args?: Record<string, unknown>
    fromBlock: bigint
    match?: (log: L) => boolean
    timeoutMs: number
    what: string
  },
): Promise<L & { tx: Hash; gasUsed: bigint }> {
  const deadline = Date.now() + query.timeoutMs
  while (Date.now() < deadline) {
    const logs = (await client.getContractEvents({
      address: query.address,
      abi: query.abi,
      eventName: query.eventName,
      args: query.args,
      fromBlock: query.fromBlock,
      strict: true,
    } as never)) as unknown as L[]
    const hit = logs.find((log) => query.match?.(log) ?? true)
    if (hit) {
      const receipt = await client.getTransactionReceipt({ hash: hit.transactionHash })
      return { ...hit, tx: hit.transactionHash, gasUsed: receipt.gasUsed }
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new ScenarioError(`timed out after ${query.timeoutMs / 1000} s waiting for ${query.what}`)
}
