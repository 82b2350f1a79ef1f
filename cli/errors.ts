export { InputError } from '../src/kv/input-error.js';

/** Exit statuses of every kvlab command. */
export const EXIT = {
  OK: 0,
  /** A check found a violation (non-linearizable history, failing seed, TLC counterexample...). */
  VIOLATION: 1,
  /** Bad input. */
  BAD_INPUT: 2,
} as const;
