import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type Address, type Hex, keccak256, pad, stringToHex } from 'viem'
import { type LocalAccount, privateKeyToAccount } from 'viem/accounts'
import { benchReceiverAbi, benchReceiverBytecode } from '../../sdk/abi/BenchReceiver.js'
import { startTestDevnet, type TestChain, type TestDevnet } from '../../testing/devnet.js'
import {
  deployHyperlane,
  dispatchMessage,
  type HyperlaneClient,
  hyperlaneClient,
  measureHyperlane,
  messageIdMultisigMetadata,
  processMessage,
  quorum,
  signCheckpoint,
} from './hyperlane.js'

/** Measured before with Hyperlane's contracts, 3-of-5 validators, a 32-byte body. */
const REFERENCE = { dispatch: 77_149, process: 94_846 }
/** A zero → non-zero SSTORE (22,100) instead of a cold non-zero → non-zero one (5,000). */
const FRESH_SLOT = 17_100

// Fixed keys, so the calldata (and so the figures) are the same on every run.
const key = (name: string) => privateKeyToAccount(keccak256(stringToHex(`isthmus bench ${name}`)))
const deployer = key('hyperlane deployer')
const validators: LocalAccount[] = [1, 2, 3, 4, 5].map((i) => key(`validator ${i}`))

describe('measureHyperlane', () => {
  let devnet: TestDevnet
  let hub: TestChain
  let client: HyperlaneClient
  let receiver: Address

  before(async () => {
    devnet = await startTestDevnet({ chains: ['hub'], deploy: false })
    hub = devnet.chain('hub')
    await hub.test.setBalance({ address: deployer.address, value: 10n ** 20n })
    client = hyperlaneClient(hub.entry.rpcUrl, hub.entry.chainId, deployer)
    const hash = await client.deployContract({ abi: benchReceiverAbi, bytecode: benchReceiverBytecode })
    const { contractAddress } = await client.waitForTransactionReceipt({ hash })
    receiver = contractAddress!
  })
  after(() => devnet?.stop())

  const deliveries = () =>
    client.readContract({ address: receiver, abi: benchReceiverAbi, functionName: 'deliveries' })

  it('measures dispatch and process near the reference figures and delivers to the receiver', async () => {
    const delivered = await deliveries()
    const rows = await measureHyperlane({
      rpcUrl: hub.entry.rpcUrl,
      chainId: hub.entry.chainId,
      deployer,
      validators,
      threshold: 3,
      recipient: receiver,
    })
    assert.equal(await deliveries(), delivered + 3n)
    assert.deepEqual(
      rows.map((r) => [r.system, r.operation, r.unit]),
      ['dispatch (first)', 'dispatch (steady state)', 'process (first)', 'process (steady state)'].map(
        (operation) => ['Hyperlane v12.1.0 (npm)', operation, 'gas'],
      ),
    )
    const [dispatchFirst, dispatchSteady, processFirst, processSteady] = rows.map((r) => r.value) as [
      number,
      number,
      number,
      number,
    ]
    const near = (value: number, reference: number, what: string) =>
      assert.ok(
        Math.abs(value - reference) <= reference * 0.15,
        `${what}: ${value} gas, reference ${reference}`,
      )
    near(dispatchSteady, REFERENCE.dispatch, 'dispatch (steady state)')
    near(processSteady, REFERENCE.process, 'process (steady state)')
    near(processFirst, REFERENCE.process, 'process (first)')
    // The first dispatch fills 4 fresh slots (nonce, latestDispatchedId, tree count, branch[0]), and
    // the first process 1 (the receiver's counter); the rest of each transaction is the same.
    near(dispatchFirst - dispatchSteady, 4 * FRESH_SLOT, 'dispatch (first) − dispatch (steady state)')
    near(processFirst - processSteady, FRESH_SLOT, 'process (first) − process (steady state)')
  })

  it('rejects a quorum in which one signature is not from a validator', async () => {
    const deployment = await deployHyperlane(client, {
      validators: validators.map((v) => v.address),
      threshold: 3,
    })
    const { message, checkpoint } = await dispatchMessage(client, deployment, receiver, pad('0x01'))
    const signatures = await signCheckpoint(quorum(deployment, validators), checkpoint)
    const [forged] = await signCheckpoint([key('not a validator')], checkpoint)
    const tampered: Hex[] = [signatures[0]!, forged!, signatures[2]!]
    // "!threshold" is AbstractMultisigIsm.verify finding no validator for a signature.
    await assert.rejects(
      processMessage(client, deployment, messageIdMultisigMetadata(checkpoint, tampered), message),
      /!threshold/,
    )
    const delivered = await deliveries()
    await processMessage(client, deployment, messageIdMultisigMetadata(checkpoint, signatures), message)
    assert.equal(await deliveries(), delivered + 1n)
  })
})
