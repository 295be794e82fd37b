import { privateKeyToAccount } from 'viem/accounts'
import { DEVNET_ROLES } from '../../devnet/topology.js'
import { deposit, faucet } from '../../sdk/margin/actions.js'
import { explainRevert, parseAddress, printResult, requireFlag } from '../margin.js'
import { senderAccount } from '../messaging.js'
import { loadManifest } from '../service.js'
import { parseFlags, UsageError } from '../usage.js'

export const help = `isthmus deposit: lock collateral in a spoke's vault; the hub credits it once final

  --chain <name>          the spoke (e.g. l1, base)
  --token <symbol>        e.g. WETH, wstETH, WBTC
  --amount <n>            in whole tokens (e.g. 10 or 0.5)
  --account <address>     the hub account to credit (default: the sender)
  --borrow <usdc>         deposit-and-borrow: borrow this much once credited (one message)
  --borrow-to <chain>     where the borrowed USDC is delivered (default hub)
  --faucet                devnet: mint the tokens to the sender first
  --json                  print the transaction as JSON
  --manifest <path>       default .isthmus/devnet.json

Signs with ISTHMUS_SENDER_KEY, or on a devnet with its first user account.`

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('deposit', argv, {
    chain: { type: 'string' },
    token: { type: 'string' },
    amount: { type: 'string' },
    account: { type: 'string' },
    borrow: { type: 'string' },
    'borrow-to': { type: 'string' },
    faucet: { type: 'boolean' },
    json: { type: 'boolean' },
    manifest: { type: 'string' },
  })
  requireFlag('deposit', flags, 'chain', 'token', 'amount')
  const manifest = await loadManifest(flags.manifest)
  const user = senderAccount(manifest)
  try {
    if (flags.faucet) {
      const minterKey = manifest.accounts[DEVNET_ROLES.deployer]?.privateKey
      if (manifest.network !== 'devnet' || !minterKey) throw new UsageError('--faucet works on a devnet only')
      await faucet(
        manifest,
        flags.chain!,
        flags.token!,
        user.address,
        flags.amount!,
        privateKeyToAccount(minterKey as `0x${string}`),
      )
    }
    const result = await deposit(manifest, user, {
      chain: flags.chain!,
      symbol: flags.token!,
      amount: flags.amount!,
      account: parseAddress('--account', flags.account),
      borrow: flags.borrow,
      borrowChain: flags['borrow-to'],
    })
    printResult(`deposited ${flags.amount} ${flags.token}`, result, flags.json)
  } catch (error) {
    throw explainRevert(error)
  }
}
