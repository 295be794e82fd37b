import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { z } from 'zod'
import { BaseError } from './errors.js'
import { finalityRuleSchema } from './finality.js'

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'expected a 20-byte hex address')
const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'expected a 32-byte hex value')

export const chainEntrySchema = z.object({
  name: z.string().min(1),
  chainId: z.number().int().positive(),
  rpcUrl: z.url(),
  wsUrl: z.url().optional(),
  blockTimeMs: z.number().nonnegative(),
  finality: finalityRuleSchema,
  /** Deployed contract addresses by contract name. */
  contracts: z.record(z.string(), address),
  /** The block the deployment started at: indexers never need to look further back. */
  deployBlock: z.number().int().nonnegative().optional(),
})

export const accountSchema = z.object({
  address,
  /** Present for devnet accounts only (derived from a public test mnemonic). */
  privateKey: hex32.optional(),
})

/**
 * What a deployment leaves behind for every other part of the system (services, CLI, tests):
 * `.isthmus/devnet.json` for the devnet, or the file `isthmus deploy --out` names.
 */
export const manifestSchema = z.object({
  version: z.literal(1),
  network: z.string(),
  createdAt: z.iso.datetime(),
  chains: z.array(chainEntrySchema).min(1),
  accounts: z.array(accountSchema),
  /** The validator committee every verifier was set up with (epoch 1). */
  messaging: z
    .object({
      threshold: z.number().int().positive(),
      validators: z.array(accountSchema),
    })
    .optional(),
  /** The price oracle nodes every PriceFeed was set up with. */
  oracles: z
    .object({
      faulty: z.number().int().nonnegative(),
      nodes: z.array(accountSchema),
    })
    .optional(),
  /** URLs of running services by name, filled in as they start. */
  services: z.record(z.string(), z.url()),
})

export type ChainEntry = z.infer<typeof chainEntrySchema>
export type Manifest = z.infer<typeof manifestSchema>

export class ManifestError extends BaseError {
  override name = 'ManifestError'
}

export async function readManifest(path: string): Promise<Manifest> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    throw new ManifestError(`no manifest at ${path}: is the devnet running (npm start)?`, { cause })
  }
  const parsed = manifestSchema.safeParse(JSON.parse(text))
  if (!parsed.success) {
    throw new ManifestError(`manifest ${path} is invalid`, { details: z.prettifyError(parsed.error) })
  }
  return parsed.data
}

/** Writes atomically (temp file + rename) so a reader never sees half a manifest. */
export async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  const valid = manifestSchema.parse(manifest)
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, `${JSON.stringify(valid, null, 2)}\n`)
  await rename(tmp, path)
}

/** Manifest name of the verifier, on a destination chain, for messages from chain `source`. */
export const verifierContractName = (source: string) => `CommitteeVerifier.${source}`

export function chainByName(manifest: Manifest, name: string): ChainEntry {
  const chain = manifest.chains.find((c) => c.name === name)
  if (!chain) {
    const known = manifest.chains.map((c) => c.name).join(', ')
    throw new ManifestError(`unknown chain "${name}" (this deployment has: ${known})`)
  }
  return chain
}
