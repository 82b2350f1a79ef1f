import type { KvState } from './kv-model.js';
import type { Op } from './ops.js';

/**
 * Which writes an operation's observed value depends on, within one key's operations. Used by
 * the shrinker so that a minimal violating set keeps the write behind every value it shows: a
 * stale read stays "put a, put b, get → a", instead of shrinking to a bare "get → a", which
 * would misreport the bug as a read of a value never written.
 *
 * Observed values: a get's result and a cas's expected value. Their writers: a put or cas whose
 * value is exactly it — or, on a key that has appends, whose value is a prefix of it — and an
 * append whose value occurs in it. A value equal to the initial one needs no writer. A value no
 * write could produce has no writers, so the observer stands alone (a read of a value never
 * written). Over-approximating writers (non-unique values) only keeps a few more operations.
 *
 * Returns, per op index, the indices of the ops that depend on it (its readers). `init`
 * undefined: no value is exempt — the plain "could observe" relation the search uses. `hasAppends`
 * says whether the key's whole history has appends (enabling the prefix rule); pass the same
 * value for every subset of one key so that the relation does not change while shrinking.
 */
export function readersOf(init: KvState | undefined, ops: readonly Op[], hasAppends: boolean): number[][] {
  const readers: number[][] = ops.map(() => []);
  const exact = new Map<string, number[]>();
  ops.forEach((op, i) => {
    const v = written(op);
    if (v === null || op.f === 'append') return;
    const list = exact.get(v) ?? [];
    list.push(i);
    exact.set(v, list);
  });
  ops.forEach((op, i) => {
    const v = observed(op);
    if (v === null || v === init) return;
    const writers = new Set<number>(exact.get(v) ?? []);
    if (hasAppends) {
      ops.forEach((w, j) => {
        const x = written(w);
        if (x === null || j === i) return;
        if (w.f === 'append' ? v.includes(x) : v.startsWith(x)) writers.add(j);
      });
    }
    writers.delete(i);
    for (const j of [...writers].sort((a, b) => a - b)) readers[j]!.push(i);
  });
  return readers;
}

function written(op: Op): string | null {
  if (op.f === 'put' || op.f === 'append') return op.input as string;
  if (op.f === 'cas') return (op.input as [string | null, string])[1];
  return null;
}

function observed(op: Op): string | null {
  if (op.f === 'get') return op.output ?? null;
  if (op.f === 'cas') return (op.input as [string | null, string])[0];
  return null;
}

/**
 * Whether an info (or pending) write can be dropped from the search: nothing observes what it
 * wrote. Such a write, if it took effect, changed the value only until the next write replaced
 * it, and no operation looked in between (a look would have observed its value); so some
 * linearization includes it iff some linearization leaves it out — and it is optional. Dropping
 * these is what keeps histories with many unknown-outcome writes from blowing the search up
 * (every optional op doubles the configurations it may explore).
 *
 * `observed`: every get result and cas expectation in the set. On a set with appends a value is
 * observed through any value that contains it (append) or starts with it (put, cas).
 */
export function isUnobservedWrite(op: Op, observedValues: ReadonlySet<string>, hasAppends: boolean): boolean {
  const x = written(op);
  if (x === null) return false;
  if (!hasAppends) return !observedValues.has(x);
  for (const v of observedValues) {
    if (op.f === 'append' ? v.includes(x) : v.startsWith(x)) return false;
  }
  return true;
}

/** The values a set of ops observes: get results (non-null) and cas expectations. */
export function observedValues(ops: readonly Op[]): Set<string> {
  const out = new Set<string>();
  for (const op of ops) {
    const v = observed(op);
    if (v !== null) out.add(v);
  }
  return out;
}

/**
 * For the search: per op, the ops that could observe it (as in readersOf with no value exempt),
 * computed only for the ops `wanted` says (the optional ones); others get an empty list. Computing
 * it for every write was quadratic on long append histories.
 */
export function observersOf(ops: readonly Op[], wanted: (op: Op) => boolean, hasAppends: boolean): number[][] {
  const out: number[][] = ops.map(() => []);
  const observersByValue = new Map<string, number[]>();
  const observerList: [number, string][] = [];
  ops.forEach((op, i) => {
    const v = observed(op);
    if (v === null) return;
    observerList.push([i, v]);
    const list = observersByValue.get(v) ?? [];
    list.push(i);
    observersByValue.set(v, list);
  });
  ops.forEach((op, j) => {
    if (!wanted(op)) return;
    const x = written(op);
    if (x === null) return;
    if (!hasAppends) {
      out[j] = (observersByValue.get(x) ?? []).filter((i) => i !== j);
      return;
    }
    for (const [i, v] of observerList) {
      if (i !== j && (op.f === 'append' ? v.includes(x) : v.startsWith(x))) out[j]!.push(i);
    }
  });
  return out;
}
