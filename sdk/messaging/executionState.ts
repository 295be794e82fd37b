/** Inbox.ExecutionState, by its on-chain value: the one list every reader of the Inbox uses. */
export const EXECUTION_STATES = ['untouched', 'success', 'failure'] as const

export type ExecutionStateName = (typeof EXECUTION_STATES)[number]

/** The name of an on-chain execution state; an unknown value is shown, never guessed. */
export function executionStateName(value: number): ExecutionStateName | `unknown state ${number}` {
  return EXECUTION_STATES[value] ?? `unknown state ${value}`
}
