import { type AccountReport, readAccount } from '../../sdk/margin/account.js'
import { parseAddress } from '../margin.js'
import { senderAccount, toJson } from '../messaging.js'
import { loadManifest } from '../service.js'
import { parseCommand } from '../usage.js'

export const help = `isthmus account [address]: an account's margin on the hub, position by position

  [address]           default: the sender (ISTHMUS_SENDER_KEY, or the devnet's first user)
  --json              the full report as JSON
  --manifest <path>   default .isthmus/devnet.json

Shows the latency-adjusted health factor (LHF) and, per position, its chain, amount, price and
age, value, λ and what λ is made of: the liquidation horizon, the oracle error, the bridge loss,
whether the price is fresh, and whether the deposit is final (in-flight deposits count for nothing).`

export async function run(argv: string[]): Promise<void> {
  const { values: flags, positionals } = parseCommand(
    'account',
    argv,
    { json: { type: 'boolean' }, manifest: { type: 'string' } },
    argv.some((a) => !a.startsWith('--') && /^0x/.test(a)) ? 1 : 0,
  )
  const manifest = await loadManifest(flags.manifest)
  const address = parseAddress('address', positionals[0]) ?? senderAccount(manifest).address
  const report = await readAccount(manifest, address)
  console.log(flags.json ? toJson(report) : render(report))
}

const fmt = (n: number | null, digits = 4) => (n === null ? '∞' : n.toFixed(digits))
const money = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 2 })

function render(r: AccountReport): string {
  const lines = [
    `account ${r.account}`,
    `  LHF ${fmt(r.lhf)}  (margin call below ${r.marginCallLevel}, liquidation below 1)   borrow HF ${fmt(r.borrowHf)}`,
    `  debt ${money(Number(r.debtUsdc))} USDC   collateral ${money(r.collateralUsd)} USD   liquidation value ${money(r.liquidationValueUsd)} USD   borrowing power ${money(r.borrowPowerUsd)} USD`,
    `  risk engine (off chain, in-flight deposits included): LHF ${fmt(r.risk.lhf)}, Aave-style HF ${fmt(r.risk.aaveHf)}`,
  ]
  if (r.positions.length === 0) return [...lines, '  no collateral'].join('\n')
  lines.push(
    '',
    '  chain  token   amount          price      age   value USD     λ       horizon  oracle e  bridge b  price   finality',
  )
  for (const p of r.positions) {
    lines.push(
      [
        '  ',
        p.chain.padEnd(6),
        p.symbol.padEnd(7),
        p.amount.padEnd(15),
        money(p.priceUsd).padStart(10),
        `${p.priceAgeSeconds}s`.padStart(5),
        money(p.valueUsd).padStart(11),
        p.lambda.toFixed(4).padStart(7),
        `${Math.round(p.horizonSeconds)}s`.padStart(9),
        p.oracleError.toExponential(2).padStart(9),
        p.bridgeLoss.toExponential(2).padStart(9),
        (p.fresh ? 'fresh' : 'STALE').padStart(7),
        p.final ? '  final' : `  in flight (${p.messageId?.slice(0, 10)}…)`,
      ].join(' '),
    )
  }
  return lines.join('\n')
}
