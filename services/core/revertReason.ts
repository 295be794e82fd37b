import { type Abi, BaseError, ContractFunctionRevertedError, decodeErrorResult, type Hex } from 'viem'

/** A revert as `ErrorName(arg, …)` when `abi` knows it; otherwise the node's words. */
export function revertReason(error: unknown, abi: Abi): string {
  if (error instanceof BaseError) {
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError)
    if (revert instanceof ContractFunctionRevertedError && revert.data) {
      return `${revert.data.errorName}(${(revert.data.args ?? []).map(String).join(', ')})`
    }
    const data = findRevertData(error)
    if (data && data !== '0x') {
      try {
        const decoded = decodeErrorResult({ abi, data })
        return `${decoded.errorName}(${(decoded.args ?? []).map(String).join(', ')})`
      } catch {
        return `unknown error ${data.slice(0, 10)}`
      }
    }
    return error.details || error.shortMessage
  }
  return (error as Error).message.split('\n')[0]!
}

/** The first line of an error, without viem's request dump. */
export function shortReason(error: unknown): string {
  if (error instanceof BaseError) return error.details || error.shortMessage
  return (error as Error).message.split('\n')[0]!
}

function findRevertData(error: BaseError): Hex | undefined {
  let found: Hex | undefined
  error.walk((e) => {
    const data = (e as { data?: unknown }).data
    if (typeof data === 'string' && data.startsWith('0x')) found = data as Hex
    return false
  })
  return found
}
