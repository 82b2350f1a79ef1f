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
 * Returns, per op index, the indices of the ops that depend on it (its readers). `hasAppends`
 * says whether the key's whole history has appends (enabling the prefix rule); pass the same
 * value for every subset of one key so that the relation does not change while shrinking.
 */
export function readersOf(init: KvState, ops: readonly Op[], hasAppends: boolean): number[][] {
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
