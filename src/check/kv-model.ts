import type { OpFn } from './history.js';
import type { Model } from './model.js';

/**
 * One key of a KV store as a register of string | null (null = absent). P-compositionality lets
 * the checker test each key against this model separately.
 *
 *   get    ok iff the value read equals the state (an unknown output constrains nothing)
 *   put    state := value
 *   append state := (state ?? "") + value — appending to an absent key creates it
 *   cas    ok iff state === expected, then state := new; a cas that did not swap never reaches
 *          the model (it is a `fail` op, dropped before the search)
 */
export type KvState = string | null;

export interface KvInput {
  f: OpFn;
  value: string | [string | null, string] | null;
}

/** get: the value read; undefined when unknown (a get whose outcome is info). */
export type KvOutput = string | null | undefined;

export function kvModel(init: KvState): Model<KvState, KvInput, KvOutput> {
  return {
    init: () => init,
    step(state, input, output) {
      switch (input.f) {
        case 'get':
          return [output === undefined || output === state, state];
        case 'put':
          return [true, input.value as string];
        case 'append':
          return [true, (state ?? '') + (input.value as string)];
        case 'cas': {
          const [expected, next] = input.value as [string | null, string];
          return state === expected ? [true, next] : [false, state];
        }
      }
    },
    equal: (a, b) => a === b,
    hash: hashState,
    describe(input, output) {
      switch (input.f) {
        case 'get':
          return output === undefined ? 'get → ?' : `get → ${show(output)}`;
        case 'put':
        case 'append':
          return `${input.f} ${show(input.value as string)}`;
        case 'cas': {
          const [expected, next] = input.value as [string | null, string];
          return `cas ${show(expected)} → ${show(next)}`;
        }
      }
    },
    describeState: show,
  };
}

export function show(v: KvState): string {
  return v === null ? 'absent' : JSON.stringify(v);
}

/**
 * FNV-1a over the characters of short values, the length alone for long ones. Appends build
 * long values as V8 cons strings; reading their characters flattens (copies) them, which made
 * single-key append histories quadratic. Equal strings still hash equal, which is all the memo
 * cache needs; a collision only costs an equality test.
 */
function hashState(s: KvState): number {
  if (s === null) return 0x9e3779b9;
  let h = Math.imul(0x811c9dc5 ^ s.length, 0x01000193);
  if (s.length > 64) return h >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
