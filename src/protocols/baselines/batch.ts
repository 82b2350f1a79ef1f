import { type CompletionQueue, Future, type Memory, type Platform, type QueuePair, type Task, firstOf, wait } from '../../platform/index.js';
import { Reader } from '../../kv/codec.js';
import type { RowanKvOptions } from '../rowan/kv/options.js';
import type { Replicator } from '../rowan/kv/replicator.js';
import type { ReplicationMode } from '../rowan/kv/server.js';
import type { ServerState } from '../rowan/kv/state.js';
import { Channel } from './channel.js';
import { WRITE_LOG_BYTES, WRITE_SERVICE, startWriteBackup } from './write.js';

/**
 * Baseline: batched RDMA WRITE. On each primary, one batcher per backup collects the frames every
 * worker thread wants to replicate there and ships them with ONE RDMA WRITE (+ flush READ) into a
 * backup log dedicated to this node, when the batch reaches `batchBytes` or `batchTimeoutNs` after
 * its first frame (the seed: 256 B or 5 µs). Fewer, larger writes — at the price of waiting.
 * Bench-only, like the RDMA WRITE baseline.
 */
interface Pending {
  frame: Uint8Array;
  done: (ok: boolean) => void;
}

class Batcher {
  private batch: Pending[] = [];
  private bytes = 0;
  private firstAt = 0;
  private wake: Future<void> | null = null;
  private qp: QueuePair | null = null;
  private rkey = 0;
  private tail = 0;
  private readonly cq: CompletionQueue;
  private readonly scratch: Memory;

  constructor(
    private readonly p: Platform,
    private readonly target: number,
    private readonly opts: RowanKvOptions,
    private readonly base: number,
  ) {
    this.cq = p.fabric.createCq({ capacity: 64 });
    this.scratch = p.memory.dram(`rk.bscratch.${target}`, 8);
    p.rt.spawn(`rk.batcher${target}`, () => this.run());
  }

  add(x: Pending): void {
    if (this.batch.length === 0) this.firstAt = this.p.rt.now();
    this.batch.push(x);
    this.bytes += (x.frame.length + 7) & ~7;
    const w = this.wake;
    this.wake = null;
    w?.resolve();
  }

  private *run(): Task<void> {
    const p = this.p;
    for (;;) {
      if (this.batch.length === 0) {
        this.wake = new Future<void>();
        yield* wait(this.wake);
        continue;
      }
      const due = this.firstAt + this.opts.batchTimeoutNs;
      if (this.bytes < this.opts.batchBytes && p.rt.now() < due) {
        this.wake = new Future<void>();
        yield* wait(firstOf([this.wake, p.rt.timer(due - p.rt.now())]));
        continue;
      }
      const batch = this.batch;
      const bytes = this.bytes;
      this.batch = [];
      this.bytes = 0;
      const buf = new Uint8Array(bytes);
      let at = 0;
      for (const x of batch) {
        buf.set(x.frame, at);
        at += (x.frame.length + 7) & ~7;
      }
      const ok = yield* this.ship(buf);
      for (const x of batch) x.done(ok);
    }
  }

  private *ship(buf: Uint8Array): Task<boolean> {
    if (this.qp === null || this.qp.state !== 'ready') {
      const conn = yield* this.p.fabric.connect(this.target, WRITE_SERVICE, { cq: this.cq }, 200_000);
      if (conn === null) return false;
      this.qp = conn.qp;
      this.rkey = new Reader(conn.privateData).u32();
    }
    if (this.tail + buf.length > WRITE_LOG_BYTES) this.tail = 0;
    const off = this.base + this.tail;
    this.tail += buf.length;
    yield* this.qp.write(buf, { rkey: this.rkey, offset: off }, { wrId: 1, signaled: false });
    yield* this.qp.read({ mem: this.scratch, offset: 0, length: 8 }, { rkey: this.rkey, offset: off }, { wrId: 2 });
    for (;;) {
      const c = yield* this.cq.next(1_000_000);
      if (c === null) return false;
      if (c.status !== 'success') return false;
      if (c.wrId === 2) return true;
    }
  }
}

/** One batcher per backup, shared by the node's threads. */
class BatchHub {
  private readonly batchers: (Batcher | null)[];
  constructor(
    private readonly p: Platform,
    private readonly opts: RowanKvOptions,
    servers: number,
    private readonly owners: number,
  ) {
    this.batchers = new Array(servers).fill(null);
  }

  of(target: number): Batcher {
    let b = this.batchers[target];
    if (b === null || b === undefined) {
      // The log this node's batcher owns on the target: its first per-thread log slot.
      b = new Batcher(this.p, target, this.opts, this.p.rt.nodeId * this.owners * WRITE_LOG_BYTES);
      this.batchers[target] = b;
    }
    return b;
  }
}

class BatchReplicator implements Replicator {
  private readonly done = new Channel<{ wrId: number; ok: boolean }>();
  constructor(
    private readonly p: Platform,
    private readonly hub: BatchHub,
  ) {}

  *warm(target: number): Task<void> {
    yield 0;
    this.hub.of(target);
  }

  *post(target: number, frame: Uint8Array, wrId: number): Task<boolean> {
    yield 0;
    this.hub.of(target).add({ frame: frame.slice(), done: (ok) => this.done.push({ wrId, ok }) });
    return true;
  }

  *next(timeoutNs: number): Task<{ wrId: number; ok: boolean } | null> {
    return yield* this.done.take(this.p.rt, timeoutNs);
  }
}

export function batchMode(opts: RowanKvOptions, servers: number): ReplicationMode {
  const owners = opts.workers + 2;
  let hub: BatchHub | null = null;
  return {
    replicator: (p) => {
      if (hub === null) hub = new BatchHub(p, opts, servers, owners);
      return new BatchReplicator(p, hub);
    },
    *startBackup(st: ServerState) {
      hub = new BatchHub(st.p, opts, servers, owners);
      startWriteBackup(st.p, servers, owners, WRITE_LOG_BYTES);
      yield 0;
    },
  };
}
