import type { CompletionQueue, Memory, Platform, QueuePair, Task } from '../../platform/index.js';
import type { RowanKvOptions } from '../rowan/kv/options.js';
import { PrimaryLog } from '../rowan/kv/plog.js';
import type { Replicator } from '../rowan/kv/replicator.js';
import type { ReplicationMode } from '../rowan/kv/server.js';
import type { ServerState } from '../rowan/kv/state.js';

/**
 * Baseline: RPC replication. A primary thread SENDs the frame to each backup; there a CPU thread
 * (one of `rpcThreads`, sharing one receive queue) takes the request from its completion queue,
 * spends `rpcComputeNs`, appends the frame to its own backup log in PM (a CPU-written, sequential
 * log) and persists it, and SENDs back an 8-byte reply carrying the wrId. The primary's completion
 * is that reply. Backup CPUs — their queueing and execution — are on the critical path.
 * Bench-only: no digest, so no failover.
 */
export const RPC_SERVICE = 'rk.rpc';
const SLOT = 2048;
const SLOTS = 256;
const REPLY_SLOTS = 16;

export function startRpcBackup(p: Platform, opts: RowanKvOptions): void {
  const bufs = p.memory.dram('rk.rpc.rx', SLOT * SLOTS);
  const cq = p.fabric.createCq({ capacity: SLOTS * 2 });
  const srq = p.fabric.createSrq({ capacity: SLOTS, cq });
  const sendCq = p.fabric.createCq({ capacity: 64, overrunIgnoring: true });
  const listener = p.fabric.listen(RPC_SERVICE, { cq: sendCq, srq });
  const qps = new Map<number, QueuePair>();
  const log = new PrimaryLog(p, 1 << 20, 8, opts.rpcThreads, 'rk.rpclog');
  p.rt.spawn('rk.rpc.accept', function* (): Task<void> {
    for (;;) {
      const qp = yield* listener.accept();
      if (qp !== null) qps.set(qp.id, qp);
    }
  });
  p.rt.spawn('rk.rpc.post', function* (): Task<void> {
    for (let i = 0; i < SLOTS; i++) yield* srq.postRecv({ mem: bufs, offset: i * SLOT, length: SLOT }, i);
  });
  for (let t = 0; t < opts.rpcThreads; t++) {
    p.rt.spawn(`rk.rpc${t}`, function* (): Task<void> {
      for (;;) {
        const c = yield* cq.next();
        if (c === null || c.status !== 'success') continue;
        const body = yield* bufs.read(c.wrId * SLOT, c.byteLen);
        yield* srq.postRecv({ mem: bufs, offset: c.wrId * SLOT, length: SLOT }, c.wrId);
        yield* p.rt.compute(opts.rpcComputeNs);
        const frame = body.subarray(8);
        if ((yield* log.append(t, frame.slice())) < 0) {
          // Bench-only log: recycle it when full (keeps running; the data is not read back).
          for (let seg = 0; seg < log.segCount; seg++) if (log.current[t] !== seg) yield* log.release(seg, 0);
        }
        const qp = qps.get(c.qpId);
        if (qp !== undefined) yield* qp.send(body.subarray(0, 8), { signaled: false });
      }
    });
  }
}

export class RpcReplicator implements Replicator {
  private readonly qps: (QueuePair | null)[];
  readonly cq: CompletionQueue;
  private readonly replies: Memory;

  constructor(
    private readonly p: Platform,
    servers: number,
    owner: number,
  ) {
    this.qps = new Array(servers).fill(null);
    this.cq = p.fabric.createCq({ capacity: 1024 });
    this.replies = p.memory.dram(`rk.rpc.replies.${owner}`, servers * REPLY_SLOTS * 64);
  }

  *warm(target: number): Task<void> {
    yield* this.link(target);
  }

  private *link(target: number): Task<QueuePair | null> {
    let qp = this.qps[target] ?? null;
    if (qp === null || qp.state !== 'ready') {
      const conn = yield* this.p.fabric.connect(target, RPC_SERVICE, { cq: this.cq, recvCapacity: REPLY_SLOTS }, 200_000);
      if (conn === null) return null;
      qp = conn.qp;
      this.qps[target] = qp;
      for (let i = 0; i < REPLY_SLOTS; i++) yield* qp.postRecv({ mem: this.replies, offset: (target * REPLY_SLOTS + i) * 64, length: 64 }, target * REPLY_SLOTS + i);
    }
    return qp;
  }

  *post(target: number, frame: Uint8Array, wrId: number): Task<boolean> {
    const qp = yield* this.link(target);
    if (qp === null) return false;
    const msg = new Uint8Array(8 + frame.length);
    new DataView(msg.buffer).setFloat64(0, wrId, true);
    msg.set(frame, 8);
    yield* qp.send(msg, { wrId, signaled: false });
    return true;
  }

  *next(timeoutNs: number): Task<{ wrId: number; ok: boolean } | null> {
    for (;;) {
      const c = yield* this.cq.next(timeoutNs);
      if (c === null) return null;
      if (c.status !== 'success') return { wrId: c.wrId, ok: false };
      if (c.opcode !== 'recv') continue;
      const b = this.replies.peek(c.wrId * 64, 8);
      const wrId = new DataView(b.buffer, b.byteOffset, b.byteLength).getFloat64(0, true);
      const target = Math.floor(c.wrId / REPLY_SLOTS);
      const qp = this.qps[target];
      if (qp !== null && qp !== undefined) yield* qp.postRecv({ mem: this.replies, offset: c.wrId * 64, length: 64 }, c.wrId);
      return { wrId, ok: true };
    }
  }
}

export function rpcMode(opts: RowanKvOptions, servers: number): ReplicationMode {
  return {
    replicator: (p, owner) => new RpcReplicator(p, servers, owner),
    *startBackup(st: ServerState) {
      startRpcBackup(st.p, opts);
      yield 0;
    },
  };
}
