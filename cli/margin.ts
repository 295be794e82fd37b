import {
  ContractFunctionRevertedError,
  formatUnits,
  type Hex,
  isAddress,
  BaseError as ViemBaseError,
} from 'viem'
import { MarginError } from '../sdk/margin/account.js'
import type { ActionResult } from '../sdk/margin/actions.js'
import { toJson } from './messaging.js'
import { UsageError } from './usage.js'

/** Errors whose arguments are USD amounts in WAD: shown in dollars. */
const USD_ARGUMENTS = new Set(['EngineInsufficientCollateral'])

/**
 * A contract's refusal in one line, by the contract's own error name and arguments, e.g.
 * "EngineInsufficientCollateral(required 24000 USD, available 23991.6 USD)".
 */
export function explainRevert(error: unknown): Error {
  if (!(error instanceof ViemBaseError)) return error as Error
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError) as
    | ContractFunctionRevertedError
    | undefined
  const data = reverted?.data
  if (!data) return new MarginError(error.shortMessage)
  const args = (data.args ?? []) as readonly unknown[]
  const shown = USD_ARGUMENTS.has(data.errorName)
    ? [`required ${usd(args[0])}`, `available ${usd(args[1])}`]
    : args.map((a) => (typeof a === 'bigint' ? a.toString() : String(a)))
  return new MarginError(`refused: ${data.errorName}(${shown.join(', ')})`)
}

const usd = (wad: unknown) => `${Number(formatUnits(wad as bigint, 18)).toFixed(2)} USD`

export function parseAddress(flag: string, value: string | undefined): Hex | undefined {
  if (value === undefined) return undefined
  if (!isAddress(value)) throw new UsageError(`${flag} expects an address, got "${value}"`)
  return value
}

export function requireFlag(command: string, flags: Record<string, unknown>, ...names: string[]): void {
  const missing = names.filter((n) => flags[n] === undefined)
  if (missing.length)
    throw new UsageError(
      `${missing.map((m) => `--${m}`).join(', ')} required (see: isthmus ${command} --help)`,
    )
}

export function printResult(what: string, result: ActionResult, json: boolean | undefined): void {
  if (json) {
    console.log(toJson(result))
    return
  }
  const message = result.messageId ? `, message ${result.messageId}` : ''
  console.log(`${what} on ${result.chain}: tx ${result.tx}, gas ${result.gasUsed}${message}`)
}
