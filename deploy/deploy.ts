import {
  type Address,
  encodeDeployData,
  encodeFunctionData,
  getContractAddress,
  type Hex,
  isAddressEqual,
} from 'viem'
import { benchReceiverAbi, benchReceiverBytecode } from '../sdk/abi/BenchReceiver.js'
import { chainProbeAbi, chainProbeBytecode } from '../sdk/abi/ChainProbe.js'
import { committeeVerifierAbi, committeeVerifierBytecode } from '../sdk/abi/CommitteeVerifier.js'
import { devnetReceiverAbi, devnetReceiverBytecode } from '../sdk/abi/DevnetReceiver.js'
import { inboxAbi, inboxBytecode } from '../sdk/abi/Inbox.js'
import { outboxAbi, outboxBytecode } from '../sdk/abi/Outbox.js'
import type { ChainClients } from '../sdk/client.js'
import { BaseError } from '../sdk/errors.js'
import { type ChainEntry, verifierContractName } from '../sdk/manifest.js'
import { HUB_CHAIN, type MarginSetup, planMargin } from './margin.js'
import { planSettlement, type SettlementSetup } from './settlement.js'
import { type AddressBook, call, deploy, type Step } from './steps.js'

/** The messaging trust setup every Inbox starts with: who validates, how many must agree, who may pause. */
export type MessagingSetup = {
  validators: readonly Address[]
  threshold: number
  guardian: Address
  /** The margin stack (tokens, vaults, price feeds, engine) needs oracle nodes; without them it is left out. */
  margin?: MarginSetup
  /** The settlement stack (DvP, repo, HTLC, intents, reserve gate); needs `margin`. */
  settlement?: SettlementSetup
}

export type DeployTarget = { entry: ChainEntry; clients: ChainClients }

export class DeployError extends BaseError {
  override name = 'DeployError'
}

/** Receivers the devnet allowlists on every lane: the demo/test sink and the benchmark receiver. */
const SINKS = ['DevnetReceiver', 'BenchReceiver'] as const

/**
 * What one chain gets: the messaging core, a verifier per lane source wired into its Inbox, the
 * sink receivers and the smoke contract. Steps only describe transactions; addresses come later.
 * `sources` are the other chains, plus the chain itself for a loopback lane (the hub's settlement
 * escrow reports to the hub's coordinator through it, with the same verification as any lane).
 */
function planChain(
  entry: ChainEntry,
  sources: readonly ChainEntry[],
  setup: MessagingSetup,
  owner: Address,
): Step[] {
  const me = entry.name
  const validators = [...setup.validators].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1))
  const steps: Step[] = [
    deploy('ChainProbe', () => encodeDeployData({ abi: chainProbeAbi, bytecode: chainProbeBytecode })),
    deploy('Outbox', () =>
      encodeDeployData({ abi: outboxAbi, bytecode: outboxBytecode, args: [owner, setup.guardian] }),
    ),
    deploy('Inbox', () =>
      encodeDeployData({ abi: inboxAbi, bytecode: inboxBytecode, args: [owner, setup.guardian] }),
    ),
    deploy('DevnetReceiver', (book) =>
      encodeDeployData({
        abi: devnetReceiverAbi,
        bytecode: devnetReceiverBytecode,
        args: [book(me, 'Inbox')],
      }),
    ),
    deploy('BenchReceiver', () =>
      encodeDeployData({ abi: benchReceiverAbi, bytecode: benchReceiverBytecode }),
    ),
  ]
  for (const source of sources) {
    const from = BigInt(source.chainId)
    const verifier = verifierContractName(source.name)
    steps.push(
      deploy(verifier, (book) =>
        encodeDeployData({
          abi: committeeVerifierAbi,
          bytecode: committeeVerifierBytecode,
          args: [owner, from, book(source.name, 'Outbox'), book(me, 'Inbox')],
        }),
      ),
      call(verifier, 'setValidators', () =>
        encodeFunctionData({
          abi: committeeVerifierAbi,
          functionName: 'setValidators',
          args: [validators, setup.threshold],
        }),
      ),
      call('Inbox', `setLane(${source.name})`, (book) =>
        encodeFunctionData({ abi: inboxAbi, functionName: 'setLane', args: [from, book(me, verifier)] }),
      ),
      call('Outbox', `setLane(${source.name})`, () =>
        encodeFunctionData({ abi: outboxAbi, functionName: 'setLane', args: [from, true] }),
      ),
      ...SINKS.map((sink) =>
        call('Inbox', `setReceiver(${source.name}, ${sink})`, (book) =>
          encodeFunctionData({
            abi: inboxAbi,
            functionName: 'setReceiver',
            args: [from, book(me, sink), true],
          }),
        ),
      ),
    )
  }
  return steps
}

