import type { Manifest } from '../../sdk/manifest.js'
import { type ReserveStatusReport, readReserveStatus, reserveSymbols } from '../../sdk/settlement/reserves.js'
import { toJson } from '../messaging.js'
import { loadManifest } from '../service.js'
import { parseCommand, UsageError } from '../usage.js'

export const help = `isthmus reserves [SYMBOL]: proof of reserve of the reserve-backed tokens, and what the hub makes of it
isthmus reserves set <SYMBOL> <amount|reset>: devnet: what the custodian reports to the oracle nodes

  [SYMBOL]            e.g. TBILL (default: every ReserveFeed.<SYMBOL> of the manifest)
  --json              the full report as JSON
  --manifest <path>   default .isthmus/devnet.json

On the token's chain: supply, reserves (the reserve feed's answer), the feed's age against the
token's maximum, the breaker and isBacked; the ReserveReporter's last report; on the hub, the
CollateralGate's last accepted status and whether the token is eligible as collateral.

set posts {"asset","amount"} (or {"reset":true}: back to the custodian's own level) to every
oracle-* service of the manifest; the nodes then push a reserve round and report the status.`

export async function run(argv: string[]): Promise<void> {
  const positionals = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--manifest')
  const setting = positionals[0] === 'set'
  const { values: flags, positionals: args } = parseCommand(
    'reserves',
    argv,
    { json: { type: 'boolean' }, manifest: { type: 'string' } },
    setting ? 3 : Math.min(positionals.length, 1),
  )
  const manifest = await loadManifest(flags.manifest)
  if (setting) {
    const result = await setReserves(manifest, args[1]!, args[2]!)
    console.log(flags.json ? toJson(result) : renderSet(result))
    return
  }
  const symbols = args[0] ? [args[0]] : reserveSymbols(manifest)
  if (!symbols.length)
    throw new UsageError('this deployment has no reserve-backed tokens (no ReserveFeed.<SYMBOL>)')
  const reports = await Promise.all(symbols.map((symbol) => readReserveStatus(manifest, symbol)))
  console.log(flags.json ? toJson(args[0] ? reports[0] : reports) : reports.map(render).join('\n\n'))
}

export type SetReservesResult = {
  asset: string
  reserves: number | null
  override: number | null
  nodes: string[]
  /** The oracle services that refused or could not be reached. */
  failed: { service: string; error: string }[]
}

/** Posts the change to every `oracle-*` service of the manifest (nodes sharing a process apply it once each, idempotently). */
export async function setReserves(
  manifest: Manifest,
  symbol: string,
  amount: string,
): Promise<SetReservesResult> {
  const reset = amount === 'reset'
  if (!reset && !(Number(amount) > 0))
    throw new UsageError(`the amount must be a positive number of whole tokens or "reset", got "${amount}"`)
  const services = Object.entries(manifest.services).filter(([name]) => name.startsWith('oracle-'))
  if (!services.length)
    throw new UsageError('no oracle-* services in the manifest: is the devnet running with its services?')
  const result: SetReservesResult = { asset: symbol, reserves: null, override: null, nodes: [], failed: [] }
  for (const [service, url] of services) {
    try {
      const response = await fetch(new URL('/reserves', url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(reset ? { asset: symbol, reset: true } : { asset: symbol, amount }),
        signal: AbortSignal.timeout(5_000),
      })
      const body = (await response.json()) as {
        error?: string
        asset?: string
        reserves?: number
        override?: number | null
        nodes?: string[]
      }
      if (!response.ok) throw new Error(body.error ?? `HTTP ${response.status}`)
      result.asset = body.asset ?? symbol
      result.reserves = body.reserves ?? null
      result.override = body.override ?? null
      for (const node of body.nodes ?? []) if (!result.nodes.includes(node)) result.nodes.push(node)
    } catch (error) {
      result.failed.push({ service, error: (error as Error).message })
    }
  }
  if (!result.nodes.length)
    throw new UsageError(
      `no oracle node took the change: ${result.failed.map((f) => `${f.service}: ${f.error}`).join('; ')}`,
    )
  return result
}

const num = (value: string | number | null) =>
  value === null ? '—' : Number(value).toLocaleString('en-US', { maximumFractionDigits: 6 })

function renderSet(r: SetReservesResult): string {
  const lines = [
    `${r.asset} reserves reported by the custodian: ${num(r.reserves)} ${r.override === null ? '(its own level)' : '(override)'}`,
    `  taken by ${r.nodes.length} oracle node(s): ${r.nodes.join(', ')}`,
  ]
  for (const f of r.failed) lines.push(`  ${f.service} refused: ${f.error}`)
  return lines.join('\n')
}

function render(r: ReserveStatusReport): string {
  const c = r.chain
  const feed =
    c.feedAgeSeconds === null
      ? 'no reserve round yet'
      : `round ${c.feedRound}, ${c.feedAgeSeconds} s old (max ${c.maxFeedAgeSeconds} s): ${c.feedStale ? 'STALE' : 'fresh'}`
  const lines = [
    `${r.symbol} on ${c.name} (token ${c.token}, reserve feed ${c.feed})`,
    `  supply ${num(c.supply)}   reserves ${num(c.reserves)}   headroom ${num(c.headroom)}`,
    `  reserve feed ${feed}`,
    `  breaker ${c.breakerTripped ? 'TRIPPED (minting stopped)' : 'ok'}   isBacked ${c.isBacked ? 'yes' : 'NO'}`,
  ]
  if (r.reporter) {
    const last = r.reporter.lastReport
    lines.push(
      `  reporter ${r.reporter.address}: ${
        last
          ? `last report ${last.ageSeconds} s ago: ${last.backed ? 'backed' : 'NOT backed'}`
          : 'never reported'
      } (heartbeat ${r.reporter.minIntervalSeconds} s)`,
    )
  } else lines.push('  no ReserveReporter on this chain: the hub is never told')
  if (r.hub) {
    const s = r.hub.status
    lines.push(
      `  hub gate ${r.hub.gate}: ${r.hub.isEligible ? 'eligible as collateral' : 'NOT eligible (collateral weight 0)'}${
        r.hub.tracked ? '' : ' (not tracked by the gate)'
      }`,
      s
        ? `    last accepted report: supply ${num(s.supply)}, reserves ${num(s.reserves)}, ${s.backed ? 'backed' : 'NOT backed'}, observed at ${new Date(s.observedAt * 1000).toISOString()}`
        : '    no report accepted yet',
    )
  }
  return lines.join('\n')
}
