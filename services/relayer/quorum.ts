import type { Address, Chain, Hex, PublicClient, Transport } from 'viem'
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

/** How long a verifier's epoch, threshold and members are trusted before being read again. */
const COMMITTEE_TTL_MS = 5_000

/**
 * A destination verifier's current committee, read from the chain and cached briefly: rotations
 * are rare, and a stale view only costs a failed quorum, after which it is read again.
 */
export class CommitteeView {
  private cached:
    | { at: number; epoch: number; threshold: number; members: Map<Address, Promise<boolean>> }
    | undefined

  constructor(
    private readonly client: PublicClient<Transport, Chain>,
    private readonly verifier: Hex,
  ) {}

  async current() {
    if (this.cached && Date.now() - this.cached.at < COMMITTEE_TTL_MS) return this.cached
    const epoch = await this.client.readContract({
      address: this.verifier,
      abi: committeeVerifierAbi,
      functionName: 'latestEpoch',
    })
    const { threshold } = await this.client.readContract({
      address: this.verifier,
      abi: committeeVerifierAbi,
      functionName: 'epochConfig',
      args: [epoch],
    })
    this.cached = { at: Date.now(), epoch, threshold, members: new Map() }
    return this.cached
  }

  async isMember(signer: Address): Promise<boolean> {
    const { epoch, members } = await this.current()
    let member = members.get(signer)
    if (!member) {
      member = this.client.readContract({
        address: this.verifier,
        abi: committeeVerifierAbi,
        functionName: 'isSigner',
        args: [epoch, signer],
      })
      members.set(signer, member)
    }
    return member
  }

  invalidate(): void {
    this.cached = undefined
  }
}

/**
 * Asks every validator for its signature over a batch and keeps those that are provably good: over
 * the root *we* computed from our own index, recovering to the validator, from a member of the
 * verifier's current epoch. Returns as soon as `threshold` are in, so a slow or hung validator costs
 * nothing while a quorum answers; a lying one costs a signature, never a bad delivery.
 */
export async function collectQuorum(params: {
  validatorUrls: readonly string[]
  query: { source: number; dest: number; from: number; to: number }
  root: Hex
  digestFor: (epoch: number) => Hex
  committee: CommitteeView
  timeoutMs?: number
}): Promise<Quorum> {
  const { query, root, committee } = params
  const search = new URLSearchParams({
    source: String(query.source),
    dest: String(query.dest),
    from: String(query.from),
    to: String(query.to),
  })
  const { epoch, threshold } = await committee.current()
  const digest = params.digestFor(epoch)
  const good = new Map<Address, Hex>()
  const problems: string[] = []

  const check = async (url: string) => {
    const answer = await askValidator(url, search, params.timeoutMs ?? 2_000)
    if (answer.root !== root || answer.epoch !== epoch) {
      throw new Error(
        `${answer.validator} signed root ${answer.root} epoch ${answer.epoch}, expected ${root} epoch ${epoch}`,
      )
    }
    const signer = await recoverBatchSigner(digest, answer.signature).catch(() => undefined)
    if (
      !signer ||
      signer.toLowerCase() !== answer.validator.toLowerCase() ||
      !(await committee.isMember(signer))
    ) {
      throw new Error(`${answer.validator}: signature does not recover to a member of epoch ${epoch}`)
    }
    good.set(signer, answer.signature)
  }
  await new Promise<void>((resolve) => {
    let pending = params.validatorUrls.length
    if (pending === 0) resolve()
    for (const url of params.validatorUrls) {
      check(url)
        .catch((error: Error) => problems.push(error.message))
        .finally(() => {
          if (--pending === 0 || good.size >= threshold) resolve()
        })
    }
  })
  if (good.size < threshold) {
    committee.invalidate()
    throw new QuorumError(`${good.size} of ${threshold} signatures for ${query.from}..${query.to}`, {
      details: problems.join('; '),
      retryable: true,
    })
  }
  const signers = [...good.keys()].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)).slice(0, threshold)
  return { epoch, signers, signatures: signers.map((s) => good.get(s)!) }
}

/**
 * One validator's signature. "Not final yet" (409) is retried every 25 ms until the timeout: the
 * relayer often sees finality a moment before a validator does, and a quick retry here beats
 * postponing the whole batch.
 */
async function askValidator(
  url: string,
  search: URLSearchParams,
  timeoutMs: number,
): Promise<ValidatorAnswer> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const response = await fetch(`${url}/v1/batch?${search}`, {
      signal: AbortSignal.timeout(timeoutMs),
    }).catch((error: Error & { cause?: { code?: string } }) => {
      throw new Error(`${url}: unreachable (${error.cause?.code ?? error.message})`)
    })
    const body = (await response.json()) as ValidatorAnswer & { error?: string }
    if (response.ok) return body
    if (response.status !== 409 || Date.now() + 25 > deadline)
      throw new Error(`${url}: ${response.status} ${body.error}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
