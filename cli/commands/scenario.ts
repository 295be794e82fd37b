import { intentScenario } from '../../scenarios/intent.js'
import { lendingScenario } from '../../scenarios/lending.js'
import { repoScenario } from '../../scenarios/repo.js'
import { reserveBreachScenario } from '../../scenarios/reserveBreach.js'
import { Timeline, timelineHeader } from '../../scenarios/timeline.js'
import type { Manifest } from '../../sdk/manifest.js'
import { toJson } from '../messaging.js'
import { loadManifest } from '../service.js'
import { parseCommand, parsePositiveInt, UsageError } from '../usage.js'

const SCENARIOS: Record<
  string,
  (manifest: Manifest, timeline: Timeline, timeoutMs: number) => Promise<void>
> = {
  lending: (manifest, timeline, timeoutMs) => lendingScenario(manifest, timeline, { timeoutMs }),
  repo: (manifest, timeline, timeoutMs) => repoScenario(manifest, timeline, { timeoutMs }),
  intent: (manifest, timeline, timeoutMs) => intentScenario(manifest, timeline, { timeoutMs }),
  'reserve-breach': (manifest, timeline, timeoutMs) =>
    reserveBreachScenario(manifest, timeline, { timeoutMs }),
}

export const help = `isthmus scenario <name>: run a scripted scenario on the running devnet

  lending     deposit WETH on l1 and wstETH on base, borrow USDC delivered on base, a price drop
              brings a margin call and then a liquidation that releases the seized WETH on l1
  repo        intraday repo of tokenized T-bills (bank) against USDC (hub): opening DvP, early
              repurchase (closing DvP), and a second repo that defaults (the lender keeps the bills)
  intent      an ERC-7683 order from base to the hub filled by the solver and repaid from the
              escrow; an unprofitable order nobody fills, refunded after its deadline
  reserve-breach
              T-bill reserves fall below supply: the breaker stops minting on bank and the hub gives
              the T-bill zero collateral weight, until reserves recover

  --timeout <s>       how long any one step may take (default 120)
  --json              print the timeline as JSON at the end
  --manifest <path>   default .isthmus/devnet.json

Prints each step (time, chain, transaction, gas, LHF) as it happens; exits 0 only if every step did.`

export async function run(argv: string[]): Promise<void> {
  const { values: flags, positionals } = parseCommand(
    'scenario',
    argv,
    { timeout: { type: 'string' }, json: { type: 'boolean' }, manifest: { type: 'string' } },
    1,
  )
  const name = positionals[0]!
  const scenario = SCENARIOS[name]
  if (!scenario)
    throw new UsageError(`unknown scenario "${name}" (known: ${Object.keys(SCENARIOS).join(', ')})`)
  const timeoutMs = (flags.timeout ? parsePositiveInt('--timeout', flags.timeout) : 120) * 1000
  const manifest = await loadManifest(flags.manifest)
  const started = Date.now()
  const timeline = new Timeline(flags.json ? undefined : (line) => console.log(line))
  if (!flags.json) console.log(timelineHeader())
  await scenario(manifest, timeline, timeoutMs)
  if (flags.json) console.log(toJson({ scenario: name, passed: true, steps: timeline.toJSON() }))
  else console.log(`scenario ${name} passed in ${((Date.now() - started) / 1000).toFixed(1)} s`)
}
