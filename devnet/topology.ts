import type { FinalityRule } from '../sdk/finality.js'

/** One chain of the devnet before it runs. */
export type ChainSpec = {
  name: string
  chainId: number
  /** Interval-mining period; 0 mines a block per transaction (fastest for unit tests). */
  blockTimeMs: number
  /** Blocks on top of a block before it counts as final (DESIGN §7, scaled down). */
  finalityConfirmations: number
  /** What real chain this one stands for, for the people reading the ready lines. */
  modelOf: string
}

/**
 * DESIGN §10's default topology. Block times are scaled-down versions of the chains they model;
 * finality depths keep the real ordering (l1 slowest to finalize, bank instant and permissioned).
 */
export const defaultTopology: readonly ChainSpec[] = [
  { name: 'l1', chainId: 31_001, blockTimeMs: 2_000, finalityConfirmations: 6, modelOf: 'Ethereum-like L1' },
  { name: 'hub', chainId: 31_002, blockTimeMs: 250, finalityConfirmations: 20, modelOf: 'Arbitrum-like hub' },
  { name: 'base', chainId: 31_003, blockTimeMs: 500, finalityConfirmations: 10, modelOf: 'OP-stack L2' },
  {
    name: 'bank',
    chainId: 31_004,
    blockTimeMs: 1_000,
    finalityConfirmations: 2,
    modelOf: 'permissioned chain',
  },
]

/** Anvil's default mnemonic: public, so every account it derives is a devnet-only key. */
export const DEVNET_MNEMONIC = 'test test test test test test test test test test test junk'
/** Funded accounts: users, services that send transactions (relayer, oracle nodes, keeper, solver). */
export const DEVNET_ACCOUNTS = 21

/** Who is who among the devnet accounts (mnemonic indexes). */
export const DEVNET_ROLES = {
  deployer: 0,
  relayer: 1,
  guardian: 2,
  /** Indexes 3–9 are free for users, tests and scenarios. */
  firstUser: 3,
  /** Users allowlisted as institutions on the permissioned bank chain's T-bill (9 is not). */
  institutions: [3, 4, 5, 6, 7, 8],
  validators: [10, 11, 12, 13, 14],
  threshold: 3,
  /** Price oracle nodes (they transmit, so they are funded): n = 4 tolerates f = 1 faulty. */
  oracles: [15, 16, 17, 18],
  oraclesFaulty: 1,
  /** Watches accounts, calls margins and liquidates. */
  keeper: 19,
  /** Fills intents from its own funds and is repaid from the origin escrow. */
  solver: 20,
} as const

export function finalityRule(spec: ChainSpec): FinalityRule {
  return {
    kind: 'depth',
    confirmations: spec.finalityConfirmations,
    expectedMs: spec.finalityConfirmations * spec.blockTimeMs,
  }
}
