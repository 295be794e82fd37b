/**
 * Hyperlane's half of the side-by-side messaging gas benchmark: Hyperlane's own contracts, deployed
 * from the bytecode that ships in the pinned `@hyperlane-xyz/core` (its typechain factories), on the
 * chain Isthmus is measured on, so both run on the same EVM, hardfork and validator set. Origin and
 * destination are two Mailboxes on that one chain with different domains; every figure is a
 * receipt's `gasUsed`.
 *
 * What is deployed, and why (sources under node_modules/@hyperlane-xyz/core/contracts):
 * - origin Mailbox: requiredHook = MerkleTreeHook, the hook whose checkpoints validators sign;
 *   defaultHook = PausableHook, unpaused: a real Hyperlane hook that does nothing on dispatch, so
 *   the figure is the Mailbox plus the merkle tree and no gas payment or fee accounting. Measured
 *   alternatives: ProtocolFee (fee 0) adds 2,301 gas per dispatch, TestInterchainGasPaymaster with
 *   its payment 11,246.
 * - destination Mailbox: defaultIsm = StaticMessageIdMultisigIsm for the validators and threshold,
 *   deployed through StaticMessageIdMultisigIsmFactory as the Hyperlane SDK does (validators sorted).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { runInNewContext } from 'node:vm'
import type {
  Mailbox__factory,
  MerkleTreeHook__factory,
  PausableHook__factory,
  StaticMessageIdMultisigIsmFactory__factory,
} from '@hyperlane-xyz/core'
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  concat,
  createWalletClient,
  defineChain,
  encodePacked,
  type Hash,
  type Hex,
  http,
  keccak256,
  type LocalAccount,
  numberToHex,
  pad,
  parseEventLogs,
  publicActions,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem'
import { BaseError } from '../../sdk/errors.js'
import type { ResultRow } from '../lib/results.js'

export class HyperlaneBenchError extends BaseError {
  override name = 'HyperlaneBenchError'
}

export const ORIGIN_DOMAIN = 1000
export const DESTINATION_DOMAIN = 2000
/** The payload size Isthmus's benchmark sends too. */
export const BODY_BYTES = 32

// ---------------------------------------------------------------------------------------------
// Artifacts
// ---------------------------------------------------------------------------------------------

type Factory = { readonly abi: Abi }
type Artifact<F extends Factory> = { abi: F['abi']; bytecode: Hex }

const factoriesDir = join(
  dirname(createRequire(import.meta.url).resolve('@hyperlane-xyz/core')),
  'typechain/factories/contracts',
)

/**
 * The factory modules import `ethers`, which the package does not declare (its peers are
 * @ethersproject/*) and this viem project does not install, so their static `abi` and `bytecode`
 * are read from the file text: `_abi` is a plain data literal (evaluated in an empty context),
 * `_bytecode` a hex string. Types come from the factories' own declarations.
 */
function loadFactory<F extends Factory>(path: string): Artifact<F> {
  const source = readFileSync(join(factoriesDir, path), 'utf8')
  const abi = /^const _abi = (\[[\s\S]*?^\]);$/m.exec(source)?.[1]
  const bytecode = /^const _bytecode = "(0x[0-9a-f]+)";$/m.exec(source)?.[1]
  if (!abi || !bytecode) throw new HyperlaneBenchError(`no _abi or _bytecode in ${path}`)
  // structuredClone: arrays made in another vm context fail `instanceof Array` in this one.
  return { abi: structuredClone(runInNewContext(abi)) as F['abi'], bytecode: bytecode as Hex }
}

export const hyperlane = {
  mailbox: loadFactory<typeof Mailbox__factory>('Mailbox__factory.js'),
  merkleTreeHook: loadFactory<typeof MerkleTreeHook__factory>('hooks/MerkleTreeHook__factory.js'),
  pausableHook: loadFactory<typeof PausableHook__factory>('hooks/PausableHook__factory.js'),
  ismFactory: loadFactory<typeof StaticMessageIdMultisigIsmFactory__factory>(
    'isms/multisig/StaticMultisigIsm.sol/StaticMessageIdMultisigIsmFactory__factory.js',
  ),
}

// ---------------------------------------------------------------------------------------------
// Deployment
// ---------------------------------------------------------------------------------------------

export type HyperlaneClient = ReturnType<typeof hyperlaneClient>

export function hyperlaneClient(rpcUrl: string, chainId: number, account: Account) {
  const chain: Chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  })
  const wallet: WalletClient<Transport, Chain, Account> = createWalletClient({
    chain,
    account,
    transport: http(rpcUrl),
    pollingInterval: 50,
  })
  return wallet.extend(publicActions)
}

export type HyperlaneDeployment = {
  origin: Address
  destination: Address
  merkleTreeHook: Address
  ism: Address
  /** The validators in the order the ISM holds them, which is the order signatures must follow. */
  validators: Address[]
  threshold: number
}

