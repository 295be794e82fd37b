import { type Hex, isHex, parseEventLogs, stringToHex } from 'viem'
import { outboxAbi } from '../../sdk/abi/Outbox.js'
import { createChainClients } from '../../sdk/client.js'
import { chainByName } from '../../sdk/manifest.js'
import { senderAccount, toJson } from '../messaging.js'
import { loadManifest } from '../service.js'
import { parseFlags, parsePositiveInt, UsageError } from '../usage.js'

export const help = `isthmus send: send a raw test message from one chain to another

  --from <chain> --to <chain>   source and destination (names from the manifest)
  --payload <0x… | text>        the payload (default "hello"); "revert" makes the devnet receiver refuse it
  --receiver <address>          default: the destination's DevnetReceiver
  --gas-limit <n>               gas for the receiver (default 200000)
  --json                        print { "id", "nonce", "tx", "gasUsed" }
  --manifest <path>             default .isthmus/devnet.json

Signs with ISTHMUS_SENDER_KEY, or on a devnet with its first user account.`

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('send', argv, {
    from: { type: 'string' },
    to: { type: 'string' },
    payload: { type: 'string' },
    receiver: { type: 'string' },
    'gas-limit': { type: 'string' },
    json: { type: 'boolean' },
    manifest: { type: 'string' },
  })
  if (!flags.from || !flags.to)
    throw new UsageError('--from and --to are required (see: isthmus send --help)')
  const manifest = await loadManifest(flags.manifest)
  const source = chainByName(manifest, flags.from)
  const dest = chainByName(manifest, flags.to)
  if (source.chainId === dest.chainId) throw new UsageError('--from and --to name the same chain')
  const receiver = (flags.receiver ?? dest.contracts.DevnetReceiver) as Hex | undefined
  if (!receiver || !/^0x[0-9a-fA-F]{40}$/.test(receiver))
    throw new UsageError('--receiver must be an address')
  const payload =
    flags.payload === undefined
      ? stringToHex('hello')
      : isHex(flags.payload)
        ? flags.payload
        : stringToHex(flags.payload)
  const gasLimit = flags['gas-limit'] ? parsePositiveInt('--gas-limit', flags['gas-limit']) : 200_000

  const { public: client, wallet } = createChainClients(source, senderAccount(manifest))
  const hash = await wallet.writeContract({
    address: source.contracts.Outbox as Hex,
    abi: outboxAbi,
    functionName: 'send',
    args: [BigInt(dest.chainId), receiver, payload, gasLimit],
  })
  const receipt = await client.waitForTransactionReceipt({ hash })
  const [sent] = parseEventLogs({ abi: outboxAbi, eventName: 'MessageSent', logs: receipt.logs })
  if (!sent) throw new Error(`transaction ${hash} emitted no MessageSent`)
  const result = { id: sent.args.id, nonce: sent.args.nonce, tx: hash, gasUsed: receipt.gasUsed }
  if (flags.json) console.log(toJson(result))
  else
    console.log(
      `sent ${result.id} from ${source.name} to ${dest.name} (nonce ${result.nonce}, tx ${hash}, gas ${receipt.gasUsed})`,
    )
}
