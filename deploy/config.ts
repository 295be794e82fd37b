import { readFile } from 'node:fs/promises'
import type { Account } from 'viem'
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts'
import { z } from 'zod'
import { BaseError } from '../sdk/errors.js'
import { finalityRuleSchema } from '../sdk/finality.js'

/**
 * Chains given by RPC URL: a devnet started elsewhere, a testnet, a fork. The chain id is read from
 * the node and, when the file states one, must match it.
 */
export const deployConfigSchema = z.object({
  network: z.string().min(1).default('custom'),
  chains: z
    .array(
      z.object({
        name: z.string().min(1),
        rpcUrl: z.url(),
        wsUrl: z.url().optional(),
        chainId: z.number().int().positive().optional(),
        blockTimeMs: z.number().nonnegative().default(12_000),
        finality: finalityRuleSchema.default({ kind: 'tag', tag: 'finalized', expectedMs: 15 * 60_000 }),
      }),
    )
    .min(1),
  /** The validator committee the verifiers start with, and who may pause (default: the deployer). */
  messaging: z.object({
    validators: z.array(z.string().regex(/^0x[0-9a-fA-F]{40}$/)).min(1),
    threshold: z.number().int().positive(),
    guardian: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/)
      .optional(),
  }),
  /** Either here or in ISTHMUS_DEPLOYER_KEY; a key in a file is for local networks only. */
  deployer: z
    .union([
      z.object({ privateKey: z.string().regex(/^0x[0-9a-fA-F]{64}$/) }),
      z.object({ mnemonic: z.string().min(1), index: z.number().int().nonnegative().default(0) }),
    ])
    .optional(),
})

export type DeployConfig = z.infer<typeof deployConfigSchema>

export class DeployConfigError extends BaseError {
  override name = 'DeployConfigError'
}

export async function readDeployConfig(path: string): Promise<DeployConfig> {
  let json: unknown
  try {
    json = JSON.parse(await readFile(path, 'utf8'))
  } catch (cause) {
    throw new DeployConfigError(`cannot read deploy config ${path}: ${(cause as Error).message}`, { cause })
  }
  const parsed = deployConfigSchema.safeParse(json)
  if (!parsed.success) {
    throw new DeployConfigError(
      `deploy config ${path} is invalid: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`,
    )
  }
  const { validators, threshold } = parsed.data.messaging
  if (threshold * 2 <= validators.length || threshold > validators.length) {
    throw new DeployConfigError(
      `deploy config ${path}: threshold ${threshold} must be a majority of the ${validators.length} validators`,
    )
  }
  const names = parsed.data.chains.map((c) => c.name)
  const duplicate = names.find((n, i) => names.indexOf(n) !== i)
  if (duplicate) throw new DeployConfigError(`deploy config ${path} names chain "${duplicate}" twice`)
  return parsed.data
}

export function deployerAccount(config: DeployConfig, env: NodeJS.ProcessEnv = process.env): Account {
  const key = env.ISTHMUS_DEPLOYER_KEY
  if (key) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(key))
      throw new DeployConfigError('ISTHMUS_DEPLOYER_KEY is not a 32-byte hex key')
    return privateKeyToAccount(key as `0x${string}`)
  }
  const deployer = config.deployer
  if (!deployer)
    throw new DeployConfigError('no deployer: set ISTHMUS_DEPLOYER_KEY or "deployer" in the config')
  if ('privateKey' in deployer) return privateKeyToAccount(deployer.privateKey as `0x${string}`)
  return mnemonicToAccount(deployer.mnemonic, { addressIndex: deployer.index })
}
