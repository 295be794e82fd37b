import { rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { type Address, toHex } from 'viem'
import { mnemonicToAccount } from 'viem/accounts'
import { deployAll } from '../deploy/deploy.js'
import { createChainClients } from '../sdk/client.js'
import { BaseError } from '../sdk/errors.js'
import { type ChainEntry, type Manifest, writeManifest } from '../sdk/manifest.js'
import { type AnvilProcess, startAnvil } from './anvil.js'
import { isPortFree } from './ports.js'
import { type ServiceProcess, startMessagingServices } from './services.js'
import {
  type ChainSpec,
  DEVNET_ACCOUNTS,
  DEVNET_MNEMONIC,
  DEVNET_ROLES,
  defaultTopology,
  finalityRule,
} from './topology.js'

export type DevnetOptions = {
  chains?: readonly ChainSpec[]
  /** Chain i listens on firstPort + i. */
  firstPort?: number
  mnemonic?: string
  accounts?: number
  /** Deploy the contracts (default true); tests of the deploy step itself start bare chains. */
  deploy?: boolean
  /** Where to write the manifest; removed again on stop so nobody reads a dead devnet. */
  manifestPath?: string
  /** Start the validators and the relayer as processes (needs `deploy` and `manifestPath`). */
  services?: boolean
}

export type RunningChain = { spec: ChainSpec; entry: ChainEntry; anvil: AnvilProcess }

export type Devnet = {
  chains: RunningChain[]
  manifest: Manifest
  services: ServiceProcess[]
  stop(): Promise<void>
}

export class DevnetError extends BaseError {
  override name = 'DevnetError'
}

export const DEFAULT_FIRST_PORT = 8545

export async function startDevnet(options: DevnetOptions = {}): Promise<Devnet> {
  const specs = options.chains ?? defaultTopology
  const firstPort = options.firstPort ?? DEFAULT_FIRST_PORT
  const mnemonic = options.mnemonic ?? DEVNET_MNEMONIC
  const accountCount = options.accounts ?? DEVNET_ACCOUNTS
  await assertPortsFree(specs, firstPort)

  const started = await Promise.allSettled(
    specs.map((spec, i) =>
      startAnvil({
        port: firstPort + i,
        chainId: spec.chainId,
        blockTimeMs: spec.blockTimeMs,
        mnemonic,
        accounts: accountCount,
        // The node's own `finalized` tag then trails the head by at least the rule's depth.
        slotsInAnEpoch: Math.max(1, Math.ceil(spec.finalityConfirmations / 2)),
      }),
    ),
  )
  const anvils = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const stopAll = () => Promise.all(anvils.map((a) => a.stop())).then(() => undefined)
  const failed = started.find((r) => r.status === 'rejected')
  if (failed) {
    await stopAll()
    throw failed.reason
  }

  const chains: RunningChain[] = specs.map((spec, i) => {
    const anvil = anvils[i]!
    const entry: ChainEntry = {
      name: spec.name,
      chainId: spec.chainId,
      rpcUrl: anvil.rpcUrl,
      wsUrl: anvil.wsUrl,
      blockTimeMs: spec.blockTimeMs,
      finality: finalityRule(spec),
      contracts: {},
    }
    return { spec, entry, anvil }
  })
  const accounts = deriveAccounts(mnemonic, range(accountCount))
  const validators = deriveAccounts(mnemonic, DEVNET_ROLES.validators)
  const oracles = deriveAccounts(mnemonic, DEVNET_ROLES.oracles)

  try {
    if (options.deploy ?? true) {
      const deployer = mnemonicToAccount(mnemonic, { addressIndex: DEVNET_ROLES.deployer })
      const guardian = mnemonicToAccount(mnemonic, { addressIndex: DEVNET_ROLES.guardian }).address
      await deployAll(
        chains.map((c) => ({ entry: c.entry, clients: createChainClients(c.entry, deployer) })),
        {
          validators: validators.map((v) => v.address as Address),
          threshold: DEVNET_ROLES.threshold,
          guardian,
          margin: {
            oracles: oracles.map((o) => o.address as Address),
            faulty: DEVNET_ROLES.oraclesFaulty,
            keeper: mnemonicToAccount(mnemonic, { addressIndex: DEVNET_ROLES.keeper }).address,
          },
          settlement: {
            institutions: DEVNET_ROLES.institutions.map(
              (i) => mnemonicToAccount(mnemonic, { addressIndex: i }).address,
            ),
            solver: mnemonicToAccount(mnemonic, { addressIndex: DEVNET_ROLES.solver }).address,
          },
        },
      )
    }
    const manifest: Manifest = {
      version: 1,
      network: 'devnet',
      createdAt: new Date().toISOString(),
      chains: chains.map((c) => c.entry),
      accounts,
      messaging: { threshold: DEVNET_ROLES.threshold, validators },
      oracles: { faulty: DEVNET_ROLES.oraclesFaulty, nodes: oracles },
      services: {},
    }
    const manifestPath = options.manifestPath
    if (manifestPath) await writeManifest(manifestPath, manifest)
    let services: ServiceProcess[] = []
    if (options.services) {
      if (!manifestPath) throw new DevnetError('services need a manifest path')
      // Fresh chains: state left by services of an earlier devnet would describe blocks that no longer exist.
      const dataDir = join(dirname(manifestPath), 'data', 'devnet')
      await rm(dataDir, { recursive: true, force: true })
      services = await startMessagingServices(manifest, manifestPath, dataDir, async (service) => {
        manifest.services[service.name] = service.url
        await writeManifest(manifestPath, manifest)
      })
    }
    return {
      chains,
      manifest,
      services,
      async stop() {
        await Promise.all(services.map((s) => s.stop()))
        await stopAll()
        if (manifestPath) await rm(manifestPath, { force: true })
      },
    }
  } catch (error) {
    await stopAll()
    throw error
  }
}

async function assertPortsFree(specs: readonly ChainSpec[], firstPort: number): Promise<void> {
  const free = await Promise.all(specs.map((_, i) => isPortFree(firstPort + i)))
  const busy = free.findIndex((f) => !f)
  if (busy >= 0) {
    throw new DevnetError(
      `port ${firstPort + busy} (chain ${specs[busy]!.name}) is already in use: stop what holds it, or pass --port <first port>`,
    )
  }
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** Accounts of the mnemonic at `indexes`, with keys: devnet only, never real funds. */
function deriveAccounts(mnemonic: string, indexes: readonly number[]): Manifest['accounts'] {
  return indexes.map((addressIndex) => {
    const account = mnemonicToAccount(mnemonic, { addressIndex })
    const key = account.getHdKey().privateKey
    return { address: account.address, ...(key ? { privateKey: toHex(key) } : {}) }
  })
}
