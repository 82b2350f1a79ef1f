import { Future, InvariantViolation, type Task, type Waiter } from '../../src/platform/index.js';

/**
 * The native coroutine scheduler: drives kvlab's generator threads on Node's event loop with real
 * time, the same execution model as the simulator's kernel (src/platform/task.ts):
 *
 *  - a thread that yields a number `ns` runs again no earlier than `ns` nanoseconds later (0: after
 *    the other ready threads — a bare scheduling point); a negative number `-(ns + 1)` (an idle
 *    sleep, `idle(ns)`) waits `ns` too;
 *  - a thread that yields a Future runs again when the future resolves, with its value.
 *
 * One scheduler serves every node of the process. A run of the scheduler ("slice") loops: poll the
 * NICs in batches (completions resolve futures → threads become ready), fire due timers, run one
 * round of ready threads. When nothing is ready it spins (polling) for a short while — RDMA-style
 * busy polling, so a completion a few microseconds away is not paid for with an event-loop wake-up
 * — then arms the NICs' wait fds (fi_trywait) and returns to the event loop, which wakes it through
 * the uv_poll handle of a NIC, a timer, or a future resolved from outside. A slice never holds the
 * event loop longer than `sliceNs`.
 *
 * No Promise is involved: the microtask queue never decides which thread runs next.
 */

/** A completion source polled by the scheduler (a node's NIC). */
export interface Pollable {
  /** Reads and dispatches completions; returns how many there were. */
  poll(): number;
  /** Work is in flight (operations posted, posts waiting to be retried): keep polling. */
  busy(): boolean;
  /** Prepares to sleep: false means "poll again now" (fi_trywait said completions may be pending). */
  tryWait(): boolean;
  /** Whether this source wakes the event loop by itself (a wait fd); otherwise idle polling uses a 1 ms timer. */
  readonly canWait: boolean;
}

/** Who owns threads: a node. Its `epoch` changes when it shuts down, which kills its threads. */
export interface ThreadOwner {
  readonly nodeId: number;
  readonly epoch: number;
  liveThreads: number;
  /** A thread threw: the native counterpart of the simulator's violation. */
  panic(thread: NativeThread, error: unknown): void;
}

export interface SchedulerOptions {
  /** Busy-poll this long after the last activity before sleeping (default 100 µs, env KVLAB_NATIVE_SPIN_NS). */
  spinNs?: number;
  /** Longest a slice holds the event loop (default 2 ms). */
  sliceNs?: number;
  /** A timer due within this is waited for by spinning rather than a setTimeout (default 200 µs). */
  timerSpinNs?: number;
}

interface TimerEntry {
  t: number;
  seq: number;
  thread: NativeThread | null;
  fn: (() => void) | null;
}

/** A binary min-heap of timers ordered by (time, sequence). */
class TimerHeap {
  private readonly a: TimerEntry[] = [];
  private seq = 0;

  get size(): number {
    return this.a.length;
  }

  peekTime(): number {
    return this.a.length > 0 ? this.a[0]!.t : Infinity;
  }

  push(t: number, thread: NativeThread | null, fn: (() => void) | null): void {
    const e: TimerEntry = { t, seq: this.seq++, thread, fn };
    const a = this.a;
    let i = a.length;
    a.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const q = a[p]!;
      if (q.t < t || (q.t === t && q.seq < e.seq)) break;
      a[i] = q;
      i = p;
    }
    a[i] = e;
  }

  pop(): TimerEntry {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && (a[r]!.t < a[l]!.t || (a[r]!.t === a[l]!.t && a[r]!.seq < a[l]!.seq))) c = r;
        const ce = a[c]!;
        if (last.t < ce.t || (last.t === ce.t && last.seq < ce.seq)) break;
        a[i] = ce;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

function envNumber(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : dflt;
}

const INLINE_STEPS = 64;

export class NativeScheduler {
  private readonly base = performance.now();
  private ready: (NativeThread | undefined)[] = [];
  private head = 0;
  private readonly timers = new TimerHeap();
  /** An array, not a Set: iterating a Set allocates an iterator, and the busy-poll loop does it constantly. */
  private sources: Pollable[] = [];
  private running = false;
  private immediatePending = false;
  /** The pending setImmediate continues a slice that ran out of time (not a wake-up). */
  private continuing = false;
  /** Last time a thread ran or a completion arrived: the spin window is measured from it. */
  private lastActivity = 0;
  private timeout: NodeJS.Timeout | null = null;
  private keepAlive: NodeJS.Timeout | null = null;
  private liveThreadCount = 0;
  private readonly runBound = (): void => this.run();
  private threadIds = 0;
  readonly spinNs: number;
  readonly sliceNs: number;
  readonly timerSpinNs: number;
  /** Counters, for benchmarks and tests. */
  readonly stats = { slices: 0, rounds: 0, steps: 0, polls: 0, sleeps: 0 };

