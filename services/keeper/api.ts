import { getAddress, isAddress } from 'viem'
import { getRoute } from '../core/getRoute.js'
import { HttpError, type Route } from '../core/http.js'
import { type TxView, txView } from '../core/txsTable.js'
import type { Keeper } from './keeper.js'
import { lhfNumber } from './keeper.js'
import type { AccountRow, LiquidationRow, MarginCallRow } from './schema.js'

/** USD WAD (a decimal string) as a plain number of dollars. */
const usd = (wad: string | null) => (wad === null ? null : Number(BigInt(wad)) / 1e18)
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

function presentAccount(row: AccountRow) {
  return {
    address: row.address,
    lhf: lhfNumber(row.lhf),
    lhfWad: row.lhf,
    collateralUsd: usd(row.collateral_usd),
    liquidationValueUsd: usd(row.liquidation_value_usd),
    debtUsd: usd(row.debt_usd),
    checkedBlock: row.checked_block,
    checkedAt: iso(row.checked_at),
    error: row.error,
    marginCallId: row.call_id,
    inMarginCall: row.call_id !== null,
    skipped: row.skip_code,
    discoveredBlock: row.discovered_block,
  }
}

function presentCall(row: MarginCallRow, tx: TxView | null) {
  return {
    id: row.id,
    account: row.account,
    block: row.block,
    lhf: lhfNumber(row.lhf),
    lhfWad: row.lhf,
    callLevel: lhfNumber(row.call_level),
    collateralUsd: usd(row.collateral_usd),
    debtUsd: usd(row.debt_usd),
    createdAt: iso(row.created_at),
    active: row.resolved_at === null,
    resolvedBlock: row.resolved_block,
    resolvedAt: iso(row.resolved_at),
    tx,
    txError: row.tx_error,
    webhook: { status: row.webhook_status, attempts: row.webhook_attempts, error: row.webhook_error },
  }
}

