import { z } from 'zod'

/**
 * When a block on a chain counts as final (DESIGN §7): either a confirmation depth, or a block tag
 * the node itself maintains (`finalized`/`safe`). `expectedMs` is how long finality usually takes;
 * the margin engine and the relayer plan with it.
 */
export const finalityRuleSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('depth'),
    confirmations: z.number().int().nonnegative(),
    expectedMs: z.number().nonnegative(),
  }),
  z.object({
    kind: z.literal('tag'),
    tag: z.enum(['finalized', 'safe']),
    expectedMs: z.number().nonnegative(),
  }),
])

export type FinalityRule = z.infer<typeof finalityRuleSchema>

/** The highest block number that is final under `rule`, given the head and (for tag rules) the tagged block. */
export function finalizedBlockNumber(
  rule: FinalityRule,
  head: bigint,
  taggedBlock?: bigint,
): bigint | undefined {
  if (rule.kind === 'tag') return taggedBlock
  const final = head - BigInt(rule.confirmations)
  return final >= 0n ? final : undefined
}
