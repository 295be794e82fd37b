import { withdraw } from '../../sdk/margin/actions.js'
import { explainRevert, parseAddress, printResult, requireFlag } from '../margin.js'
import { senderAccount } from '../messaging.js'
import { loadManifest } from '../service.js'
import { parseFlags } from '../usage.js'

export const help = `isthmus withdraw: take collateral back; the hub debits first, then the vault releases

  --chain <name>          the spoke holding it
  --token <symbol>        e.g. WETH
  --amount <n>            in whole tokens
  --recipient <address>   who receives it on the spoke (default: the sender)
  --json                  print the transaction as JSON
  --manifest <path>       default .isthmus/devnet.json

Collateral that backs debt cannot leave: the withdrawal is refused with what is required and available.
Signs with ISTHMUS_SENDER_KEY, or on a devnet with its first user account.`

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('withdraw', argv, {
    chain: { type: 'string' },
    token: { type: 'string' },
    amount: { type: 'string' },
    recipient: { type: 'string' },
    json: { type: 'boolean' },
    manifest: { type: 'string' },
  })
  requireFlag('withdraw', flags, 'chain', 'token', 'amount')
  const manifest = await loadManifest(flags.manifest)
  try {
    const result = await withdraw(manifest, senderAccount(manifest), {
      chain: flags.chain!,
      symbol: flags.token!,
      amount: flags.amount!,
      recipient: parseAddress('--recipient', flags.recipient),
    })
    printResult(`withdrew ${flags.amount} ${flags.token}`, result, flags.json)
  } catch (error) {
    throw explainRevert(error)
  }
}
