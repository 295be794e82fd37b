import type { Address, Hex } from 'viem'

/** The address a contract gets on a chain, by chain and contract name (known before anything is mined). */
export type AddressBook = (chain: string, contract: string) => Address

/**
 * One transaction of a chain's deployment: a contract creation (`target` undefined, `name` is the
 * contract's) or a call to `target`. `data` is built once every address is known. `gas` is set where
 * estimating is impossible: a constructor that reads a contract deployed earlier in the same block.
 */
export type Step = { name: string; target?: string; gas?: bigint; data: (book: AddressBook) => Hex }

export const deploy = (name: string, data: Step['data'], gas?: bigint): Step => ({ name, data, gas })

export const call = (target: string, what: string, data: Step['data']): Step => ({
  name: `${target}.${what}`,
  target,
  data,
})
