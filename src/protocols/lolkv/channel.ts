import { Access, type CompletionQueue, type Memory, type Platform, type QueuePair, type RemoteAddr, type Source, type Task } from '../../platform/index.js';
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

/** A posted signaled work request. */
export interface Pending {
  readonly link: DataLink;
  done: boolean;
  ok: boolean;
  /** READ: the 8-byte word read. */
  value: number;
}

const SCRATCH_WORDS = 64;

/**
 * The completion side of one leader thread: its own CQ (each worker thread has its own RDMA
 * resources), a registered scratch buffer for READ results, and the demultiplexing of
 * completions to the requests waiting for them. A completion in error fails its link.
 */
export class Channel {
  readonly cq: CompletionQueue;
  private readonly scratch: Memory;
  private nextWrId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly byQp = new Map<number, DataLink>();

  constructor(p: Platform, name: string) {
    this.cq = p.fabric.createCq({ capacity: 4096, overrunIgnoring: true });
    this.scratch = p.memory.dram(`${name}.scratch`, SCRATCH_WORDS * 8);
    p.fabric.registerMemory(this.scratch, Access.LOCAL_WRITE);
  }

  track(link: DataLink): void {
    this.byQp.set(link.qp.id, link);
  }

  untrack(link: DataLink): void {
    this.byQp.delete(link.qp.id);
  }

  *write(link: DataLink, src: Source, dst: RemoteAddr): Task<Pending> {
    const wrId = this.nextWrId++;
    const e: Pending = { link, done: false, ok: false, value: 0 };
    this.pending.set(wrId, e);
    yield* link.qp.write(src, dst, { wrId });
    return e;
  }

  /** Fire-and-forget WRITE (the asynchronous remote apply): only an error produces a completion. */
  *writeUnsignaled(link: DataLink, src: Source, dst: RemoteAddr): Task<void> {
    yield* link.qp.write(src, dst, { wrId: 0, signaled: false });
  }

  /** READs one word of the follower's memory. */
  *readWord(link: DataLink, src: RemoteAddr): Task<Pending> {
    const wrId = this.nextWrId++;
    const e: Pending = { link, done: false, ok: false, value: 0 };
    this.pending.set(wrId, e);
    yield* link.qp.read({ mem: this.scratch, offset: (wrId % SCRATCH_WORDS) * 8, length: 8 }, src, { wrId });
    return e;
  }

  /** Waits up to `timeoutNs` for one completion and applies it. */
  *pump(timeoutNs: number): Task<void> {
    const c = yield* this.cq.next(Math.max(0, timeoutNs));
    if (c === null) return;
    const e = c.wrId === 0 ? undefined : this.pending.get(c.wrId);
    if (e !== undefined) {
      this.pending.delete(c.wrId);
      e.done = true;
      e.ok = c.status === 'success';
      if (e.ok && c.opcode === 'read') e.value = this.scratch.peek64((c.wrId % SCRATCH_WORDS) * 8);
      if (!e.ok) this.fail(e.link, c.status);
      return;
    }
    if (c.status !== 'success') {
      const link = this.byQp.get(c.qpId);
      if (link !== undefined) this.fail(link, c.status);
    }
  }

  private fail(link: DataLink, status: string): void {
    if (link.dead) return;
    link.dead = true;
    link.failed(status);
  }

  /** Drops bookkeeping of requests nobody waits for any more. */
  forget(es: Iterable<Pending>): void {
    const set = new Set(es);
    if (set.size === 0) return;
    for (const [id, e] of this.pending) if (set.has(e)) this.pending.delete(id);
  }
}
