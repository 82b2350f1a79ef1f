import { Future, InvariantViolation, type Task, type TraceValue, type Waiter } from '../src/platform/index.js';
import { TraceHash, fnv1a } from './hash.js';
import { SeededRng } from './rng.js';

/**
 * The simulator kernel: one virtual clock, one totally ordered event queue, coroutine threads.
 *
 * Events are ordered by (virtual time ns, sequence number). The sequence number is assigned when an
 * event is scheduled, so ties resolve in scheduling order — which itself is decided only by earlier
 * events. Nothing here reads the wall clock, `Math.random`, timers or I/O, and no Promise is ever
 * created: the JavaScript microtask queue cannot decide an order (docs/execution-model.md).
 */

export type EventFn = (arg: any) => void;

/** Event codes hashed into the trace for kernel-level events. */
export const EV = {
  THREAD_STEP: 1,
  TIMER: 2,
  CALL: 3,
} as const;

/** A record for the human timeline / Perfetto. Only kept when a recorder is attached. */
export interface TraceRecord {
  t: number;
  node: number;
  kind: string;
  fields?: Record<string, TraceValue>;
}

export interface Recorder {
  record(rec: TraceRecord): void;
  /** Thread steps are very frequent; they are recorded only when this is true. */
  readonly threadSteps: boolean;
}

/** Why a run stopped early. */
export interface Violation {
  kind: string;
  message: string;
  t: number;
  node?: number;
}

export class StopRun extends Error {}

/** Buckets of the event wheel: one per ns of the near future (power of two). */
const WHEEL = 4096;
const WHEEL_MASK = WHEEL - 1;
const WORDS = WHEEL >>> 5;

