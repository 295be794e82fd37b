/**
 * Test fixtures for the keeper: prices on the hub's feeds and margin positions on the engine, on a
 * real anvil devnet (testing/devnet.ts) deployed with the margin stack.
 */
import {
  type Address,
  encodeAbiParameters,
  type Hex,
  keccak256,
  parseEther,
  parseEventLogs,
  stringToHex,
} from 'viem'
import { marginEngineAbi } from '../../sdk/abi/MarginEngine.js'
import type { TestChain, TestDevnet } from '../../testing/devnet.js'

const creditParams = [
  { type: 'uint8' },
  {
    type: 'tuple',
    components: [
      { name: 'account', type: 'address' },
      { name: 'token', type: 'address' },
      { name: 'amount', type: 'uint256' },
      { name: 'depositedAt', type: 'uint64' },
      { name: 'borrowAmount', type: 'uint256' },
      { name: 'borrowChainId', type: 'uint64' },
      { name: 'borrowRecipient', type: 'address' },
    ],
  },
] as const

export type Position = {
  account: Address
  /** The spoke chain the collateral is locked on, e.g. "l1". */
  spoke: string
  /** The spoke token's manifest name, e.g. "WETH". */
  token: string
  /** In the token's smallest unit. */
  amount: bigint
  /** USDC (6 decimals) borrowed on the hub right after the credit (deposit-and-borrow). */
  borrow?: bigint
}

let creditNonce = 0

/**
 * Credits collateral to `position.account` on the hub's MarginEngine as if the spoke's
 * CollateralVault had sent it, and borrows against it in the same delivery.
 *
 * The delivery comes from the hub Inbox, impersonated with anvil: the engine trusts whatever the
 * Inbox delivers from the registered vault, and the path that gets a vault's message to the Inbox
 * (validators, relayer, verifier) has its own end-to-end tests (services/relayer, contracts/test).
 * What the keeper watches starts at the engine, so the test creates positions there directly —
 * seconds faster, and without the relayer's timing in the keeper's measurements.
 */
export async function openPositions(devnet: TestDevnet, positions: readonly Position[]): Promise<void> {
  const hub = devnet.chain('hub')
  const inbox = hub.entry.contracts.Inbox as Address
  const engine = hub.entry.contracts.MarginEngine as Address
  await hub.test.impersonateAccount({ address: inbox })
  await hub.test.setBalance({ address: inbox, value: parseEther('1000') })
  const now = (await hub.public.getBlock({ blockTag: 'latest' })).timestamp
  // In chunks, each mined before the next goes out: a burst of hundreds from one sender lost some
  // of its transactions in anvil's pool (accepted, never mined).
  for (let first = 0; first < positions.length; first += CREDIT_CHUNK) {
    const hashes: Hex[] = []
    for (const p of positions.slice(first, first + CREDIT_CHUNK)) {
      const spoke = devnet.chain(p.spoke).entry
      const payload = encodeAbiParameters(creditParams, [
        1,
        {
          account: p.account,
          token: spoke.contracts[p.token] as Address,
          amount: p.amount,
          depositedAt: now,
          borrowAmount: p.borrow ?? 0n,
          borrowChainId: BigInt(hub.entry.chainId),
          borrowRecipient: p.account,
        },
      ])
      hashes.push(
        await hub.wallet.writeContract({
          account: inbox,
          address: engine,
          abi: marginEngineAbi,
          functionName: 'receiveMessage',
          args: [
            {
              messageId: keccak256(stringToHex(`keeper-test-credit-${creditNonce++}`)),
              sourceChainId: BigInt(spoke.chainId),
              sender: spoke.contracts.CollateralVault as Address,
              tokens: [],
              payload,
            },
          ],
          gas: 700_000n,
        }),
      )
    }
    await minedCredits(hub, hashes)
  }
  await hub.test.stopImpersonatingAccount({ address: inbox })
}

const CREDIT_CHUNK = 40

/** Receipts are polled rather than awaited: hundreds of concurrent waits on one client sometimes never resolve. */
async function minedCredits(hub: TestChain, hashes: readonly Hex[]): Promise<void> {
  const deadline = Date.now() + 30_000
  let waiting = hashes
  while (waiting.length) {
    const receipts = await Promise.all(
      waiting.map((hash) => hub.public.getTransactionReceipt({ hash }).catch(() => undefined)),
    )
    for (const receipt of receipts) {
      if (!receipt) continue
      if (receipt.status !== 'success') throw new Error(`credit ${receipt.transactionHash} reverted`)
      const [refused] = parseEventLogs({
        abi: marginEngineAbi,
        logs: receipt.logs,
        eventName: 'InstructionFailed',
      })
      if (refused) throw new Error(`the borrow of ${refused.args.account} failed: ${refused.args.reason}`)
    }
    waiting = waiting.filter((_, i) => !receipts[i])
    if (waiting.length && Date.now() > deadline)
      throw new Error(`${waiting.length} credits not mined in 30 s`)
    if (waiting.length) await new Promise((r) => setTimeout(r, 100))
  }
}

export async function healthOf(hub: TestChain, account: Address) {
  return hub.public.readContract({
    address: hub.entry.contracts.MarginEngine as Address,
    abi: marginEngineAbi,
    functionName: 'healthOf',
    args: [account],
  })
}

export const WAD = 10n ** 18n
