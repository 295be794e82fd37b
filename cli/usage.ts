import { type ParseArgsConfig, parseArgs } from 'node:util'
import { BaseError } from '../sdk/errors.js'

/** A bad command line: printed as one line, exit code 2. */
export class UsageError extends BaseError {
  override name = 'UsageError'
}

type Options = NonNullable<ParseArgsConfig['options']>

/** `parseArgs` in strict mode, with its errors turned into one clear line that names the command. */
export function parseFlags<T extends Options>(command: string, argv: string[], options: T) {
  return parseCommand(command, argv, options, 0).values
}

/** Like {@link parseFlags}, for commands that take exactly `positionals` arguments (e.g. a message id). */
export function parseCommand<T extends Options>(
  command: string,
  argv: string[],
  options: T,
  positionals: number,
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: true }>
  >
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true })
  } catch (cause) {
    // Node appends advice about positional arguments that does not apply to our commands.
    const message =
      cause instanceof Error
        ? cause.message.split('\n')[0]!.split('. To specify a positional')[0]
        : String(cause)
    throw new UsageError(`${message} (see: isthmus ${command} --help)`, { cause })
  }
  if (parsed.positionals.length !== positionals) {
    const what = positionals ? `${positionals} argument${positionals > 1 ? 's' : ''}` : 'no arguments'
    throw new UsageError(`expects ${what}, got ${parsed.positionals.length} (see: isthmus ${command} --help)`)
  }
  return parsed
}

export function parsePositiveInt(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0)
    throw new UsageError(`${flag} expects a positive whole number, got "${value}"`)
  return n
}