async function mined(client: HyperlaneClient, hash: Hash): Promise<TransactionReceipt> {
  const receipt = await client.waitForTransactionReceipt({ hash })
  if (receipt.status !== 'success') throw new HyperlaneBenchError(`transaction ${hash} reverted`)
  return receipt
}

async function deployed(client: HyperlaneClient, hash: Hash): Promise<Address> {
  const { contractAddress } = await mined(client, hash)
  if (!contractAddress) throw new HyperlaneBenchError(`transaction ${hash} created no contract`)
  return contractAddress
}

export async function deployHyperlane(
  client: HyperlaneClient,
  params: { validators: readonly Address[]; threshold: number },
): Promise<HyperlaneDeployment> {
  const { mailbox, merkleTreeHook, pausableHook, ismFactory } = hyperlane
  const owner = client.account.address
  const newMailbox = async (domain: number) =>
    deployed(client, await client.deployContract({ ...mailbox, args: [domain] }))
  const origin = await newMailbox(ORIGIN_DOMAIN)
  const destination = await newMailbox(DESTINATION_DOMAIN)
  const tree = await deployed(client, await client.deployContract({ ...merkleTreeHook, args: [origin] }))
  const noopHook = await deployed(client, await client.deployContract({ ...pausableHook, args: [] }))
  const factory = await deployed(client, await client.deployContract({ ...ismFactory, args: [] }))

  // HyperlaneIsmFactory.deployStaticAddressSet sorts the validators; the ISM keeps that order.
  const validators = [...params.validators].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1))
  const { request, result: ism } = await client.simulateContract({
    address: factory,
    abi: ismFactory.abi,
    functionName: 'deploy',
    args: [validators, params.threshold],
  })
  await mined(client, await client.writeContract(request))

  // Mailbox.initialize(owner, defaultIsm, defaultHook, requiredHook); every one must be a contract.
  // The destination's hooks never run in `process`, the origin's ISM never in `dispatch`.
  const initialize = async (address: Address, requiredHook: Address) =>
    mined(
      client,
      await client.writeContract({
        address,
        abi: mailbox.abi,
        functionName: 'initialize',
        args: [owner, ism, noopHook, requiredHook],
      }),
    )
  await initialize(origin, tree)
  await initialize(destination, noopHook)
  return { origin, destination, merkleTreeHook: tree, ism, validators, threshold: params.threshold }
}

// ---------------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------------

/** What a Hyperlane validator signs for a message (contracts/libs/CheckpointLib.sol). */
export type Checkpoint = {
  origin: number
  merkleTreeHook: Address
  root: Hex
  index: number
  messageId: Hex
}

export type Dispatched = { message: Hex; checkpoint: Checkpoint; gasUsed: bigint }

export async function dispatchMessage(
  client: HyperlaneClient,
  deployment: HyperlaneDeployment,
  recipient: Address,
  body: Hex,
): Promise<Dispatched> {
  const { mailbox, merkleTreeHook } = hyperlane
  const receipt = await mined(
    client,
    await client.writeContract({
      address: deployment.origin,
      abi: mailbox.abi,
      functionName: 'dispatch',
      args: [DESTINATION_DOMAIN, pad(recipient), body],
    }),
  )
  const [dispatch] = parseEventLogs({ abi: mailbox.abi, eventName: 'Dispatch', logs: receipt.logs })
  if (!dispatch) throw new HyperlaneBenchError(`dispatch ${receipt.transactionHash} emitted no Dispatch`)
  // The checkpoint validators sign right after this message: the tree's root and last index as of
  // its block (nothing else dispatches through this Mailbox).
  const [root, index] = await client.readContract({
    address: deployment.merkleTreeHook,
    abi: merkleTreeHook.abi,
    functionName: 'latestCheckpoint',
    blockNumber: receipt.blockNumber,
  })
  const messageId = keccak256(dispatch.args.message) // Message.id
  return {
    message: dispatch.args.message,
    checkpoint: { origin: ORIGIN_DOMAIN, merkleTreeHook: deployment.merkleTreeHook, root, index, messageId },
    gasUsed: receipt.gasUsed,
  }
}

// ---------------------------------------------------------------------------------------------
// Validator signatures and ISM metadata
// ---------------------------------------------------------------------------------------------

/**
 * CheckpointLib.digest before its `ECDSA.toEthSignedMessageHash`, which `signMessage({ raw })` adds:
 *   domainHash = keccak256(abi.encodePacked(uint32 origin, bytes32 merkleTreeHook, "HYPERLANE"))
 *   keccak256(abi.encodePacked(domainHash, bytes32 root, uint32 index, bytes32 messageId))
 */
