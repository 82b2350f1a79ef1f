import { Future, type Completion, type CompletionQueue, type Task, type Wait } from '../../src/platform/index.js';
import type { SimNode } from '../node.js';
import { DONE, OneStep, SimOp, returned, yielded } from '../op.js';

/** Something a CQ overrun puts into the error state. */
export interface CqAttached {
  fail(reason: string): void;
}

/**
 * A completion queue. Entries are pushed by the NIC model; threads take them with poll/next.
 * A thread blocked in `next` is handed the entry directly (FIFO among waiting threads).
 *
 * Overrun: an ordinary CQ that is full when an entry arrives is in error (as with real hardware,
 * fatal): the entry is lost and every attached QP moves to error. An overrun-ignoring CQ is a
 * ring: the new entry overwrites the oldest.
 */
export class SimCq implements CompletionQueue {
  private readonly ring: (Completion | undefined)[];
  private head = 0;
  private count = 0;
  // Threads blocked in next(). After a crash nothing pushes into this CQ again (the node's NIC
  // state is gone), so a dead thread's waiter can never swallow a completion.
  private waiters: Future<Completion | null>[] = [];
  /** Deadline of each waiter (parallel to `waiters`; Infinity: none). */
  private deadlines: number[] = [];
  /**
   * The time of the one timeout event this CQ has scheduled (Infinity: none). Timeouts are lazy:
   * a waiter satisfied before its deadline leaves no event behind — the CQ keeps at most one
   * pending timeout event, for the earliest deadline, and re-arms it when it fires. (A CQ polled
   * with a timeout per completion used to leave one dead timer event per completion.)
   */
  private timerAt = Infinity;
  overwritten = 0;
  errored = false;
  readonly attached: CqAttached[] = [];

  constructor(
    private readonly node: SimNode,
    readonly pollCostNs: number,
    readonly capacity: number,
    readonly overrunIgnoring: boolean,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new Error(`CQ capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Called by the NIC model. */
  push(c: Completion): void {
    while (this.waiters.length > 0) {
      const f = this.waiters.shift()!;
      this.deadlines.shift();
      // A waiter whose timeout fired is already resolved (with null): skip it.
      if (f.resolve(c)) return;
    }
    if (this.count === this.capacity) {
      if (this.overrunIgnoring) {
        this.ring[this.head] = c;
        this.head = (this.head + 1) % this.capacity;
        this.overwritten++;
        return;
      }
      if (!this.errored) {
        this.errored = true;
        this.node.sim.note(this.node.nodeId, 'cq.overrun', { capacity: this.capacity });
        for (const a of this.attached) a.fail('cq-overrun');
      }
      return;
    }
    this.ring[(this.head + this.count) % this.capacity] = c;
    this.count++;
  }

  private take(): Completion {
    const c = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return c;
  }

  poll(max = Infinity): Task<Completion[]> {
    return new CqPoll(this, max);
  }

  next(timeoutNs?: number): Task<Completion | null> {
    return new CqNext(this, timeoutNs);
  }

  /** The entries a poll takes (at most `max`), once the thread has paid the poll's cost. */
  pollNow(max: number): Completion[] {
    const out: Completion[] = [];
    while (this.count > 0 && out.length < max) out.push(this.take());
    return out;
  }

  /**
   * `next` after its poll cost: an entry, or null for a zero timeout, or a future the thread waits
   * on (resolved with an entry, or with null at the deadline).
   */
  nextNow(timeoutNs: number | undefined): Completion | null | Future<Completion | null> {
    if (this.count > 0) return this.take();
    if (timeoutNs !== undefined && timeoutNs <= 0) return null;
    const f = new Future<Completion | null>();
    this.waiters.push(f);
    if (timeoutNs === undefined) this.deadlines.push(Infinity);
    else {
      const at = this.node.sim.now + Math.max(0, Math.round(timeoutNs));
      this.deadlines.push(at);
      this.arm(at);
    }
    return f;
  }

  private arm(at: number): void {
    if (at >= this.timerAt) return;
    this.timerAt = at;
    const node = this.node;
    node.sim.schedule(at, 2, node.nodeId, cqTimeout, this);
  }

  /**
   * A timeout event: every waiter whose deadline has come is resolved with null and forgotten (an
   * idle CQ polled with a timeout in a loop must not accumulate dead waiters); then the event for
   * the next deadline is armed.
   */
  expire(): void {
    const now = this.node.sim.now;
    if (now === this.timerAt) this.timerAt = Infinity;
    let next = Infinity;
    for (let i = 0; i < this.waiters.length; ) {
      const d = this.deadlines[i]!;
      if (d <= now) {
        this.waiters[i]!.resolve(null);
        this.waiters.splice(i, 1);
        this.deadlines.splice(i, 1);
        continue;
      }
      if (d < next) next = d;
      i++;
    }
    if (next !== Infinity) this.arm(next);
  }
}

function cqTimeout(cq: SimCq): void {
  cq.expire();
}

/** poll(max): one scheduling point (the poll's cost), then whatever entries are there. */
class CqPoll extends OneStep<Completion[]> {
  constructor(
    private readonly cq: SimCq,
    private readonly max: number,
  ) {
    super();
  }
  protected cost(): Wait {
    return this.cq.pollCostNs;
  }
  protected effect(): Completion[] {
    return this.cq.pollNow(this.max);
  }
}

/** next(timeout): the poll's cost, then an entry at once or — second stage — a wait for one. */
class CqNext extends SimOp<Completion | null> {
  constructor(
    private readonly cq: SimCq,
    private readonly timeoutNs: number | undefined,
  ) {
    super();
  }
  next(resumed?: unknown): IteratorResult<Wait, Completion | null> {
    if (this.stage === 0) {
      this.stage = 1;
      return yielded(this.cq.pollCostNs);
    }
    if (this.stage === 1) {
      const r = this.cq.nextNow(this.timeoutNs);
      if (r instanceof Future) {
        this.stage = 2;
        return yielded(r as Future<unknown>);
      }
      this.stage = DONE;
      return returned(r);
    }
    if (this.stage === 2) {
      this.stage = DONE;
      return returned(resumed as Completion | null);
    }
    return returned(null);
  }
}
