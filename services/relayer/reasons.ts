import { type Abi, decodeErrorResult, type Hex } from 'viem'
import { devnetReceiverAbi } from '../../sdk/abi/DevnetReceiver.js'
import { inboxAbi } from '../../sdk/abi/Inbox.js'
import { rateLimiterAbi } from '../../sdk/abi/RateLimiter.js'

const knownErrors: Abi = [...inboxAbi, ...rateLimiterAbi, ...devnetReceiverAbi].filter(
  (item) => item.type === 'error',
)

/**
 * Puts an Inbox FAILURE's return data into words a user can act on: what failed, and what to do.
 * Unknown errors are shown by selector and data rather than hidden.
 */
export function explainFailure(returnData: Hex): string {
  if (returnData === '0x') return 'the delivery ran out of gas before the receiver: retry with more gas'
  const decoded = tryDecode(returnData)
  if (!decoded) return `unknown error ${returnData.slice(0, 10)} (data ${returnData})`
  const { errorName, args = [] } = decoded
  switch (errorName) {
    case 'InboxReceiverReverted': {
      const inner = args[0] as Hex
      if (inner === '0x')
        return 'the receiver reverted without a reason, or ran out of gas: retry with a higher gas limit'
      const cause = tryDecode(inner)
      return cause
        ? `the receiver reverted with ${cause.errorName}(${(cause.args ?? []).join(', ')})`
        : `the receiver reverted with data ${inner}`
    }
    case 'InboxReceiverNotAllowed':
      return `receiver ${args[1]} is not allowlisted for messages from chain ${args[0]}: ask the Inbox owner, then retry`
    case 'InboxUnsupportedToken':
      return `token ${args[1]} from chain ${args[0]} has no pool on the destination`
    case 'RateLimitReached':
      return `token ${args[0]} is rate limited: ${args[2]} available now, retry in ${args[1]} s`
    case 'RateLimitOverCapacity':
      return `transfer of ${args[2]} exceeds the rate limit capacity ${args[1]} of token ${args[0]}`
    default:
      return `${errorName}(${args.join(', ')})`
  }
}

function tryDecode(data: Hex) {
  try {
    return decodeErrorResult({ abi: knownErrors, data })
  } catch {
    return undefined // not one of ours: the caller shows the raw data
  }
}