export function checkpointHash(checkpoint: Checkpoint): Hex {
  const domainHash = keccak256(
    encodePacked(
      ['uint32', 'bytes32', 'string'],
      [checkpoint.origin, pad(checkpoint.merkleTreeHook), 'HYPERLANE'],
    ),
  )
  return keccak256(
    encodePacked(
      ['bytes32', 'bytes32', 'uint32', 'bytes32'],
      [domainHash, checkpoint.root, checkpoint.index, checkpoint.messageId],
    ),
  )
}

/** 65-byte r ‖ s ‖ v signatures over the checkpoint, in the order of `signers`. */
export function signCheckpoint(signers: readonly LocalAccount[], checkpoint: Checkpoint): Promise<Hex[]> {
  const raw = checkpointHash(checkpoint)
  return Promise.all(signers.map((signer) => signer.signMessage({ message: { raw } })))
}

/**
 * contracts/isms/libs/MessageIdMultisigIsmMetadata.sol:
 *   [0:32] origin merkle tree hook ‖ [32:64] checkpoint root ‖ [64:68] checkpoint index (uint32)
 *   ‖ [68:] signatures, 65 bytes each, ordered as the ISM's validators (AbstractMultisigIsm.verify
 *   walks its validator list once, two pointers).
 */
export function messageIdMultisigMetadata(checkpoint: Checkpoint, signatures: readonly Hex[]): Hex {
  return concat([
    pad(checkpoint.merkleTreeHook),
    checkpoint.root,
    numberToHex(checkpoint.index, { size: 4 }),
    ...signatures,
  ])
}

/** The first `threshold` validators in ISM order, as a relayer picks them when all have signed. */
export function quorum(deployment: HyperlaneDeployment, accounts: readonly LocalAccount[]): LocalAccount[] {
  return deployment.validators.slice(0, deployment.threshold).map((address) => {
    const account = accounts.find((a) => a.address.toLowerCase() === address.toLowerCase())
    if (!account) throw new HyperlaneBenchError(`no key for validator ${address}`)
    return account
  })
}

export async function processMessage(
  client: HyperlaneClient,
  deployment: HyperlaneDeployment,
  metadata: Hex,
  message: Hex,
): Promise<bigint> {
  const hash = await client.writeContract({
    address: deployment.destination,
    abi: hyperlane.mailbox.abi,
    functionName: 'process',
    args: [metadata, message],
  })
  return (await mined(client, hash)).gasUsed
}

// ---------------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------------

export type MeasureHyperlaneParameters = {
  rpcUrl: string
  chainId: number
  deployer: LocalAccount
  /** Five validators in the reference setup; any order (the ISM sorts them). */
  validators: readonly LocalAccount[]
  threshold: number
  /** Must implement Hyperlane's `handle(uint32,bytes32,bytes)` (BenchReceiver does). */
  recipient: Address
}

/**
 * Deploys Hyperlane on the chain, dispatches and processes three 32-byte messages and returns the
 * gas of the first and of a steady-state dispatch and process (receipts' gasUsed).
 * - dispatch (first) also pays for 4 fresh slots: Mailbox nonce and latestDispatchedId, tree count
 *   and branch[0]. The steady state is the third dispatch: tree size 3 overwrites branch[0] with no
 *   hashing, as every odd size does (half of all dispatches); MerkleLib.insert hashes once more per
 *   trailing zero bit of the new size (~2.4k gas each) and takes a fresh slot only at sizes 2^k.
 * - process (first) differs from the steady state only by the recipient's first write (its counter
 *   0 → 1 in BenchReceiver); every message takes a fresh `deliveries` slot in the Mailbox.
 */
export async function measureHyperlane(params: MeasureHyperlaneParameters): Promise<ResultRow[]> {
  const client = hyperlaneClient(params.rpcUrl, params.chainId, params.deployer)
  const deployment = await deployHyperlane(client, {
    validators: params.validators.map((v) => v.address),
    threshold: params.threshold,
  })
  const signers = quorum(deployment, params.validators)
  const dispatchGas: bigint[] = []
  const processGas: bigint[] = []
  for (let i = 0; i < 3; i++) {
    const body = pad(numberToHex(i + 1), { size: BODY_BYTES })
    const { message, checkpoint, gasUsed } = await dispatchMessage(client, deployment, params.recipient, body)
    dispatchGas.push(gasUsed)
    const metadata = messageIdMultisigMetadata(checkpoint, await signCheckpoint(signers, checkpoint))
    processGas.push(await processMessage(client, deployment, metadata, message))
  }
  const version = await client.readContract({
    address: deployment.origin,
    abi: hyperlane.mailbox.abi,
    functionName: 'PACKAGE_VERSION',
  })
  const system = `Hyperlane v${version} (npm)`
  const row = (operation: string, gas: bigint): ResultRow => ({
    system,
    operation,
    value: Number(gas),
    unit: 'gas',
  })
  return [
    row('dispatch (first)', dispatchGas[0]!),
    row('dispatch (steady state)', dispatchGas[2]!),
    row('process (first)', processGas[0]!),
    row('process (steady state)', processGas[2]!),
  ]
}
