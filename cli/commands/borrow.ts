import { borrow } from '../../sdk/margin/actions.js'
import { explainRevert, parseAddress, printResult, requireFlag } from '../margin.js'
import { senderAccount } from '../messaging.js'
import { loadManifest } from '../service.js'
import { parseFlags } from '../usage.js'

export const help = `isthmus borrow: borrow USDC against the account's collateral on every chain

  --amount <usdc>         e.g. 1500 or 0.5
  --to <chain>            deliver on this chain (default: on the hub)
  --recipient <address>   who receives it (default: the sender)
  --json                  print the transaction as JSON
  --manifest <path>       default .isthmus/devnet.json

A borrow beyond the account's borrowing power is refused with what is required and available.
Signs with ISTHMUS_SENDER_KEY, or on a devnet with its first user account.`

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('borrow', argv, {
    amount: { type: 'string' },
    to: { type: 'string' },
    recipient: { type: 'string' },
    json: { type: 'boolean' },
    manifest: { type: 'string' },
  })
  requireFlag('borrow', flags, 'amount')
  const manifest = await loadManifest(flags.manifest)
  try {
    const result = await borrow(manifest, senderAccount(manifest), {
      amount: flags.amount!,
      to: flags.to,
      recipient: parseAddress('--recipient', flags.recipient),
    })
    printResult(`borrowed ${flags.amount} USDC${flags.to ? ` for ${flags.to}` : ''}`, result, flags.json)
  } catch (error) {
    throw explainRevert(error)
  }
}
