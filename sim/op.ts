import type { Task, Wait } from '../src/platform/index.js';

/**
 * The simulator's platform operations as hand-written iterators instead of generator functions.
 *
 * Almost every operation is "one scheduling point, then a synchronous effect" (a memory access, a
 * post to the NIC, a CQ poll). Written as `function*`, each call allocates a generator object with
 * a copy of its frame, and every `yield*` into it pays generator resumption; a plain object with a
 * small state machine does neither. On `kvlab bench sim-core` (three operations per fabric round
 * trip) that is ≈ 12% of the whole simulator (docs/execution-model.md, "Cost of an operation").
 *
 * The iterator result object is shared by all operations: whoever calls `next()` — `yield*` in the
 * caller's generator, or the kernel for a thread spawned on an operation directly — reads `done`
 * and `value` before anything else runs, and nothing in kvlab keeps a result across calls.
 * Semantics are exactly the generator's: nothing runs before the first `next()` (costs drawn from
 * the seed are drawn at the scheduling point, in the same order as before), and `throw()` /
 * `return()` behave like a generator suspended outside any `try`.
 */
const RESULT = { value: undefined as unknown, done: false };

/** The shared result for "yield `w`". */
export function yielded(w: Wait): IteratorYieldResult<Wait> {
  RESULT.value = w;
  RESULT.done = false;
  return RESULT as IteratorYieldResult<Wait>;
}

/** The shared result for "return `v`". */
export function returned<T>(v: T): IteratorReturnResult<T> {
  RESULT.value = v;
  RESULT.done = true;
  return RESULT as IteratorReturnResult<T>;
}

/** The base of an operation; subclasses implement `next`, advancing `stage` (DONE once returned). */
export abstract class SimOp<T> implements Task<T> {
  protected stage = 0;

  abstract next(resumed?: unknown): IteratorResult<Wait, T>;

  [Symbol.iterator](): this {
    return this;
  }

  return(value: T): IteratorResult<Wait, T> {
    this.stage = DONE;
    return { value, done: true };
  }

  throw(e: unknown): IteratorResult<Wait, T> {
    this.stage = DONE;
    throw e;
  }
}

/** `stage` of an operation that has returned: further `next()` calls return undefined, as a generator's do. */
export const DONE = -1;

/**
 * "One scheduling point costing `cost()`, then `effect()`": the shape of nearly every operation.
 * `cost()` runs at the first `next()` (it may draw from the seed or throw for bad arguments, as the
 * first statements of a generator body would); `effect()` when the thread resumes.
 */
export abstract class OneStep<T> extends SimOp<T> {
  protected abstract cost(): Wait;
  protected abstract effect(): T;

  next(): IteratorResult<Wait, T> {
    if (this.stage === 0) {
      this.stage = 1;
      return yielded(this.cost());
    }
    if (this.stage === 1) {
      this.stage = DONE;
      return returned(this.effect());
    }
    return returned(undefined as T);
  }
}

/** A scheduling point and nothing else (`rt.compute`, `rt.sleep`, `rt.yield`). */
export class Pause extends OneStep<void> {
  constructor(private readonly wait: number) {
    super();
  }
  protected cost(): Wait {
    return this.wait;
  }
  protected effect(): void {}
}