function grow32(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

export class Sim {
  now = 0;
  /** Events processed (including steps taken on the fast path). */
  events = 0;
  /** Events run, by kind code (< 256, as hashed): where a run's events go (sim/event-kinds.ts names them). */
  readonly eventsByCode = new Float64Array(256);
  private seq = 0;
  // The event queue: a timing wheel of WHEEL buckets, one per nanosecond of the near future
  // [now, now + WHEEL), each a FIFO list of event slots, plus an overflow heap for farther events.
  // Ordering is exactly (time, seq): within a bucket, events are in scheduling (seq) order; an
  // overflow event moves into its bucket as soon as the clock comes within WHEEL of it — before any
  // event could be scheduled directly into that bucket (those get later sequence numbers), so it
  // keeps its place in front of them. A bitmap of non-empty buckets finds the next event fast.
  // Event payloads live in a slab of slots (parallel arrays, reused through a free list).
  private sFn: (EventFn | undefined)[] = [];
  private sArg: unknown[] = [];
  private sCode = new Int32Array(1024);
  private sId = new Int32Array(1024);
  private sNext = new Int32Array(1024);
  private sFree: number[] = [];
  private slots = 0;
  private readonly bHead = new Int32Array(WHEEL).fill(-1);
  private readonly bTail = new Int32Array(WHEEL).fill(-1);
  private readonly bits = new Uint32Array(WHEEL >>> 5);
  private wheelCount = 0;
  // Overflow: a 4-ary min-heap over (time, seq, slot).
  private cap = 256;
  private hTime = new Float64Array(256);
  private hSeq = new Float64Array(256);
  private hSlot = new Int32Array(256);
  private hLen = 0;
  readonly hash = new TraceHash();
  recorder: Recorder | null = null;
  violation: Violation | null = null;
  /** Set by `halt()`: the run loop returns after the current event. */
  private halted = false;
  private threadIds = 0;
  private stopAt = Infinity;

  constructor(readonly seed: number) {}

  /** An independent random stream for `purpose`. */
  rng(purpose: string): SeededRng {
    return new SeededRng(this.seed, purpose);
  }

  private newSlot(code: number, id: number, fn: EventFn, arg: unknown): number {
    let s: number;
    if (this.sFree.length > 0) s = this.sFree.pop()!;
    else {
      s = this.slots++;
      if (s >= this.sCode.length) {
        this.sCode = grow32(this.sCode);
        this.sId = grow32(this.sId);
        this.sNext = grow32(this.sNext);
      }
    }
    this.sFn[s] = fn;
    this.sArg[s] = arg;
    this.sCode[s] = code;
    this.sId[s] = id;
    return s;
  }

  /** Appends slot s to the bucket of time t (t within the wheel's window). */
  private toBucket(t: number, s: number): void {
    const b = t & WHEEL_MASK;
    this.sNext[s] = -1;
    const tail = this.bTail[b]!;
    if (tail < 0) {
      this.bHead[b] = s;
      this.bits[b >>> 5]! |= 1 << (b & 31);
    } else this.sNext[tail] = s;
    this.bTail[b] = s;
    this.wheelCount++;
  }

  schedule(t: number, code: number, id: number, fn: EventFn, arg?: unknown): void {
    if (!(t >= this.now) || !Number.isInteger(t)) throw new Error(`event scheduled at ${t} (now ${this.now}): times are whole ns, never in the past`);
    const seq = this.seq++;
    const s = this.newSlot(code, id, fn, arg);
    if (t - this.now < WHEEL) {
      this.toBucket(t, s);
      return;
    }
    if (this.hLen === this.cap) this.growHeap();
    const ht = this.hTime;
    const hs = this.hSeq;
    const hsl = this.hSlot;
    let i = this.hLen++;
    while (i > 0) {
      const p = (i - 1) >> 2;
      const pt = ht[p]!;
      if (pt < t || (pt === t && hs[p]! < seq)) break;
      ht[i] = pt;
      hs[i] = hs[p]!;
      hsl[i] = hsl[p]!;
      i = p;
    }
    ht[i] = t;
    hs[i] = seq;
    hsl[i] = s;
  }

  private growHeap(): void {
    this.cap *= 2;
    const t = new Float64Array(this.cap);
    t.set(this.hTime);
    this.hTime = t;
    const q = new Float64Array(this.cap);
    q.set(this.hSeq);
    this.hSeq = q;
    const s = new Int32Array(this.cap);
    s.set(this.hSlot);
    this.hSlot = s;
  }

  after(delayNs: number, code: number, id: number, fn: EventFn, arg?: unknown): void {
    this.schedule(this.now + delayNs, code, id, fn, arg);
  }

  /** Removes the overflow heap's minimum and returns its slot. */
  private popHeap(): number {
    const ht = this.hTime;
    const hs = this.hSeq;
    const hsl = this.hSlot;
    const slot = hsl[0]!;
    const n = --this.hLen;
    if (n > 0) {
      const lt = ht[n]!;
      const ls = hs[n]!;
      const lsl = hsl[n]!;
      let i = 0;
      for (;;) {
        const l = 4 * i + 1;
        if (l >= n) break;
        let c = l;
        let ct = ht[l]!;
        let cs = hs[l]!;
        const end = l + 4 < n ? l + 4 : n;
        for (let k = l + 1; k < end; k++) {
          const kt = ht[k]!;
          if (kt < ct || (kt === ct && hs[k]! < cs)) {
            c = k;
            ct = kt;
            cs = hs[k]!;
          }
        }
        if (lt < ct || (lt === ct && ls < cs)) break;
        ht[i] = ct;
        hs[i] = cs;
        hsl[i] = hsl[c]!;
        i = c;
      }
      ht[i] = lt;
      hs[i] = ls;
      hsl[i] = lsl;
    }
    return slot;
  }

  /** Moves overflow events that came within the wheel's window into their buckets (in (time, seq) order). */
  private migrate(): void {
    const limit = this.now + WHEEL;
    while (this.hLen > 0 && this.hTime[0]! < limit) {
      const t = this.hTime[0]!;
      this.toBucket(t, this.popHeap());
    }
  }

  /** Distance from now to the first non-empty bucket (the wheel must not be empty). */
  private firstBucketDistance(): number {
    const start = this.now & WHEEL_MASK;
    const bits = this.bits;
    let w = start >>> 5;
    // First word: ignore buckets before `start`.
    let word = bits[w]! & (~0 << (start & 31));
    let scanned = 0;
    while (word === 0) {
      w = (w + 1) & (WORDS - 1);
      word = bits[w]!;
      if (++scanned > WORDS) throw new Error('event wheel: bitmap and count disagree');
    }
    const b = (w << 5) + (31 - Math.clz32(word & -word));
    return (b - start) & WHEEL_MASK;
  }

  /** Time of the earliest pending event, or +Infinity. */
  nextTime(): number {
    if (this.wheelCount > 0) return this.now + this.firstBucketDistance();
    return this.hLen > 0 ? this.hTime[0]! : Infinity;
  }

  get pending(): number {
    return this.hLen + this.wheelCount;
  }

  /** Runs events until the queue is empty, virtual time would pass `untilNs`, or a violation stops the run. */
  run(untilNs = Infinity): void {
    this.stopAt = untilNs;
    const hash = this.hash;
    this.halted = false;
    while (this.violation === null && !this.halted) {
      if (this.wheelCount === 0) {
        if (this.hLen === 0 || this.hTime[0]! > untilNs) break;
        this.now = this.hTime[0]!;
        this.migrate();
      }
      const d = this.firstBucketDistance();
      if (d > 0) {
        if (this.now + d > untilNs) break;
        this.now += d;
        if (this.hLen > 0) this.migrate();
      }
      const b = this.now & WHEEL_MASK;
      const s = this.bHead[b]!;
      const next = this.sNext[s]!;
      this.bHead[b] = next;
      if (next < 0) {
        this.bTail[b] = -1;
        this.bits[b >>> 5]! &= ~(1 << (b & 31));
      }
      this.wheelCount--;
      const code = this.sCode[s]!;
      const id = this.sId[s]!;
      const fn = this.sFn[s]!;
      const arg = this.sArg[s];
      this.sFn[s] = undefined;
      this.sArg[s] = undefined;
      this.sFree.push(s);
      this.events++;
      this.eventsByCode[code & 0xff]!++;
      hash.event(this.now, code, id);
      try {
        fn(arg);
      } catch (e) {
        if (e instanceof StopRun) break;
        this.fail('panic', errorText(e));
      }
    }
    if (this.violation === null && !this.halted && untilNs !== Infinity && this.now < untilNs) {
      this.now = untilNs;
      if (this.hLen > 0) this.migrate();
    }
  }

  /** Ends `run()` after the current event (the harness's way to finish a run whose servers loop forever). */
  halt(): void {
    this.halted = true;
  }

  /** Stops the run with a violation (the first one wins). */
  fail(kind: string, message: string, node?: number): void {
    if (this.violation !== null) return;
    this.violation = { kind, message, t: this.now, ...(node === undefined ? {} : { node }) };
    this.note(node ?? -1, 'violation', { kind, message });
  }

  /** A semantic event: hashed, and recorded when a recorder is attached. */
  note(node: number, kind: string, fields?: Record<string, TraceValue>): void {
    const hash = this.hash;
    hash.word(fnv1a(kind));
    hash.word(node);
    if (fields !== undefined) {
      for (const k in fields) {
        const v = fields[k];
        if (typeof v === 'number') {
          if (Number.isInteger(v) && v >= 0) hash.int(v);
          else hash.str(String(v));
        } else if (typeof v === 'string') hash.str(v);
        else hash.word(v === true ? 1 : v === false ? 2 : 3);
      }
    }
    if (this.recorder !== null) {
      this.recorder.record(fields === undefined ? { t: this.now, node, kind } : { t: this.now, node, kind, fields });
    }
  }

  newThreadId(): number {
    return ++this.threadIds;
  }

  /** Used by the thread fast path: may a thread continue to `t` without going through the queue? */
  canRunInline(t: number): boolean {
    return t < this.nextTime() && t <= this.stopAt && this.violation === null && !this.halted;
  }

  /** Takes the sequence number an inline step would have had, so both paths hash identically. */
  consumeSeq(): void {
    this.seq++;
  }

  /** The inline fast path moves the clock itself: overflow events now within the wheel's window move into it. */
  advanceInline(t: number): void {
    this.now = t;
    if (this.hLen > 0 && this.hTime[0]! < t + WHEEL) this.migrate();
  }
}

export function errorText(e: unknown): string {
  if (e instanceof InvariantViolation) return e.message;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}

/** A CPU core of a node: the threads bound to it time-share it (SpawnOptions.core). */
export interface Core {
  /** The core is busy with CPU work until this time. */
  freeAtNs: number;
}

/** Owner of threads: a simulated node (its crash kills them). */
export interface ThreadOwner {
  readonly nodeId: number;
  /** Incremented at every crash; a thread of an older epoch is dead. */
  readonly epoch: number;
}

/**
 * A coroutine thread. It runs its generator until the generator yields a Wait:
 *  - a number: resume after that many ns (through the queue, or inline when nothing else is due
 *    first — the two are indistinguishable, both hash the same step);
 *  - a Future: resume when it resolves, with its value.
 */
export class SimThread implements Waiter {
  readonly id: number;
  readonly finished = new Future<void>();
  private readonly epoch: number;
  private resumeValue: unknown = undefined;
  private done = false;

  constructor(
    private readonly sim: Sim,
    readonly owner: ThreadOwner,
    readonly name: string,
    private readonly gen: Task<void>,
    /** The core the thread runs on, shared with the other threads bound to it; null = its own. */
    private readonly core: Core | null = null,
  ) {
    this.id = sim.newThreadId();
    this.epoch = owner.epoch;
  }

  get alive(): boolean {
    return !this.done && this.owner.epoch === this.epoch;
  }

  start(): void {
    this.sim.schedule(this.sim.now, EV.THREAD_STEP, this.id, stepThread, this);
  }

  wake(f: Future<unknown>): void {
    if (!this.alive) return;
    this.resumeValue = f.value;
    this.sim.schedule(this.sim.now, EV.THREAD_STEP, this.id, stepThread, this);
  }

  /** Runs the thread until it blocks. Called by the event loop only. */
  step(): void {
    if (!this.alive) return;
    const sim = this.sim;
    const rec = sim.recorder;
    if (rec !== null && rec.threadSteps) rec.record({ t: sim.now, node: this.owner.nodeId, kind: 'step', fields: { thread: this.name, tid: this.id } });
    let value = this.resumeValue;
    this.resumeValue = undefined;
    try {
      for (;;) {
        const r = this.gen.next(value);
        if (r.done === true) {
          this.done = true;
          this.finished.resolve();
          return;
        }
        const w = r.value;
        if (typeof w === 'number') {
          let t: number;
          if (w >= 0) {
            // CPU work: on a shared core it starts when the core is free and holds it meanwhile.
            const core = this.core;
            if (core === null) t = sim.now + w;
            else {
              t = (core.freeAtNs > sim.now ? core.freeAtNs : sim.now) + w;
              core.freeAtNs = t;
            }
          } else if (w < 0) t = sim.now - w - 1; // idle: the core stays free
          else throw new Error(`thread ${this.name} yielded an invalid wait ${w}`);
          if (sim.canRunInline(t)) {
            // Fast path: no other event is due first, so popping this step from the queue would
            // give the same order. Account for it exactly as the queue would.
            sim.consumeSeq();
            sim.advanceInline(t);
            sim.events++;
            sim.eventsByCode[EV.THREAD_STEP]!++;
            sim.hash.event(t, EV.THREAD_STEP, this.id);
            if (rec !== null && rec.threadSteps) rec.record({ t, node: this.owner.nodeId, kind: 'step', fields: { thread: this.name, tid: this.id } });
            value = undefined;
            continue;
          }
          sim.schedule(t, EV.THREAD_STEP, this.id, stepThread, this);
          return;
        }
        w.addWaiter(this);
        return;
      }
    } catch (e) {
      this.done = true;
      if (e instanceof StopRun) throw e;
      const kind = e instanceof InvariantViolation ? 'invariant' : 'panic';
      sim.fail(kind, `thread ${this.name} on node ${this.owner.nodeId}: ${errorText(e)}`, this.owner.nodeId);
      throw new StopRun();
    }
  }
}

function stepThread(t: SimThread): void {
  t.step();
}