/** Calls are sent before their targets are mined, so they cannot be estimated; this bound is ample. */
const CALL_GAS = 500_000n

/**
 * Deploys and wires Isthmus on every chain. Addresses follow from each deployer nonce, so every
 * chain's transactions go out back to back and are awaited once: one block per chain, not one per
 * contract, and no chain waits for another.
 */
export async function deployAll(targets: readonly DeployTarget[], setup: MessagingSetup): Promise<void> {
  const plans = await Promise.all(
    targets.map(async ({ entry, clients }) => {
      const owner = clients.wallet.account.address
      const others = targets.map((t) => t.entry).filter((e) => e.name !== entry.name)
      const { margin, settlement } = setup
      if (settlement && !margin) throw new DeployError('the settlement stack needs the margin stack')
      const loopback = settlement && entry.name === HUB_CHAIN ? [entry] : []
      const steps = [
        ...planChain(entry, [...others, ...loopback], setup, owner),
        ...(margin ? planMargin(entry, others, margin, setup.guardian, owner) : []),
        ...(settlement ? planSettlement(entry, others, settlement, owner) : []),
      ]
      const firstNonce = await clients.public.getTransactionCount({ address: owner, blockTag: 'pending' })
      const addresses: Record<string, Address> = {}
      steps.forEach((step, i) => {
        if (!step.target)
          addresses[step.name] = getContractAddress({ from: owner, nonce: BigInt(firstNonce + i) })
      })
      return { entry, clients, steps, firstNonce, addresses }
    }),
  )
  const book: AddressBook = (chain, contract) => {
    const address = plans.find((p) => p.entry.name === chain)?.addresses[contract]
    if (!address) throw new DeployError(`no ${contract} planned on ${chain}`)
    return address
  }
  await Promise.all(plans.map((plan) => sendPlan(plan, book)))
}

type ChainPlan = {
  entry: ChainEntry
  clients: ChainClients
  steps: Step[]
  firstNonce: number
  addresses: Record<string, Address>
}

async function sendPlan({ entry, clients, steps, firstNonce, addresses }: ChainPlan, book: AddressBook) {
  const { public: client, wallet } = clients
  const startBlock = await client.getBlockNumber({ cacheTime: 0 })
  const hashes: Hex[] = []
  for (const [i, step] of steps.entries()) {
    const data = step.data(book)
    const nonce = firstNonce + i
    const to = step.target ? book(entry.name, step.target) : undefined
    const gas =
      step.gas ?? (step.target ? CALL_GAS : await client.estimateGas({ account: wallet.account, data }))
    hashes.push(await wallet.sendTransaction({ to, data, nonce, gas: (gas * 6n) / 5n }))
  }
  const receipts = await Promise.all(hashes.map((hash) => client.waitForTransactionReceipt({ hash })))
  receipts.forEach((receipt, i) => {
    const step = steps[i]!
    const wrongAddress =
      !step.target &&
      (!receipt.contractAddress || !isAddressEqual(receipt.contractAddress, addresses[step.name]!))
    if (receipt.status !== 'success' || wrongAddress) {
      throw new DeployError(`deploying on ${entry.name} failed at ${step.name}`, {
        details: `transaction ${receipt.transactionHash}: status ${receipt.status}, address ${receipt.contractAddress}`,
      })
    }
  })
  entry.contracts = addresses
  entry.deployBlock = Number(startBlock)
}
