/**
 * The one error base of the project (viem's shape): a short message for humans, optional details,
 * and the cause kept intact. `retryable` is decided here, once, so callers never guess.
 */
export type BaseErrorParameters = {
  details?: string
  cause?: unknown
  retryable?: boolean
}

export class BaseError extends Error {
  override name = 'IsthmusError'
  readonly shortMessage: string
  readonly details: string | undefined
  readonly retryable: boolean

  constructor(shortMessage: string, { details, cause, retryable = false }: BaseErrorParameters = {}) {
    super(details ? `${shortMessage}\n\nDetails: ${details}` : shortMessage, { cause })
    this.shortMessage = shortMessage
    this.details = details
    this.retryable = retryable
  }
}
