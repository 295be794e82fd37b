import { repay } from '../../sdk/margin/actions.js'
import { explainRevert, parseAddress, printResult, requireFlag } from '../margin.js'
import { senderAccount } from '../messaging.js'
import { loadManifest } from '../service.js'
import { parseFlags } from '../usage.js'

export const help = `isthmus repay: repay USDC debt on the hub

  --amount <usdc | max>   how much (max = all of it)
  --account <address>     whose debt (default: the sender)
  --json                  print the transaction as JSON
  --manifest <path>       default .isthmus/devnet.json

Signs with ISTHMUS_SENDER_KEY, or on a devnet with its first user account.`

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('repay', argv, {
    amount: { type: 'string' },
    account: { type: 'string' },
    json: { type: 'boolean' },
    manifest: { type: 'string' },
  })
  requireFlag('repay', flags, 'amount')
  const manifest = await loadManifest(flags.manifest)
  try {
    const result = await repay(manifest, senderAccount(manifest), {
      amount: flags.amount!,
      account: parseAddress('--account', flags.account),
    })
    printResult(`repaid ${flags.amount} USDC`, result, flags.json)
  } catch (error) {
    throw explainRevert(error)
  }
}
