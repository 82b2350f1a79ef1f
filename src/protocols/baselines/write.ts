import { Access, type CompletionQueue, type Memory, type Platform, type QueuePair, type Task } from '../../platform/index.js';
import { Reader, Writer } from '../../kv/codec.js';
import type { RowanKvOptions } from '../rowan/kv/options.js';
import type { Replicator } from '../rowan/kv/replicator.js';
import type { ReplicationMode } from '../rowan/kv/server.js';
import type { ServerState } from '../rowan/kv/state.js';

/**
 * Baseline: RDMA WRITE replication, FaRM-style. Every backup keeps one backup log per remote
 * thread (node × thread), so a server with S-1 peers of T threads each receives (S-1)·T small
 * sequential write streams. A primary thread appends a frame at its own tail in its log on the
 * backup with one RDMA WRITE, then a READ of the same address (remote persistence with DDIO off).
 * Bench-only: backups do not digest these logs, so this mode does not support failover.
 */
export const WRITE_SERVICE = 'rk.write';
export const WRITE_LOG_BYTES = 64 << 10;

export function logIndex(node: number, owner: number, owners: number): number {
  return node * owners + owner;
}

export function startWriteBackup(p: Platform, servers: number, owners: number, logBytes: number): Memory {
  const mem = p.memory.pm('rk.wlogs', servers * owners * logBytes);
  const key = p.fabric.registerMemory(mem, Access.REMOTE_WRITE | Access.REMOTE_READ);
  p.fabric.listen(WRITE_SERVICE, { cq: p.fabric.createCq({ capacity: 16, overrunIgnoring: true }), privateData: new Writer(8).u32(key.rkey).finish() });
  return mem;
}

interface Link {
  qp: QueuePair;
  rkey: number;
  tail: number;
}

export class WriteReplicator implements Replicator {
  private readonly links: (Link | null)[];
  readonly cq: CompletionQueue;
  private readonly scratch: Memory;

  constructor(
    private readonly p: Platform,
    servers: number,
    private readonly owner: number,
    private readonly owners: number,
    private readonly logBytes: number,
  ) {
    this.links = new Array(servers).fill(null);
    this.cq = p.fabric.createCq({ capacity: 1024 });
    this.scratch = p.memory.dram(`rk.wscratch.${owner}`, 8);
  }

  private *link(target: number): Task<Link | null> {
    const l = this.links[target] ?? null;
    if (l !== null && l.qp.state === 'ready') return l;
    const conn = yield* this.p.fabric.connect(target, WRITE_SERVICE, { cq: this.cq }, 200_000);
    if (conn === null) return null;
    const nl = { qp: conn.qp, rkey: new Reader(conn.privateData).u32(), tail: 0 };
    this.links[target] = nl;
    return nl;
  }

  *warm(target: number): Task<void> {
    yield* this.link(target);
  }

  *post(target: number, frame: Uint8Array, wrId: number): Task<boolean> {
    const l = yield* this.link(target);
    if (l === null) return false;
    const need = (frame.length + 7) & ~7;
    if (l.tail + need > this.logBytes) l.tail = 0;
    const base = logIndex(this.p.rt.nodeId, this.owner, this.owners) * this.logBytes;
    yield* l.qp.write(frame, { rkey: l.rkey, offset: base + l.tail }, { wrId, signaled: false });
    yield* l.qp.read({ mem: this.scratch, offset: 0, length: 8 }, { rkey: l.rkey, offset: base + l.tail }, { wrId });
    l.tail += need;
    return true;
  }

  *next(timeoutNs: number): Task<{ wrId: number; ok: boolean } | null> {
    const c = yield* this.cq.next(timeoutNs);
    if (c === null) return null;
    return { wrId: c.wrId, ok: c.status === 'success' };
  }
}

export function writeMode(opts: RowanKvOptions, servers: number): ReplicationMode {
  const owners = opts.workers + 2;
  return {
    replicator: (p, owner) => new WriteReplicator(p, servers, owner, owners, WRITE_LOG_BYTES),
    *startBackup(st: ServerState) {
      startWriteBackup(st.p, servers, owners, WRITE_LOG_BYTES);
      yield 0;
    },
  };
}
