import { resolve } from 'node:path'
import { type Address, createPublicClient, http } from 'viem'
import { deployerAccount, readDeployConfig } from '../../deploy/config.js'
import { deployAll } from '../../deploy/deploy.js'
import { createChainClients } from '../../sdk/client.js'
import { BaseError } from '../../sdk/errors.js'
import { type ChainEntry, type Manifest, writeManifest } from '../../sdk/manifest.js'
import { parseFlags, UsageError } from '../usage.js'

export const help = `isthmus deploy: deploy Isthmus on chains given by RPC URL and write their manifest

  --config <path>   JSON: { network, chains: [{ name, rpcUrl, wsUrl?, chainId?, blockTimeMs?, finality? }],
                    messaging: { validators, threshold, guardian? }, deployer? }
  --out <path>      manifest to write (default .isthmus/<network>.json)

The deployer key comes from ISTHMUS_DEPLOYER_KEY, else from the config's "deployer".`

export async function run(argv: string[]): Promise<void> {
  const flags = parseFlags('deploy', argv, { config: { type: 'string' }, out: { type: 'string' } })
  if (!flags.config) throw new UsageError('--config <path> is required (see: isthmus deploy --help)')
  const config = await readDeployConfig(flags.config)
  const account = deployerAccount(config)
  const outPath = resolve(flags.out ?? `.isthmus/${config.network}.json`)

  const chains = await Promise.all(
    config.chains.map(async (chain): Promise<ChainEntry> => {
      const nodeChainId = await fetchChainId(chain.name, chain.rpcUrl)
      if (chain.chainId !== undefined && chain.chainId !== nodeChainId) {
        throw new BaseError(
          `chain ${chain.name}: config says chain id ${chain.chainId}, the node at ${chain.rpcUrl} says ${nodeChainId}`,
        )
      }
      return { ...chain, chainId: nodeChainId, contracts: {} }
    }),
  )
  const { validators, threshold, guardian } = config.messaging
  await deployAll(
    chains.map((entry) => ({ entry, clients: createChainClients(entry, account) })),
    {
      validators: validators as Address[],
      threshold,
      guardian: (guardian as Address | undefined) ?? account.address,
    },
  )
  const manifest: Manifest = {
    version: 1,
    network: config.network,
    createdAt: new Date().toISOString(),
    chains,
    accounts: [{ address: account.address }],
    messaging: { threshold, validators: validators.map((address) => ({ address })) },
    services: {},
  }
  await writeManifest(outPath, manifest)
  for (const chain of chains) {
    const contracts = Object.entries(chain.contracts).map(([name, address]) => `${name} ${address}`)
    console.log(`${chain.name}  chain ${chain.chainId}  ${contracts.join(', ')}`)
  }
  console.log(`deployed on ${chains.length} chains, manifest ${outPath}`)
}

async function fetchChainId(name: string, rpcUrl: string): Promise<number> {
  try {
    return await createPublicClient({ transport: http(rpcUrl, { retryCount: 0 }) }).getChainId()
  } catch (cause) {
    throw new BaseError(`chain ${name}: no answer from ${rpcUrl}`, { cause, retryable: true })
  }
}
