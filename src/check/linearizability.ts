import type { History } from './history.js';
import { kvModel, kvSearchModel, type KvInput, type KvOutput, type KvState } from './kv-model.js';
import { minimizeFailing } from './minimize.js';
import { toOps, type Op } from './ops.js';
import { isUnobservedWrite, observedValues, observersOf, readersOf } from './reads-from.js';
import { searchLinearization, type SearchOp } from './search.js';

/**
 * Linearizability of a KV history. A KV store is a collection of independent registers, and
 * linearizability is compositional (Herlihy & Wing's locality / P-compositionality), so the
 * history is linearizable iff every key's subhistory is; each key is searched on its own, which
 * keeps the search space per key small.
 *
 * Which operations enter a key's search:
 *   ok     must take effect between invoke and completion;
 *   info   (and invokes that never complete) may take effect at any point after the invoke, up to
 *          the end of the history, or never — modelled as a return at +Infinity, optional;
 *   fail   never took effect: dropped;
 *   a get whose outcome is unknown constrains nothing: dropped.
 */

export interface LinearizationStep {
  op: Op;
  /** The key's value after this operation took effect. */
  stateAfter: KvState;
}

export interface KeyViolation {
  key: string;
  /**
   * A 1-minimal non-linearizable subset of the key's operations: it is not linearizable, and
   * removing any one operation from it makes it linearizable (see minimize.ts). Ordered by
   * invoke. Undefined when this key was not minimized.
   */
  minimalOps?: Op[];
  /**
   * The longest partial linearization the search reached (of minimalOps when present, else of
   * the key's whole subhistory): a plausible order up to the point where nothing fits.
   */
  partialLinearization: LinearizationStep[];
}

export interface LinearizabilityResult {
  linearizable: boolean;
  /** Operations in the history (every invoke, whatever its outcome). */
  ops: number;
  keys: number;
  /** One per non-linearizable key, in order of the key's first appearance in the history. */
  violations: KeyViolation[];
}

export interface LinearizabilityOptions {
  /** Which violating keys get a 1-minimal subset: shrinking costs many searches. Default 'first'. */
  minimize?: 'first' | 'all' | 'none';
}

export function checkLinearizability(history: History, options: LinearizabilityOptions = {}): LinearizabilityResult {
  const minimize = options.minimize ?? 'first';
  const ops = toOps(history);
  const byKey = groupByKey(ops);
  const violations: KeyViolation[] = [];
  for (const [key, keyOps] of byKey) {
    const relevant = keyOps.filter(constrains);
    const result = search(history.init, relevant);
    if (result.linearizable) continue;
    const shrink = minimize === 'all' || (minimize === 'first' && violations.length === 0);
    if (!shrink) {
      violations.push({ key, partialLinearization: steps(history.init, relevant, result.order) });
      continue;
    }
    const minimal = minimizeOps(history.init, relevant);
    violations.push({
      key,
      minimalOps: minimal,
      partialLinearization: steps(history.init, minimal, search(history.init, minimal).order),
    });
  }
  return { linearizable: violations.length === 0, ops: ops.length, keys: byKey.size, violations };
}

/**
 * Whether a set of operations on ONE key is linearizable from `init` (used by the shrinker and by
 * tests). fail ops and unknown gets are ignored, as in checkLinearizability.
 */
export function linearizableOps(init: KvState, ops: readonly Op[]): boolean {
  return search(init, ops.filter(constrains)).linearizable;
}

/**
 * A 1-minimal non-linearizable subset of one key's (non-linearizable) operations: closed under
 * reads-from (reads-from.ts) and such that removing any one op — with the ops that read its
 * value, see withoutOp — leaves a linearizable set.
 */
export function minimizeOps(init: KvState, ops: readonly Op[]): Op[] {
  const relevant = ops.filter(constrains);
  const readers = readersOf(init, relevant, relevant.some((op) => op.f === 'append'));
  return minimizeFailing(relevant, (subset) => !search(init, subset).linearizable, (i) => readers[i]!);
}

/**
 * `ops` without `op` and, transitively, the ops that read a value it wrote: "removing one op" as
 * minimizeOps means it. `hasAppends`: whether the key's whole history has appends (reads-from.ts).
 */
export function withoutOp(init: KvState, ops: readonly Op[], op: Op, hasAppends: boolean): Op[] {
  const readers = readersOf(init, ops, hasAppends);
  const dead = new Set<number>();
  const stack = [ops.indexOf(op)];
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (i < 0 || dead.has(i)) continue;
    dead.add(i);
    stack.push(...readers[i]!);
  }
  return ops.filter((_, i) => !dead.has(i));
}

/** Ops grouped by key; Map iteration is insertion order, i.e. first appearance. */
export function groupByKey(ops: readonly Op[]): Map<string, Op[]> {
  const byKey = new Map<string, Op[]>();
  for (const op of ops) {
    let list = byKey.get(op.key);
    if (!list) {
      list = [];
      byKey.set(op.key, list);
    }
    list.push(op);
  }
  return byKey;
}

function constrains(op: Op): boolean {
  if (op.status === 'fail') return false;
  if (op.f === 'get' && op.status !== 'ok') return false;
  return true;
}

function search(init: KvState, all: readonly Op[]) {
  // Unknown-outcome writes nobody observed cannot matter (reads-from.ts): leave them out.
  const seen = observedValues(all);
  const hasAppends = all.some((op) => op.f === 'append');
  const kept: Op[] = [];
  const keptIndex: number[] = [];
  all.forEach((op, i) => {
    if (op.end !== Infinity || op.f === 'get' || !isUnobservedWrite(op, seen, hasAppends)) {
      kept.push(op);
      keptIndex.push(i);
    }
  });
  const searchOps: SearchOp<KvInput, KvOutput>[] = kept.map((op) => ({
    input: { f: op.f, value: op.input },
    output: op.output,
    start: op.start,
    end: op.end,
  }));
  // The readers of a value are the only ops that can observe the write of it — including reads of
  // a value equal to the initial one, which the write may have produced.
  const optional = (op: Op): boolean => op.end === Infinity;
  const observers = kept.some(optional) ? observersOf(kept, optional, hasAppends) : undefined;
  const result = searchLinearization(kvSearchModel(init, seen), searchOps, observers ? { observers } : {});
  return { linearizable: result.linearizable, order: result.order.map((k) => keptIndex[k]!) };
}

function steps(init: KvState, ops: readonly Op[], order: readonly number[]): LinearizationStep[] {
  const model = kvModel(init);
  let state = model.init();
  return order.map((i) => {
    const op = ops[i]!;
    state = model.step(state, { f: op.f, value: op.input }, op.output)[1];
    return { op, stateAfter: state };
  });
}
