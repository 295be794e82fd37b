/**
 * The isthmus CLI. Each command is a module with `help` and `run(argv)`, loaded only when called.
 * Errors end as one line on stderr: exit 2 for a bad command line, 1 for anything else.
 */
import { BaseError } from '../sdk/errors.js'
import { UsageError } from './usage.js'

type Command = { help: string; run(argv: string[]): Promise<void> }

const commands: Record<string, { summary: string; load(): Promise<Command> }> = {
  devnet: {
    summary: 'start the local multi-chain devnet (npm start)',
    load: () => import('./commands/devnet.js'),
  },
  deploy: { summary: 'deploy on chains given by RPC URL', load: () => import('./commands/deploy.js') },
  send: { summary: 'send a raw test message between chains', load: () => import('./commands/send.js') },
  messages: { summary: "list the relayer's recent messages", load: () => import('./commands/messages.js') },
  message: {
    summary: 'one message on both chains: state, signatures, latency',
    load: () => import('./commands/message.js'),
  },
  retry: {
    summary: 'execute a failed message again with more gas',
    load: () => import('./commands/retry.js'),
  },
  validator: {
    summary: 'run a validator (signs final batches)',
    load: () => import('./commands/validator.js'),
  },
  relayer: { summary: 'run the relayer (delivers messages)', load: () => import('./commands/relayer.js') },
  account: {
    summary: "an account's margin: LHF and each position's breakdown",
    load: () => import('./commands/account.js'),
  },
  deposit: { summary: 'lock collateral in a spoke vault', load: () => import('./commands/deposit.js') },
  borrow: { summary: 'borrow USDC on the hub or on a spoke', load: () => import('./commands/borrow.js') },
  repay: { summary: 'repay USDC debt', load: () => import('./commands/repay.js') },
  withdraw: { summary: 'withdraw collateral to its spoke', load: () => import('./commands/withdraw.js') },
  keeper: {
    summary: 'run the keeper (margin calls, liquidations)',
    load: () => import('./commands/keeper.js'),
  },
  scenario: {
    summary: 'run a scripted scenario on the devnet (lending, repo, intent, reserve-breach)',
    load: () => import('./commands/scenario.js'),
  },
  reserves: {
    summary: 'proof of reserve of reserve-backed tokens and the hub gate (devnet: set reserves)',
    load: () => import('./commands/reserves.js'),
  },
  intent: {
    summary: 'open, show or refund an ERC-7683 intent (USDC across chains, filled by a solver)',
    load: () => import('./commands/intent.js'),
  },
  solver: {
    summary: 'run the solver (fills ERC-7683 intents, repaid from the escrow)',
    load: () => import('./commands/solver.js'),
  },
  oracle: {
    summary: 'run oracle nodes (sign prices, push PriceFeed rounds)',
    load: () => import('./commands/oracle.js'),
  },
}

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length))
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  return [
    'usage: isthmus <command> [flags]',
    '',
    ...lines,
    '',
    'isthmus <command> --help for its flags',
  ].join('\n')
}

/** A generated ABI module is missing: the contracts were never built in this checkout. */
function isMissingBuild(error: unknown): boolean {
  const e = error as { code?: string; message?: string }
  return e?.code === 'ERR_MODULE_NOT_FOUND' && /[/\\]sdk[/\\]abi[/\\]/.test(e.message ?? '')
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === 'help') {
    console.log(usage())
    return name ? 0 : 2
  }
  const entry = commands[name]
  if (!entry) {
    console.error(`isthmus: unknown command "${name}"\n\n${usage()}`)
    return 2
  }
  try {
    const command = await entry.load()
    if (rest.includes('--help')) {
      console.log(command.help)
      return 0
    }
    await command.run(rest)
    return 0
  } catch (error) {
    if (isMissingBuild(error)) {
      console.error('isthmus: the contracts are not built in this checkout: run `npm run build`')
      return 1
    }
    if (error instanceof UsageError) {
      console.error(`isthmus ${name}: ${error.shortMessage}`)
      return 2
    }
    const message = error instanceof BaseError ? error.shortMessage : (error as Error).message
    console.error(`isthmus ${name}: ${message}`)
    if (process.env.ISTHMUS_DEBUG) console.error(error)
    return 1
  }
}

process.exitCode = await main(process.argv.slice(2))
