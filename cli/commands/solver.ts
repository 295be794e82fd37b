import { join } from 'node:path'
import { type Hex, type LocalAccount, parseUnits } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { DEVNET_ROLES } from '../../devnet/topology.js'
import type { Manifest } from '../../sdk/manifest.js'
import { createLogger } from '../../services/core/logger.js'
import { startSolver } from '../../services/solver/solver.js'
import { accountFromEnv, loadManifest, runUntilStopped, serviceDataDir } from '../service.js'
import { parseFlags, parsePositiveInt, UsageError } from '../usage.js'

export const help = `isthmus solver: fill ERC-7683 intents from its own USDC, get repaid from the origin escrow

  --manifest <path>        deployment manifest (default .isthmus/devnet.json)
  --data <dir>             where its SQLite state lives (default .isthmus/data/<network>): solver.db
  --port <n>               HTTP port for the solver API (default: any free port)
  --min-spread-bps <n>     keep at least this much of the input after gas, in basis points (default 5)
  --gas-cost <usdc>        a fixed gas cost per fill in USDC (default: the fill's gas estimate at the
                           current fee, priced with the hub's WETH feed)

The key comes from ISTHMUS_SOLVER_KEY; on a devnet it defaults to the devnet solver account
(mnemonic index 20, which holds 1,000,000 USDC on every chain). API: GET /status, /orders,
/orders/<orderId>.`

/** The solver's key: ISTHMUS_SOLVER_KEY, or on a devnet manifest the devnet solver account. */
export function solverAccount(manifest: Manifest): LocalAccount {
  const devnetKey =
    manifest.network === 'devnet' ? manifest.accounts[DEVNET_ROLES.solver]?.privateKey : undefined
  const account =
    accountFromEnv('ISTHMUS_SOLVER_KEY') ?? (devnetKey ? privateKeyToAccount(devnetKey as Hex) : undefined)
  if (!account) throw new UsageError('no key: set ISTHMUS_SOLVER_KEY')
  return account
}

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('solver', argv, {
    manifest: { type: 'string' },
    data: { type: 'string' },
    port: { type: 'string' },
    'min-spread-bps': { type: 'string' },
    'gas-cost': { type: 'string' },
  })
  const minSpreadBps = flags['min-spread-bps'] === undefined ? 5 : Number(flags['min-spread-bps'])
  if (!Number.isInteger(minSpreadBps) || minSpreadBps < 0 || minSpreadBps >= 10_000)
    throw new UsageError(`--min-spread-bps expects a whole number 0–9999, got "${flags['min-spread-bps']}"`)
  let gasCostUsdc: bigint | undefined
  if (flags['gas-cost'] !== undefined) {
    if (!/^\d+(\.\d{1,6})?$/.test(flags['gas-cost']))
      throw new UsageError(`--gas-cost expects USDC ≥ 0 (up to 6 decimals), got "${flags['gas-cost']}"`)
    gasCostUsdc = parseUnits(flags['gas-cost'], 6)
  }
  const manifest = await loadManifest(flags.manifest)
  const account = solverAccount(manifest)
  const solver = await startSolver({
    manifest,
    account,
    dbPath: join(flags.data ?? serviceDataDir(manifest), 'solver.db'),
    port: flags.port ? parsePositiveInt('--port', flags.port) : 0,
    minSpreadBps,
    gasCostUsdc,
    logger: createLogger('solver'),
  })
  console.log(`solver ${account.address} ready ${solver.url}`)
  await runUntilStopped(solver.stop)
}
