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
    describe,
    describeState: show,
  };
}

/**
 * A value no operation can ever observe again: it is not a prefix of any value read or expected
 * (by a get or a cas) in the history searched, and neither is anything appends can make of it.
 * All such values behave alike until a put or cas replaces them — every get and cas on them
 * fails, appends keep them unobservable — so the search state merges them into this one marker.
 * Without the merge, every order of concurrent appends yields a distinct string, and a failing
 * search must try them all (factorial in the concurrency).
 */
export const UNOBSERVABLE: unique symbol = Symbol('unobservable');
export type KvSearchState = KvState | typeof UNOBSERVABLE;

/**
 * kvModel for the search: the same transitions, with every unobservable value merged into
 * UNOBSERVABLE. `observed`: every non-null value some get read or some cas expected. Exact (a
 * bisimulation): it changes only how fast the search runs, never its answer.
 */
export function kvSearchModel(init: KvState, observed: ReadonlySet<string>): Model<KvSearchState, KvInput, KvOutput> {
  const sorted = [...observed].sort();
  /** Whether some observed value starts with s: the first observed value ≥ s is the witness if any is. */
  const live = (s: string): boolean => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < s) lo = mid + 1;
      else hi = mid;
    }
    return lo < sorted.length && sorted[lo]!.startsWith(s);
  };
  const merge = (s: string): KvSearchState => (live(s) ? s : UNOBSERVABLE);
  return {
    init: () => (init === null ? null : merge(init)),
    step(state, input, output) {
      switch (input.f) {
        case 'get':
          return [output === undefined || output === state, state];
        case 'put':
          return [true, merge(input.value as string)];
        case 'append':
          return [true, state === UNOBSERVABLE ? state : merge((state ?? '') + (input.value as string))];
        case 'cas': {
          const [expected, next] = input.value as [string | null, string];
          return state === expected ? [true, merge(next)] : [false, state];
        }
      }
    },
    equal: (a, b) => a === b,
    hash: (s) => (s === UNOBSERVABLE ? 0x2545f491 : hashState(s)),
    describe,
    describeState: (s) => (s === UNOBSERVABLE ? '(unobservable)' : show(s)),
  };
}

function describe(input: KvInput, output: KvOutput): string {
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