  constructor(opts: SchedulerOptions = {}) {
    this.spinNs = opts.spinNs ?? envNumber('KVLAB_NATIVE_SPIN_NS', 100_000);
    this.sliceNs = opts.sliceNs ?? 2_000_000;
    this.timerSpinNs = opts.timerSpinNs ?? 200_000;
  }

  /**
   * Monotonic time in whole ns since the scheduler was created. performance.now() reads the same
   * monotonic clock as process.hrtime, with sub-µs resolution, and — unlike hrtime.bigint() —
   * allocates nothing: the busy-poll loop reads the clock millions of times, and BigInt garbage
   * there meant a young-generation GC pause every few milliseconds.
   */
  now(): number {
    return Math.floor((performance.now() - this.base) * 1e6);
  }

  newThreadId(): number {
    return ++this.threadIds;
  }

  addSource(s: Pollable): void {
    if (!this.sources.includes(s)) this.sources.push(s);
  }

  removeSource(s: Pollable): void {
    this.sources = this.sources.filter((x) => x !== s);
  }

  get liveThreads(): number {
    return this.liveThreadCount;
  }

  /** Bookkeeping of live threads: the process stays alive while any thread lives. */
  threadsChanged(delta: number): void {
    this.liveThreadCount += delta;
    if (this.liveThreadCount > 0 && this.keepAlive === null) {
      this.keepAlive = setInterval(() => {}, 1 << 30);
    } else if (this.liveThreadCount <= 0 && this.keepAlive !== null) {
      clearInterval(this.keepAlive);
      this.keepAlive = null;
    }
  }

  /** Makes a thread runnable (after the threads already ready). */
  pushReady(t: NativeThread): void {
    this.ready.push(t);
    this.kick();
  }

  get readyCount(): number {
    return this.ready.length - this.head;
  }

  /** Runs `thread` (or `fn`) no earlier than `atNs`. */
  at(atNs: number, thread: NativeThread | null, fn: (() => void) | null): void {
    this.timers.push(atNs, thread, fn);
    if (!this.running) this.kick();
  }

  /** Something became runnable outside a slice (a future resolved by a callback, a spawn): run soon. */
  kick(): void {
    if (this.running) return;
    if (this.immediatePending) {
      this.continuing = false;
      return;
    }
    if (this.timeout !== null) {
      clearTimeout(this.timeout);
      this.timeout = null;
    }
    this.immediatePending = true;
    setImmediate(this.runBound);
  }

  /** A NIC's wait fd became readable: run a slice now (we are on the event loop, outside a slice). */
  wakeFromIo(): void {
    if (this.running) return;
    this.run();
  }

  private pollSources(): number {
    let n = 0;
    const src = this.sources;
    for (let i = 0; i < src.length; i++) n += src[i]!.poll();
    this.stats.polls++;
    return n;
  }

  private anyBusy(): boolean {
    const src = this.sources;
    for (let i = 0; i < src.length; i++) if (src[i]!.busy()) return true;
    return false;
  }

  private fireTimers(now: number): number {
    let n = 0;
    while (this.timers.size > 0 && this.timers.peekTime() <= now) {
      const e = this.timers.pop();
      n++;
      if (e.thread !== null) this.ready.push(e.thread);
      else e.fn!();
    }
    return n;
  }

