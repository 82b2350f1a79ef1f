import { Access, Future, type CompletionQueue, type Completion, type Memory, type Platform, type QueuePair, type RemoteAddr, type Source, type Task, wait } from '../../platform/index.js';
import type { PeerKeys } from './layout.js';

/** A data QP from one leader thread (a "user") to one follower, with the keys it was handed. */
export interface DataLink {
  readonly follower: number;
  readonly qp: QueuePair;
  readonly keys: PeerKeys;
  /** Set when the QP failed or the follower's links were torn down; never used again. */
  dead: boolean;
  /** Tells the link's owner (the leader's follower manager) that a work request failed. */
  readonly failed: (status: string) => void;
}

/**
 * Whoever waits for completions of its own work requests (one request coroutine, the Mu
 * replicator): the poller resolves `wake` when one of its completions arrives, the ticker every
 * `tickNs` (so deadlines, term changes and re-linked followers are noticed).
 */
export class Waiter {
  wake: Future<void> | null = null;
  /**
   * Set by the poller whenever one of this owner's completions is processed. The owner clears it
   * at the start of each pass over its Pending records; `waitFor` returns at once if it is set
   * (a completion arrived while the owner was busy posting: it must look again, not sleep).
   */
  dirty = false;
}

/** A posted signaled work request. */
export interface Pending {
  readonly link: DataLink;
  readonly owner: Waiter;
  readonly wrId: number;
  /** READ: its slot in the scratch ring (-1: not a READ). */
  readonly slot: number;
  done: boolean;
  ok: boolean;
  /** READ: the 8-byte word read. */
  value: number;
}

/**
 * READ results land in a registered scratch ring indexed by a per-channel READ counter. A slot is
 * reused only after SCRATCH_WORDS more READs were posted on this channel; a READ that completes
 * successfully does so within a few µs, during which a worker core posts a few dozen READs at most,
 * so the slot of a successful READ is never overwritten before its completion is processed.
 */
const SCRATCH_WORDS = 1024;

/**
 * The completion side of one leader thread (a worker core, the GC thread, Mu's replicator): its
 * own CQ (each worker thread has its own RDMA resources), a registered scratch buffer for READ
 * results, and the demultiplexing of completions to the coroutines waiting for them.
 *
 * Several coroutines share the channel (a worker core runs `pipelineDepth` request coroutines).
 * One **poller** coroutine per channel (on the channel's core) takes every completion and routes
 * it by wrId to its Pending record, waking that record's owner at once; a completion in error
 * fails its link. A **ticker** wakes every waiting owner each `tickNs`, and sleeps on a future
 * while nobody waits. So a completion wakes exactly the coroutine it belongs to, and no coroutine
 * ever consumes another's completion.
 */
export class Channel {
  readonly cq: CompletionQueue;
  private readonly scratch: Memory;
  private nextWrId = 1;
  private reads = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly byQp = new Map<number, DataLink>();
  private readonly waiting = new Set<Waiter>();
  private tickerIdle: Future<void> | null = null;

  constructor(
    private readonly p: Platform,
    name: string,
    /** The core of the threads using this channel (the poller runs there too); undefined = its own. */
    core: number | undefined,
    private readonly tickNs: number,
  ) {
    this.cq = p.fabric.createCq({ capacity: 4096, overrunIgnoring: true });
    this.scratch = p.memory.dram(`${name}.scratch`, SCRATCH_WORDS * 8);
    p.fabric.registerMemory(this.scratch, Access.LOCAL_WRITE);
    p.rt.spawn(`${name}.poller`, () => this.poller(), core === undefined ? undefined : { core });
    p.rt.spawn(`${name}.ticker`, () => this.ticker());
  }

  track(link: DataLink): void {
    this.byQp.set(link.qp.id, link);
  }

  untrack(link: DataLink): void {
    this.byQp.delete(link.qp.id);
  }

  *write(owner: Waiter, link: DataLink, src: Source, dst: RemoteAddr): Task<Pending> {
    const wrId = this.nextWrId++;
    const e: Pending = { link, owner, wrId, slot: -1, done: false, ok: false, value: 0 };
    this.pending.set(wrId, e);
    yield* link.qp.write(src, dst, { wrId });
    return e;
  }

  /** Fire-and-forget WRITE (the asynchronous remote apply): only an error produces a completion. */
  *writeUnsignaled(link: DataLink, src: Source, dst: RemoteAddr): Task<void> {
    yield* link.qp.write(src, dst, { wrId: 0, signaled: false });
  }

  /** READs one word of the follower's memory. */
  *readWord(owner: Waiter, link: DataLink, src: RemoteAddr): Task<Pending> {
    const wrId = this.nextWrId++;
    const slot = this.reads++ % SCRATCH_WORDS;
    const e: Pending = { link, owner, wrId, slot, done: false, ok: false, value: 0 };
    this.pending.set(wrId, e);
    yield* link.qp.read({ mem: this.scratch, offset: slot * 8, length: 8 }, src, { wrId });
    return e;
  }

  /**
   * Blocks `owner` until one of its completions arrives or the next tick. The caller clears
   * `owner.dirty` before it looks at its Pending records; a completion processed since then makes
   * this return at once, so none slips through unnoticed.
   */
  *waitFor(owner: Waiter): Task<void> {
    if (owner.dirty) return;
    const f = new Future<void>();
    owner.wake = f;
    this.waiting.add(owner);
    const idle = this.tickerIdle;
    if (idle !== null) {
      this.tickerIdle = null;
      idle.resolve();
    }
    yield* wait(f);
  }

  /** Wakes `owner` (or makes its next `waitFor` return at once): something it watches changed. */
  poke(owner: Waiter): void {
    owner.dirty = true;
    this.wakeOwner(owner);
  }

  private wakeOwner(o: Waiter): void {
    const f = o.wake;
    if (f === null) return;
    o.wake = null;
    this.waiting.delete(o);
    f.resolve();
  }

  private *poller(): Task<void> {
    for (;;) this.dispatch(yield* this.cq.next());
  }

  private dispatch(c: Completion | null): void {
    if (c === null) return;
    const e = c.wrId === 0 ? undefined : this.pending.get(c.wrId);
    if (e !== undefined) {
      this.pending.delete(c.wrId);
      e.done = true;
      e.ok = c.status === 'success';
      if (e.ok && e.slot >= 0) e.value = this.scratch.peek64(e.slot * 8);
      if (!e.ok) this.fail(e.link, c.status);
      e.owner.dirty = true;
      this.wakeOwner(e.owner);
      return;
    }
    if (c.status !== 'success') {
      const link = this.byQp.get(c.qpId);
      if (link !== undefined) this.fail(link, c.status);
    }
  }

  private *ticker(): Task<void> {
    const rt = this.p.rt;
    for (;;) {
      if (this.waiting.size === 0) {
        const f = new Future<void>();
        this.tickerIdle = f;
        yield* wait(f);
        continue;
      }
      yield* rt.sleep(this.tickNs);
      const ws = [...this.waiting];
      for (const o of ws) this.wakeOwner(o);
    }
  }

  private fail(link: DataLink, status: string): void {
    if (link.dead) return;
    link.dead = true;
    link.failed(status);
  }

  /** Drops bookkeeping of requests nobody waits for any more. */
  forget(es: Iterable<Pending>): void {
    for (const e of es) if (!e.done) this.pending.delete(e.wrId);
  }
}
