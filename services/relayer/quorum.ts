import type { Chain, Hex, PublicClient, Transport } from 'viem'
import { committeeVerifierAbi } from '../../sdk/abi/CommitteeVerifier.js'
import { BaseError } from '../../sdk/errors.js'
import { recoverBatchSigner } from '../../sdk/messaging/digest.js'

/** Not enough validators signed this batch (yet): retryable, with who said what. */
export class QuorumError extends BaseError {
  override name = 'QuorumError'
}

export type Quorum = {
  epoch: number
  /** Exactly `threshold` signatures, ascending by signer, as the verifier wants them. */
  signatures: Hex[]
  signers: Hex[]
}

type ValidatorAnswer = { validator: Hex; epoch: number; root: Hex; leafCount: number; signature: Hex }

/**
 * Asks every validator for its signature over a batch and keeps those that are provably good: over
 * the root *we* computed from our own index, recovering to the validator, and from a member of the
 * verifier's epoch. A lying or stale validator costs a signature, never a bad delivery.
 */
export async function collectQuorum(params: {
  validatorUrls: readonly string[]
  query: { source: number; dest: number; from: number; to: number }
  root: Hex
  digestFor: (epoch: number) => Hex
  destClient: PublicClient<Transport, Chain>
  verifier: Hex
  timeoutMs?: number
}): Promise<Quorum> {
  const { query, root } = params
  const search = new URLSearchParams({
    source: String(query.source),
    dest: String(query.dest),
    from: String(query.from),
    to: String(query.to),
  })
  const answers = await Promise.allSettled(
    params.validatorUrls.map(async (url) => {
      const response = await fetch(`${url}/v1/batch?${search}`, {
        signal: AbortSignal.timeout(params.timeoutMs ?? 3_000),
      }).catch((error: Error & { cause?: { code?: string } }) => {
        throw new Error(`${url}: unreachable (${error.cause?.code ?? error.message})`)
      })
      const body = (await response.json()) as ValidatorAnswer & { error?: string }
      if (!response.ok) throw new Error(`${url}: ${response.status} ${body.error}`)
      return body
    }),
  )
  const epoch = await params.destClient.readContract({
    address: params.verifier,
    abi: committeeVerifierAbi,
    functionName: 'latestEpoch',
  })
  const { threshold } = await params.destClient.readContract({
    address: params.verifier,
    abi: committeeVerifierAbi,
    functionName: 'epochConfig',
    args: [epoch],
  })
  const digest = params.digestFor(epoch)
  const good = new Map<Hex, Hex>() // signer → signature
  const problems: string[] = []
  for (const answer of answers) {
    if (answer.status === 'rejected') {
      problems.push((answer.reason as Error).message)
      continue
    }
    const { validator, signature } = answer.value
    if (answer.value.root !== root || answer.value.epoch !== epoch) {
      problems.push(
        `${validator} signed root ${answer.value.root} epoch ${answer.value.epoch}, expected ${root} epoch ${epoch}`,
      )
      continue
    }
    const signer = await recoverBatchSigner(digest, signature).catch(() => undefined)
    const member =
      signer &&
      signer.toLowerCase() === validator.toLowerCase() &&
      (await params.destClient.readContract({
        address: params.verifier,
        abi: committeeVerifierAbi,
        functionName: 'isSigner',
        args: [epoch, signer],
      }))
    if (member) good.set(signer, signature)
    else problems.push(`${validator}: signature does not recover to a member of epoch ${epoch}`)
  }
  if (good.size < threshold) {
    throw new QuorumError(`${good.size} of ${threshold} signatures for ${query.from}..${query.to}`, {
      details: problems.join('; '),
      retryable: true,
    })
  }
  const signers = [...good.keys()].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)).slice(0, threshold)
  return { epoch, signers, signatures: signers.map((s) => good.get(s)!) }
}