  private runRound(): void {
    const end = this.ready.length;
    this.stats.rounds++;
    while (this.head < end) {
      const t = this.ready[this.head]!;
      this.ready[this.head++] = undefined;
      this.stats.steps++;
      t.step();
    }
    if (this.head === this.ready.length) {
      this.ready.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
  }

  /** One slice (see the class comment). */
  run(): void {
    this.immediatePending = false;
    if (this.timeout !== null) {
      clearTimeout(this.timeout);
      this.timeout = null;
    }
    if (this.running) return;
    this.running = true;
    this.stats.slices++;
    const start = this.now();
    // A wake-up (I/O, timer, a kick) is activity; a continuation keeps the spin window it had.
    if (!this.continuing) this.lastActivity = start;
    this.continuing = false;
    let lastActivity = this.lastActivity;
    try {
      for (;;) {
        let activity = this.pollSources();
        let now = this.now();
        activity += this.fireTimers(now);
        if (this.head < this.ready.length) {
          this.runRound();
          now = this.now();
          lastActivity = now;
          if (now - start >= this.sliceNs) {
            this.kickLater();
            return;
          }
          continue;
        }
        if (activity > 0) {
          lastActivity = now;
          continue;
        }
        const next = this.timers.peekTime();
        const sliceLeft = now - start < this.sliceNs;
        if (next - now <= this.timerSpinNs && sliceLeft) continue;
        // Adaptive busy polling: a completion or message a few microseconds away is caught here.
        if ((this.liveThreadCount > 0 || this.anyBusy()) && now - lastActivity < this.spinNs && sliceLeft) continue;
        if (!sliceLeft) {
          this.kickLater();
          return;
        }
        let armed = true;
        for (const s of this.sources) if (!s.tryWait()) armed = false;
        if (!armed) continue;
        this.sleep(next, now);
        return;
      }
    } finally {
      this.lastActivity = lastActivity;
      this.running = false;
    }
  }

  private kickLater(): void {
    this.immediatePending = true;
    this.continuing = true;
    setImmediate(this.runBound);
  }

  private sleep(next: number, now: number): void {
    this.stats.sleeps++;
    let ms = Infinity;
    if (next !== Infinity) ms = Math.max(1, Math.ceil((next - now) / 1e6));
    // A source without a wait fd is polled every millisecond while threads live.
    for (const s of this.sources) if (!s.canWait && (this.liveThreadCount > 0 || s.busy())) ms = Math.min(ms, 1);
    if (ms !== Infinity) this.timeout = setTimeout(this.runBound, ms);
  }
}

/** Shared by every node of this process unless a node is given its own. */
let defaultScheduler: NativeScheduler | null = null;

export function sharedScheduler(): NativeScheduler {
  if (defaultScheduler === null) defaultScheduler = new NativeScheduler();
  return defaultScheduler;
}

/**
 * A coroutine thread on the native scheduler. Steps run until the generator yields a Wait; a
 * `yield 0` continues inline when no other thread is ready (up to a few steps, so NIC polling is
 * never starved).
 */
export class NativeThread implements Waiter {
  readonly id: number;
  readonly finished = new Future<void>();
  private readonly epoch: number;
  private resumeValue: unknown = undefined;
  private done = false;

  constructor(
    private readonly sched: NativeScheduler,
    readonly owner: ThreadOwner,
    readonly name: string,
    private readonly gen: Task<void>,
  ) {
    this.id = sched.newThreadId();
    this.epoch = owner.epoch;
    owner.liveThreads++;
    sched.threadsChanged(1);
  }

  get alive(): boolean {
    return !this.done && this.owner.epoch === this.epoch;
  }

  start(): void {
    this.sched.pushReady(this);
  }

  wake(f: Future<unknown>): void {
    if (!this.alive) return;
    this.resumeValue = f.value;
    this.sched.pushReady(this);
  }

  /** Called when the owner shuts down: the thread is dead (its generator is dropped). */
  kill(): void {
    if (this.done) return;
    this.finish();
  }

  private finish(): void {
    this.done = true;
    this.owner.liveThreads--;
    this.sched.threadsChanged(-1);
  }

  step(): void {
    if (!this.alive) {
      if (!this.done) this.finish();
      return;
    }
    let value = this.resumeValue;
    this.resumeValue = undefined;
    let inline = 0;
    try {
      for (;;) {
        const r = this.gen.next(value);
        if (r.done === true) {
          this.finish();
          this.finished.resolve();
          return;
        }
        let w = r.value;
        if (typeof w === 'number') {
          // A negative wait -(ns + 1) is an idle sleep of ns (src/platform/task.ts `idle`): in real
          // time there is no core to free, so it is a plain wait of ns.
          if (w < 0) w = -w - 1;
          if (!(w >= 0)) throw new Error(`thread ${this.name} yielded an invalid delay ${String(r.value)}`);
          if (w === 0) {
            if (inline < INLINE_STEPS && this.sched.readyCount === 0) {
              inline++;
              value = undefined;
              continue;
            }
            this.sched.pushReady(this);
            return;
          }
          this.sched.at(this.sched.now() + w, this, null);
          return;
        }
        w.addWaiter(this);
        return;
      }
    } catch (e) {
      this.finish();
      this.owner.panic(this, e);
    }
  }
}

export function errorText(e: unknown): string {
  if (e instanceof InvariantViolation) return e.message;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