function presentLiquidation(row: LiquidationRow, tx: TxView | null) {
  return {
    id: row.id,
    account: row.account,
    status: row.status,
    code: row.code,
    reason: row.reason,
    chainId: row.chain_id,
    token: row.token,
    assetId: row.asset_id,
    repayAmount: row.repay_amount,
    lhf: lhfNumber(row.lhf),
    expected: {
      repaid: row.expected_repaid,
      seized: row.expected_seized,
      seizedValueUsd: usd(row.seized_value_usd),
      gas: row.gas_estimate,
      gasCostUsd: usd(row.gas_cost_usd),
      profitUsd: usd(row.profit_usd),
    },
    trigger: { block: row.trigger_block, kind: row.trigger_kind },
    reactionMs: row.reaction_ms,
    tx,
    result:
      row.status === 'confirmed'
        ? {
            repaid: row.repaid,
            seized: row.seized,
            bonus: row.bonus,
            lhfBefore: lhfNumber(row.lhf_before),
            lhfAfter: lhfNumber(row.lhf_after),
            minedBlock: row.mined_block,
            blocksToInclusion: row.blocks_to_inclusion,
          }
        : null,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  }
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : null

/**
 * The keeper's JSON API: GET /health, /status, /accounts[?below=<lhf>], /accounts/<address>,
 * /margin-calls[?active=1], /liquidations[?status=pending|confirmed|failed|skipped]. Lists are
 * newest first (accounts: riskiest first) and take ?limit= (default 100, at most 1000).
 */
export function keeperRoutes(keeper: Keeper): Route[] {
  const { db } = keeper
  const limitOf = (url: URL) => Math.min(Number(url.searchParams.get('limit') ?? 100) || 100, 1_000)
  // LHF is a WAD decimal string: compare by length, then lexically, to sort numerically in SQL.
  const byLhf = 'ORDER BY lhf IS NULL, length(lhf), lhf'

  return [
    getRoute('/health', () => ({ ok: true })),
    getRoute('/status', () => {
      const count = (sql: string) => db.prepare(sql).pluck().get() as number
      const level = keeper.globals?.marginCallLevel
      const reactions = db
        .prepare(
          "SELECT reaction_ms FROM liquidations WHERE reaction_ms IS NOT NULL AND status != 'skipped' ORDER BY id",
        )
        .pluck()
        .all() as number[]
      const blocks = db
        .prepare(
          'SELECT blocks_to_inclusion FROM liquidations WHERE blocks_to_inclusion IS NOT NULL ORDER BY id',
        )
        .pluck()
        .all() as number[]
      const sorted = [...reactions].sort((a, b) => a - b)
      const liquidations = Object.fromEntries(
        (
          db.prepare('SELECT status, COUNT(*) AS n FROM liquidations GROUP BY status').all() as {
            status: string
            n: number
          }[]
        ).map((r) => [r.status, r.n]),
      )
      return {
        keeper: keeper.address,
        chain: { name: keeper.hub.name, chainId: keeper.hub.chainId },
        engine: keeper.engine,
        block: Number(keeper.scanned),
        pollMs: keeper.pollMs,
        marginCallLevel: level === undefined ? null : lhfNumber(level),
        accounts: {
          known: count('SELECT COUNT(*) FROM accounts'),
          indebted: count("SELECT COUNT(*) FROM accounts WHERE debt_usd IS NOT NULL AND debt_usd != '0'"),
          inMarginCall: count('SELECT COUNT(*) FROM accounts WHERE call_id IS NOT NULL'),
        },
        marginCalls: {
          total: count('SELECT COUNT(*) FROM margin_calls'),
          active: count('SELECT COUNT(*) FROM margin_calls WHERE resolved_at IS NULL'),
          webhookPending: count("SELECT COUNT(*) FROM margin_calls WHERE webhook_status = 'pending'"),
          webhookFailed: count("SELECT COUNT(*) FROM margin_calls WHERE webhook_status = 'failed'"),
        },
        liquidations: { pending: 0, confirmed: 0, failed: 0, skipped: 0, ...liquidations },
        // From the keeper seeing the block with the triggering event (a price update) to its
        // liquidation transaction accepted by the node; and in blocks, from that block to the one
        // that included the liquidation (1 = the very next block).
        reaction: {
          samples: reactions.length,
          lastMs: reactions.at(-1) ?? null,
          p50Ms: percentile(sorted, 0.5),
          p95Ms: percentile(sorted, 0.95),
          maxMs: sorted.at(-1) ?? null,
          lastBlocksToInclusion: blocks.at(-1) ?? null,
          maxBlocksToInclusion: blocks.length ? Math.max(...blocks) : null,
        },
        lastEvaluation: keeper.lastEvaluation ?? null,
        transactionsInFlight: count("SELECT COUNT(*) FROM txs WHERE status IN ('signed', 'sent')"),
        webhook: keeper.webhook !== undefined,
      }
    }),
    getRoute('/accounts', (url) => {
      const below = url.searchParams.get('below')
      const rows = db.prepare(`SELECT * FROM accounts ${byLhf}`).all() as AccountRow[]
      const accounts = rows.map(presentAccount)
      const filtered =
        below === null ? accounts : accounts.filter((a) => a.lhf !== null && a.lhf < Number(below))
      return { accounts: filtered.slice(0, limitOf(url)) }
    }),
    getRoute(/^\/accounts\/(0x[0-9a-fA-F]{40})$/, (_, match) => {
      const address = match![1]!
      if (!isAddress(address, { strict: false })) throw new HttpError(400, `bad address ${address}`)
      const row = db.prepare('SELECT * FROM accounts WHERE address = ?').get(getAddress(address)) as
        | AccountRow
        | undefined
      if (!row)
        throw new HttpError(404, `account ${address} has no collateral on the engine (or is not seen yet)`)
      const calls = db
        .prepare('SELECT * FROM margin_calls WHERE account = ? ORDER BY id DESC')
        .all(row.address) as MarginCallRow[]
      const liquidations = db
        .prepare('SELECT * FROM liquidations WHERE account = ? ORDER BY id DESC')
        .all(row.address) as LiquidationRow[]
      return {
        ...presentAccount(row),
        marginCalls: calls.map((c) => presentCall(c, txView(db, c.tx_id))),
        liquidations: liquidations.map((l) => presentLiquidation(l, txView(db, l.tx_id))),
      }
    }),
    getRoute('/margin-calls', (url) => {
      const active = url.searchParams.get('active')
      const rows = db
        .prepare(
          `SELECT * FROM margin_calls ${active === '1' || active === 'true' ? 'WHERE resolved_at IS NULL' : ''}
           ORDER BY id DESC LIMIT ?`,
        )
        .all(limitOf(url)) as MarginCallRow[]
      return { marginCalls: rows.map((c) => presentCall(c, txView(db, c.tx_id))) }
    }),
    getRoute('/liquidations', (url) => {
      const status = url.searchParams.get('status')
      const rows = db
        .prepare('SELECT * FROM liquidations WHERE (? IS NULL OR status = ?) ORDER BY id DESC LIMIT ?')
        .all(status, status, limitOf(url)) as LiquidationRow[]
      return { liquidations: rows.map((l) => presentLiquidation(l, txView(db, l.tx_id))) }
    }),
  ]
}
