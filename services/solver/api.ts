import { getRoute } from '../core/getRoute.js'
import { HttpError, type Route } from '../core/http.js'
import { type TxView, txView } from '../core/txsTable.js'
import type { OrderRow } from './schema.js'
import type { Solver } from './solver.js'

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
const percentile = (sorted: readonly number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : null

function presentOrder(solver: Solver, row: OrderRow, tx: TxView | null) {
  const name = (chainId: number) => solver.chains.get(chainId)?.entry.name ?? String(chainId)
  return {
    id: row.id,
    status: row.status,
    code: row.code,
    reason: row.reason,
    origin: {
      chain: name(row.origin_chain_id),
      chainId: row.origin_chain_id,
      block: row.open_block,
      tx: row.open_tx,
      openedAt: row.opened_at,
    },
    destination: { chain: name(row.destination_chain_id), chainId: row.destination_chain_id },
    user: row.user,
    nonce: row.nonce,
    fillDeadline: row.fill_deadline,
    input: { token: row.input_token, amount: row.input_amount },
    output: { token: row.output_token, amount: row.output_amount, recipient: row.recipient },
    expected: { gas: row.gas_estimate, gasCost: row.gas_cost, profit: row.expected_profit },
    fill: row.fill_tx_id
      ? {
          tx,
          messageId: row.message_id,
          block: row.fill_block,
          blockTime: row.fill_time,
          sentAt: iso(row.fill_sent_at),
          filledAt: iso(row.filled_at),
          // From the solver seeing the Open to its fill accepted by the node, and to its receipt.
          reactionMs: row.fill_sent_at === null ? null : row.fill_sent_at - row.seen_at,
          latencyMs: row.filled_at === null ? null : row.filled_at - row.seen_at,
          // Chain time from the Open's block to the fill's block (seconds, the chains' clocks).
          blockLatencyS: row.fill_time === null ? null : row.fill_time - row.opened_at,
        }
      : null,
    outcome: row.outcome
      ? {
          kind: row.outcome,
          paidTo: row.paid_to,
          amount: row.paid_amount,
          tx: row.outcome_tx,
          block: row.outcome_block,
          at: iso(row.outcome_at),
          // From the fill mined to the repayment seen on the origin (relay and source finality).
          repaidAfterMs:
            row.status === 'repaid' && row.filled_at !== null ? row.outcome_at! - row.filled_at : null,
        }
      : null,
    seenAt: iso(row.seen_at),
    updatedAt: iso(row.updated_at),
  }
}

export type SolverOrderView = ReturnType<typeof presentOrder>

/**
 * The solver's JSON API: GET /health, /status, /orders[?status=<status>&limit=n] (newest first),
 * /orders/<orderId>.
 */
export function solverRoutes(solver: Solver): Route[] {
  const { db } = solver

  return [
    getRoute('/health', () => ({ ok: true })),
    getRoute('/status', () => {
      const byStatus = Object.fromEntries(
        (
          db.prepare('SELECT status, COUNT(*) AS n FROM orders GROUP BY status').all() as {
            status: string
            n: number
          }[]
        ).map((r) => [r.status, r.n]),
      )
      const latencies = (
        db
          .prepare('SELECT filled_at - seen_at FROM orders WHERE filled_at IS NOT NULL ORDER BY filled_at')
          .pluck()
          .all() as number[]
      ).sort((a, b) => a - b)
      const repaid = db
        .prepare("SELECT paid_amount, output_amount FROM orders WHERE status = 'repaid'")
        .all() as { paid_amount: string; output_amount: string }[]
      return {
        solver: solver.address,
        minSpreadBps: Number(solver.minSpreadBps),
        chains: [...solver.chains.values()].map((c) => ({
          name: c.entry.name,
          chainId: c.entry.chainId,
          originSettler: c.originSettler ?? null,
          destinationSettler: c.destinationSettler ?? null,
          block: Number(c.cursor),
          usdc: c.balance?.toString() ?? null,
        })),
        orders: { new: 0, skipped: 0, filling: 0, filled: 0, failed: 0, repaid: 0, ...byStatus },
        // USDC units: paid out on destinations for repaid orders, and repaid on origins.
        repaid: {
          count: repaid.length,
          spent: repaid.reduce((s, r) => s + BigInt(r.output_amount), 0n).toString(),
          received: repaid.reduce((s, r) => s + BigInt(r.paid_amount), 0n).toString(),
        },
        fillLatency: {
          samples: latencies.length,
          p50Ms: percentile(latencies, 0.5),
          maxMs: latencies.at(-1) ?? null,
        },
        transactionsInFlight: db
          .prepare("SELECT COUNT(*) FROM txs WHERE status IN ('signed', 'sent')")
          .pluck()
          .get(),
      }
    }),
    getRoute('/orders', (url) => {
      const status = url.searchParams.get('status')
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 100) || 100, 1_000)
      const rows = db
        .prepare('SELECT * FROM orders WHERE (? IS NULL OR status = ?) ORDER BY seen_at DESC, id LIMIT ?')
        .all(status, status, limit) as OrderRow[]
      return { orders: rows.map((r) => presentOrder(solver, r, txView(db, r.fill_tx_id))) }
    }),
    getRoute(/^\/orders\/(0x[0-9a-fA-F]{64})$/, (_, match) => {
      const row = db.prepare('SELECT * FROM orders WHERE id = ?').get(match![1]!.toLowerCase()) as
        | OrderRow
        | undefined
      if (!row) throw new HttpError(404, `order ${match![1]} not seen (yet)`)
      return presentOrder(solver, row, txView(db, row.fill_tx_id))
    }),
  ]
}
