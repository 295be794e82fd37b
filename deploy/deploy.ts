import { type Abi, type Address, getContractAddress, type Hex, isAddressEqual } from 'viem'
import { chainProbeAbi, chainProbeBytecode } from '../sdk/abi/ChainProbe.js'
import type { ChainClients } from '../sdk/client.js'
import { BaseError } from '../sdk/errors.js'

/** One contract to deploy on every chain; later plans may read the addresses of earlier ones. */
type ContractPlan = {
  name: string
  abi: Abi
  bytecode: Hex
  args?: (deployed: Readonly<Record<string, Address>>) => readonly unknown[]
}

/** What every chain gets, in order. Features extend this list as they land. */
const plans: readonly ContractPlan[] = [
  { name: 'ChainProbe', abi: chainProbeAbi, bytecode: chainProbeBytecode },
]

export class DeployError extends BaseError {
  override name = 'DeployError'
}

/**
 * Deploys every plan on one chain. Transactions go out back to back with explicit nonces and are
 * awaited together, so a chain with 2 s blocks costs one block, not one block per contract; the
 * addresses are known from the nonces before any of them is mined.
 */
export async function deployChain(
  chainName: string,
  clients: ChainClients,
): Promise<Record<string, Address>> {
  const { public: client, wallet } = clients
  let nonce = await client.getTransactionCount({ address: wallet.account.address, blockTag: 'pending' })
  const deployed: Record<string, Address> = {}
  const sent: { name: string; hash: Hex }[] = []
  for (const plan of plans) {
    const args = plan.args?.(deployed) ?? []
    deployed[plan.name] = getContractAddress({ from: wallet.account.address, nonce: BigInt(nonce) })
    const hash = await wallet.deployContract({ abi: plan.abi, bytecode: plan.bytecode, args, nonce: nonce++ })
    sent.push({ name: plan.name, hash })
  }
  const receipts = await Promise.all(sent.map(({ hash }) => client.waitForTransactionReceipt({ hash })))
  receipts.forEach((receipt, i) => {
    const name = sent[i]!.name
    const expected = deployed[name]!
    if (
      receipt.status !== 'success' ||
      !receipt.contractAddress ||
      !isAddressEqual(receipt.contractAddress, expected)
    ) {
      throw new DeployError(`deploying ${name} on ${chainName} failed`, {
        details: `transaction ${receipt.transactionHash}: status ${receipt.status}, address ${receipt.contractAddress} (expected ${expected})`,
      })
    }
  })
  return deployed
}
