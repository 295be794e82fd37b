import { type ParseArgsConfig, parseArgs } from 'node:util'
import { BaseError } from '../sdk/errors.js'

/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends BaseError {
  override name = 'UsageError'
}

type Options = NonNullable<ParseArgsConfig['options']>

/** `parseArgs` in strict mode, with its errors turned into one clear line that names the command. */
export function parseFlags<T extends Options>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values
  } catch (cause) {
    const message = cause instanceof Error ? cause.message.split('\n')[0] : String(cause)
    throw new UsageError(`${message} (see: isthmus ${command} --help)`, { cause })
  }
}

export function parsePositiveInt(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${flag} expects a positive whole number, got "${value}"`)
  return n
}
