/**
 * Tasks and futures: the execution model shared by every backend.
 *
 * Protocol code is written as generator functions (`function*`) that `yield*` platform operations.
 * Underneath, an operation yields a {@link Wait} to the backend's scheduler:
 *
 *  - a number `ns` ≥ 0: "this is a scheduling point, and I do `ns` of CPU work here" (a local
 *    memory operation, posting to the NIC, `rt.compute`). A thread bound to a core (see
 *    `Runtime.spawn`) occupies that core meanwhile; the simulator may run other threads first.
 *  - a negative number `-(ns + 1)`: "idle for `ns`" (`rt.sleep`): the thread's core is free.
 *  - a {@link Future}: "resume me when this resolves, with its value".
 *
 * The backend, never the JavaScript microtask queue, decides which thread runs next. Promises and
 * `async` are therefore not used in protocol code or in the simulator (see docs/execution-model.md).
 */

export type Wait = number | Future<unknown>;

/** The Wait an idle sleep of `ns` yields (negative, so it never occupies a core). */
export function idle(ns: number): number {
  return -(Math.max(0, Math.round(ns)) + 1);
}

/** A coroutine returning T. Run by a backend; composed with `yield*`. */
export type Task<T = void> = Generator<Wait, T, unknown>;

/** Something woken when a future resolves. Backends implement it for their threads. */
export interface Waiter {
  wake(future: Future<unknown>): void;
}

/**
 * A single-assignment value, resolved at most once (FoundationDB's Flow future, without callbacks
 * that run user code: waking a waiter only asks its backend to schedule it).
 */
export class Future<T> {
  private resolved = false;
  private result: T | undefined = undefined;
  // Most futures have one waiter: keep it in a field, and only allocate a list for more.
  private waiter: Waiter | null = null;
  private more: Waiter[] | null = null;

  get done(): boolean {
    return this.resolved;
  }

  /** The resolved value. Asserts the future is resolved. */
  get value(): T {
    if (!this.resolved) throw new Error('Future.value read before resolution');
    return this.result as T;
  }

  /** Resolves the future; returns false (and changes nothing) if it was already resolved. */
  resolve(value: T): boolean {
    if (this.resolved) return false;
    this.resolved = true;
    this.result = value;
    const w = this.waiter;
    const ws = this.more;
    this.waiter = null;
    this.more = null;
    if (w !== null) w.wake(this as Future<unknown>);
    if (ws !== null) for (let i = 0; i < ws.length; i++) ws[i]!.wake(this as Future<unknown>);
    return true;
  }

  /** Registers a waiter; if already resolved, wakes it at once (the backend schedules it). */
  addWaiter(w: Waiter): void {
    if (this.resolved) {
      w.wake(this as Future<unknown>);
      return;
    }
    if (this.waiter === null) this.waiter = w;
    else if (this.more === null) this.more = [w];
    else this.more.push(w);
  }

  static resolved<T>(value: T): Future<T> {
    const f = new Future<T>();
    f.resolve(value);
    return f;
  }
}

/** Waits for a future and returns its value. */
export function* wait<T>(f: Future<T>): Task<T> {
  if (f.done) {
    // Still a scheduling point: resolving order must not depend on who looked first.
    yield 0;
    return f.value;
  }
  return (yield f as Future<unknown>) as T;
}

/** A future resolved with the index of the first of `fs` to resolve. */
export function firstOf(fs: readonly Future<unknown>[]): Future<number> {
  const out = new Future<number>();
  for (let i = 0; i < fs.length; i++) {
    const index = i;
    fs[i]!.addWaiter({ wake: () => void out.resolve(index) });
  }
  return out;
}

/** A future resolved when every one of `fs` has resolved. */
export function allOf(fs: readonly Future<unknown>[]): Future<void> {
  const out = new Future<void>();
  let left = fs.length;
  if (left === 0) out.resolve();
  for (const f of fs) {
    f.addWaiter({
      wake: () => {
        left -= 1;
        if (left === 0) out.resolve();
      },
    });
  }
  return out;
}
