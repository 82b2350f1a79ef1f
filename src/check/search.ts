import type { Model } from './model.js';

/**
 * The Wing–Gong linearizability search with Lowe's memoization, as in Porcupine and Knossos.
 *
 * Every operation contributes a call entry at `start` and, when `end` is finite, a return entry at
 * `end`; entries sit in one doubly linked list in time order. The search walks the list: at a call
 * it tries to linearize that operation now (the model accepts it and the resulting (set of
 * linearized ops, state) configuration is new), lifting the call and its return out of the list
 * and restarting from the head; at a return it has met an operation that must already have taken
 * effect but has not, so it backtracks: undoes the last linearized operation and tries the next
 * candidate after it. Memoizing configurations keeps the search polynomial for typical histories.
 *
 * Operations with `end` = +Infinity (outcome unknown) have no return entry. They may be linearized
 * anywhere after their call, and reaching the end of the list with only such calls left is
 * success: those operations never took effect.
 */

export interface SearchOp<I, O> {
  input: I;
  output: O;
  start: number;
  /** +Infinity: optional, may take effect at any point after start, or never. */
  end: number;
}

export interface SearchResult {
  linearizable: boolean;
  /**
   * Indices into the ops, in linearization order: the full linearization of the ops that took
   * effect when linearizable, else the longest partial linearization the search reached.
   */
  order: number[];
}

const NIL = -1;
const HEAD = 0;

export interface SearchOptions {
  /**
   * Per op, the ops that could observe its effect. An optional op (end = +Infinity) whose
   * observers are all linearized already is not tried: taking effect then would change nothing
   * anyone sees, so "never" covers that branch. Without this, every lingering unknown-outcome
   * op doubles the configurations a failing search must exhaust. Omitted: every op is tried.
   */
  observers?: readonly (readonly number[])[];
}

export function searchLinearization<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly SearchOp<I, O>[],
  options: SearchOptions = {},
): SearchResult {
  const observers = options.observers;
  // Entry 0 is the list head; then, per op, a call entry and (if end is finite) a return entry.
  const entries: { time: number; isCall: boolean; op: number }[] = [];
  ops.forEach((o, i) => {
    entries.push({ time: o.start, isCall: true, op: i });
    if (o.end !== Infinity) entries.push({ time: o.end, isCall: false, op: i });
  });
  // Equal times: calls first, so operations touching at one instant count as concurrent.
  entries.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.op - b.op : a.isCall ? -1 : 1));
  const n = entries.length + 1;
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const entryOp = new Int32Array(n);
  const isCall = new Uint8Array(n);
  const callOf = new Int32Array(ops.length);
  const returnOf = new Int32Array(ops.length).fill(NIL);
  for (let k = 0; k < n; k++) {
    prev[k] = k - 1;
    next[k] = k + 1 < n ? k + 1 : NIL;
  }
  entries.forEach((e, k) => {
    entryOp[k + 1] = e.op;
    isCall[k + 1] = e.isCall ? 1 : 0;
    if (e.isCall) callOf[e.op] = k + 1;
    else returnOf[e.op] = k + 1;
  });

  const unlink = (k: number): void => {
    next[prev[k]!] = next[k]!;
    if (next[k] !== NIL) prev[next[k]!] = prev[k]!;
  };
  const relink = (k: number): void => {
    next[prev[k]!] = k;
    if (next[k] !== NIL) prev[next[k]!] = k;
  };
  // Dancing links: undo in reverse order of removal.
  const lift = (op: number): void => {
    unlink(callOf[op]!);
    if (returnOf[op] !== NIL) unlink(returnOf[op]!);
  };
  const unlift = (op: number): void => {
    if (returnOf[op] !== NIL) relink(returnOf[op]!);
    relink(callOf[op]!);
  };

  // The linearized set, as a bitset for the search and, in the cache, in a compact canonical
  // form: its bound M (1 + the highest linearized op) and the "holes" below M. Ops are numbered
  // in start order, so the holes are the few ops still concurrent with the frontier (plus info
  // ops never linearized): copying a whole bitset per configuration instead made long
  // single-key histories allocation-bound.
  const bits = new Uint32Array((ops.length + 31) >>> 5);
  const has = (i: number): boolean => (bits[i >>> 5]! & (1 << (i & 31))) !== 0;
  /** All ops below `low` are linearized (a lower bound on the first hole, advanced lazily). */
  let low = 0;
  const cache = new Map<number, { bound: number; holes: readonly number[]; state: S }[]>();
  const holesBuf: number[] = [];
  const remember = (state: S, bound: number): boolean => {
    while (low < bound && has(low)) low = bits[low >>> 5] === 0xffffffff ? (low | 31) + 1 : low + 1;
    holesBuf.length = 0;
    let h = Math.imul(bound ^ 0x5bd1e995, 0x01000193);
    for (let i = low; i < bound; ) {
      if ((i & 31) === 0 && bits[i >>> 5] === 0xffffffff && i + 32 <= bound) {
        i += 32;
        continue;
      }
      if (!has(i)) {
        holesBuf.push(i);
        h = Math.imul(h ^ i, 0x01000193);
      }
      i++;
    }
    h = (h ^ Math.imul(model.hash ? model.hash(state) : 0, 0x9e3779b1)) >>> 0;
    let bucket = cache.get(h);
    if (!bucket) {
      bucket = [];
      cache.set(h, bucket);
    }
    for (const c of bucket) {
      if (c.bound === bound && sameHoles(c.holes, holesBuf) && model.equal(c.state, state)) return false;
    }
    bucket.push({ bound, holes: holesBuf.length === 0 ? NO_HOLES : holesBuf.slice(), state });
    return true;
  };

  const stackOps: number[] = [];
  const stackStates: S[] = [];
  /** stackBounds[i] = 1 + the highest op in stackOps[0..i]. */
  const stackBounds: number[] = [];
  // The longest partial linearization: copied only when the search backtracks from a new
  // maximum (copying at every new maximum was quadratic on long histories that never backtrack).
  let best: number[] = [];
  let bestPending = false;
  let state = model.init();
  let e = next[HEAD]!;
  for (;;) {
    if (e === NIL) return { linearizable: true, order: stackOps.slice() };
    const op = entryOp[e]!;
    if (isCall[e]) {
      const o = ops[op]!;
      if (observers && o.end === Infinity && observers[op]!.every(has)) {
        e = next[e]!;
        continue;
      }
      const [ok, after] = model.step(state, o.input, o.output);
      if (ok) {
        bits[op >>> 5] |= 1 << (op & 31);
        const bound = Math.max(op + 1, stackBounds.length > 0 ? stackBounds[stackBounds.length - 1]! : 0);
        if (remember(after, bound)) {
          stackOps.push(op);
          stackStates.push(state);
          stackBounds.push(bound);
          state = after;
          lift(op);
          if (stackOps.length > best.length) bestPending = true;
          e = next[HEAD]!;
          continue;
        }
        bits[op >>> 5] &= ~(1 << (op & 31));
        if (op < low) low = op;
      }
      e = next[e]!;
    } else {
      // A return whose op is not linearized yet: the current prefix cannot be extended.
      if (bestPending) {
        best = stackOps.slice();
        bestPending = false;
      }
      if (stackOps.length === 0) return { linearizable: false, order: best };
      const undone = stackOps.pop()!;
      state = stackStates.pop()!;
      stackBounds.pop();
      bits[undone >>> 5] &= ~(1 << (undone & 31));
      if (undone < low) low = undone;
      unlift(undone);
      e = next[callOf[undone]!]!;
    }
  }
}

const NO_HOLES: readonly number[] = [];

function sameHoles(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
