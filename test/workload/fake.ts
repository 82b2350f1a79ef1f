/**
 * Test doubles for the driver: a tiny deterministic coroutine stepper with a fake Runtime, and an
 * in-memory KvClient with seeded latencies and injectable fail / info / hang outcomes.
 */
import { Future, type Rng, type Runtime, type Task, type ThreadHandle, type Waiter } from '../../src/platform/index.js';
import { type KvClient, type OpResult, fail, info, ok } from '../../src/protocols/protocol.js';
import { SeededRng } from '../../sim/rng.js';

interface Ev {
  t: number;
  seq: number;
  fn: () => void;
}

/** Events ordered by (time, sequence); threads resumed by events. No Promise anywhere. */
export class Stepper {
  now = 0;
  private seq = 0;
  private queue: Ev[] = [];
  steps = 0;

  constructor(readonly seed: number) {}

  schedule(t: number, fn: () => void): void {
    const ev = { t, seq: this.seq++, fn };
    // Insert keeping (t, seq) order; seq only grows, so equal times go after existing ones.
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.queue[mid]!.t <= t) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, ev);
  }

  /** Runs until the queue is empty or the next event is past `untilNs`. */
  run(untilNs = Infinity): void {
    while (this.queue.length > 0 && this.queue[0]!.t <= untilNs) {
      const ev = this.queue.shift()!;
      this.now = ev.t;
      ev.fn();
    }
  }

  spawn(name: string, body: () => Task<void>): ThreadHandle {
    const th = new Thread(this, name, body());
    this.schedule(this.now, () => th.step(undefined));
    return th;
  }

  runtime(nodeId = 0): Runtime {
    const st = this;
    return {
      nodeId,
      bootCount: 0,
      now: () => st.now,
      *sleep(ns: number): Task<void> {
        yield Math.max(0, Math.round(ns));
      },
      *compute(ns: number): Task<void> {
        yield Math.max(0, Math.round(ns));
      },
      *yield(): Task<void> {
        yield 0;
      },
      timer(ns: number): Future<void> {
        const f = new Future<void>();
        st.schedule(st.now + Math.max(0, Math.round(ns)), () => void f.resolve());
        return f;
      },
      spawn: (name, body) => st.spawn(name, body),
      rng: (purpose: string): Rng => new SeededRng(st.seed, `node${nodeId}/${purpose}`),
      trace: () => undefined,
    };
  }
}

class Thread implements Waiter, ThreadHandle {
  readonly finished = new Future<void>();
  private done = false;

  constructor(
    private readonly st: Stepper,
    readonly name: string,
    private readonly gen: Task<void>,
  ) {}

  wake(f: Future<unknown>): void {
    this.st.schedule(this.st.now, () => this.step(f.value));
  }

  step(value: unknown): void {
    if (this.done) return;
    this.st.steps++;
    const r = this.gen.next(value);
    if (r.done === true) {
      this.done = true;
      this.finished.resolve();
      return;
    }
    const w = r.value;
    if (typeof w === 'number') this.st.schedule(this.st.now + w, () => this.step(undefined));
    else w.addWaiter(this);
  }
}

export interface FakeFaults {
  /** Probability an op returns fail without effect. */
  failRate?: number;
  /** Probability an op returns info (applied with probability 1/2). */
  infoRate?: number;
  /** Probability an op never returns. */
  hangRate?: number;
}

/** One in-memory linearizable store shared by fake clients: every op applies atomically at one instant. */
export class MemStore {
  readonly data = new Map<string, string>();
  applied = 0;
}

export class FakeClient implements KvClient {
  private readonly rng: Rng;

  constructor(
    private readonly rt: Runtime,
    private readonly store: MemStore,
    name: string,
    private readonly faults: FakeFaults = {},
    private readonly latencyNs: [number, number] = [1_000, 5_000],
  ) {
    this.rng = rt.rng(`fake/${name}`);
  }

  private *op<T>(apply: () => T): Task<OpResult<T>> {
    const [lo, hi] = this.latencyNs;
    const half = (lo + this.rng.int(hi - lo + 1)) / 2;
    yield* this.rt.sleep(half);
    const u = this.rng.next();
    const f = this.faults;
    const failRate = f.failRate ?? 0;
    const infoRate = f.infoRate ?? 0;
    const hangRate = f.hangRate ?? 0;
    if (u < failRate) {
      yield* this.rt.sleep(half);
      return fail('fake: rejected');
    }
    if (u < failRate + infoRate) {
      if (this.rng.chance(0.5)) apply();
      yield* this.rt.sleep(half);
      return info('fake: unknown');
    }
    if (u < failRate + infoRate + hangRate) {
      yield new Future<void>(); // never resolves
    }
    const v = apply();
    this.store.applied++;
    yield* this.rt.sleep(half);
    return ok(v);
  }

  get(key: string): Task<OpResult<string | null>> {
    return this.op(() => this.store.data.get(key) ?? null);
  }

  put(key: string, value: string): Task<OpResult<null>> {
    return this.op(() => {
      this.store.data.set(key, value);
      return null;
    });
  }

  append(key: string, value: string): Task<OpResult<null>> {
    return this.op(() => {
      this.store.data.set(key, (this.store.data.get(key) ?? '') + value);
      return null;
    });
  }

  cas(key: string, expected: string | null, value: string): Task<OpResult<boolean>> {
    return this.op(() => {
      const cur = this.store.data.get(key) ?? null;
      if (cur !== expected) return false;
      this.store.data.set(key, value);
      return true;
    });
  }

  scan(start: string, count: number): Task<OpResult<[string, string][]>> {
    return this.op(() => {
      const keys = [...this.store.data.keys()].filter((k) => k >= start).sort().slice(0, count);
      return keys.map((k): [string, string] => [k, this.store.data.get(k)!]);
    });
  }
}

/** A client with only the required methods. */
export class BasicClient implements KvClient {
  constructor(private readonly inner: FakeClient) {}

  get(key: string): Task<OpResult<string | null>> {
    return this.inner.get(key);
  }

  put(key: string, value: string): Task<OpResult<null>> {
    return this.inner.put(key, value);
  }
}
