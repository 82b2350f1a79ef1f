import { Future, type Task, wait } from '../../../platform/index.js';
import { type Channel, type DataLink, type Pending, Waiter } from '../../lolkv/channel.js';
import type { CpuCosts } from '../../lolkv/cpu.js';
import type { HashTable } from '../../lolkv/hashtable.js';
import { keyHash, ptrOf } from '../../lolkv/layout.js';
import type { LeaderTerm } from '../../lolkv/leader.js';

/** What the apply thread hands back to the worker that submitted a command. */
export interface Applied {
  /** GET: the value read (null: absent). PUT: null. */
  value: string | null;
}

/** A command in the log, from submission until the apply thread (or an abandonment) resolves it. */
interface Entry {
  idx: number;
  off: number;
  length: number;
  deadlineNs: number;
  read: boolean;
  key: string;
  value: string;
  clientId: number;
  reqId: number;
  sent: Map<number, Pending>;
  done: Future<Applied | null>;
}

/**
 * Mu's leader data path for one term (docs/lolkv.md, "Baseline: log-based replication (Mu)"): the
 * state-machine-replication pipeline behind the shared log tail.
 *
 *  - **Replicator thread** (a core of its own): owns the one QP per follower and their shared CQ
 *    (the channel's poller runs on its core). It posts one RDMA WRITE per follower for every
 *    command workers submit, re-sends to followers that were re-linked, and **commits in log
 *    order**: log index i commits once ⌊n/2⌋ followers ACKed it and every index before it has
 *    committed (or was abandoned at its deadline — that command's client gets no reply and
 *    retries).
 *  - **Apply thread** (a core of its own): executes committed commands **one at a time in log
 *    order** against the leader's table — a PUT is applied (its value copied into the store), a GET
 *    (with `reads: 'log'`) reads — and only then hands the outcome back to the worker coroutine,
 *    which replies. This single thread is the state machine of SMR; its CPU work bounds the
 *    leader's write (and, with log reads, read) rate.
 */
export class MuLog {
  private readonly entries = new Map<number, Entry>();
  private fresh: Entry[] = [];
  private commitNext: number;
  private applyQueue: Entry[] = [];
  private applyHead = 0;
  private applyWake: Future<void> | null = null;
  private repIdle: Future<void> | null = null;
  private readonly me = new Waiter();
  private closed = false;
  private lastScanNs = 0;

  constructor(
    private readonly lt: LeaderTerm,
    private readonly ch: Channel,
    private readonly table: HashTable,
    private readonly cpu: CpuCosts,
    /** The first log index of this term (the log continues after what state sync found). */
    firstIdx: number,
  ) {
    this.commitNext = firstIdx;
  }

  /**
   * Submits the command at log index `idx` (already written and persisted at `off` in the
   * leader's log) and waits until the apply thread executed it; null when it was abandoned
   * (deadline, term over): no reply, the client retries.
   */
  *submit(idx: number, off: number, length: number, deadlineNs: number, read: boolean, key: string, value: string, clientId: number, reqId: number): Task<Applied | null> {
    if (this.closed || !this.lt.live) return null;
    const e: Entry = { idx, off, length, deadlineNs, read, key, value, clientId, reqId, sent: new Map(), done: new Future() };
    this.fresh.push(e);
    const idle = this.repIdle;
    if (idle !== null) {
      this.repIdle = null;
      idle.resolve();
    } else this.ch.poke(this.me);
    return yield* wait(e.done);
  }

  /** Posts the entry to every counted follower that has not ACKed it (again, after a link change). */
  private *post(e: Entry): Task<void> {
    const r = this.lt.r;
    for (const fs of this.lt.followers) {
      const link: DataLink | null = fs.counted ? fs.links[0]! : null;
      const p = e.sent.get(fs.node);
      if (p !== undefined && p.done && p.ok) continue;
      if (link === null || link.dead) continue;
      if (p === undefined || (p.done && !p.ok) || p.link !== link) {
        e.sent.set(fs.node, yield* this.ch.write(this.me, link, { mem: r.area, offset: e.off, length: e.length }, { rkey: link.keys.segments, offset: e.off }));
      }
    }
  }

  private acks(e: Entry): number {
    let n = 0;
    for (const p of e.sent.values()) if (p.done && p.ok) n++;
    return n;
  }

  /** The replicator thread. */
  *replicator(): Task<void> {
    const lt = this.lt;
    const r = lt.r;
    const rt = r.p.rt;
    const need = r.followerQuorum;
    while (lt.live) {
      this.me.dirty = false;
      if (this.fresh.length > 0) {
        const batch = this.fresh;
        this.fresh = [];
        for (const e of batch) {
          this.entries.set(e.idx, e);
          yield* this.post(e);
        }
      }
      const now = rt.now();
      if (now - this.lastScanNs >= r.cfg.heartbeatNs) {
        // Followers linked again since: re-send what they lack.
        this.lastScanNs = now;
        for (const e of this.entries.values()) yield* this.post(e);
      }
      // Commit in log order.
      for (;;) {
        const e = this.entries.get(this.commitNext);
        if (e === undefined) break;
        const acks = this.acks(e);
        if (acks >= need) {
          this.entries.delete(e.idx);
          this.ch.forget(e.sent.values());
          this.commitNext++;
          r.trace('commit', { key: e.key, term: lt.term, inc: e.idx + 1, seg: e.idx, off: e.off, acks });
          this.applyQueue.push(e);
          const w = this.applyWake;
          if (w !== null) {
            this.applyWake = null;
            w.resolve();
          }
          continue;
        }
        if (rt.now() >= e.deadlineNs) {
          this.entries.delete(e.idx);
          this.ch.forget(e.sent.values());
          this.commitNext++;
          e.done.resolve(null);
          continue;
        }
        break;
      }
      if (!lt.live) break;
      if (this.entries.size === 0 && this.fresh.length === 0) {
        const f = new Future<void>();
        this.repIdle = f;
        yield* wait(f);
      } else yield* this.ch.waitFor(this.me);
    }
    this.close();
  }

  private close(): void {
    this.closed = true;
    for (const e of this.fresh) e.done.resolve(null);
    for (const e of this.entries.values()) e.done.resolve(null);
    this.fresh = [];
    this.entries.clear();
    const w = this.applyWake;
    if (w !== null) {
      this.applyWake = null;
      w.resolve();
    }
  }

  /** The leader's apply thread: the state machine, one command at a time, in log order. */
  *applier(): Task<void> {
    const lt = this.lt;
    const r = lt.r;
    const rt = r.p.rt;
    const cpu = this.cpu;
    for (;;) {
      if (this.applyHead >= this.applyQueue.length) {
        this.applyQueue = [];
        this.applyHead = 0;
        if (this.closed || !lt.live) return;
        const f = new Future<void>();
        this.applyWake = f;
        yield* wait(f);
        continue;
      }
      const e = this.applyQueue[this.applyHead]!;
      this.applyQueue[this.applyHead++] = undefined as unknown as Entry;
      if (!lt.live) {
        e.done.resolve(null);
        continue;
      }
      const hash = keyHash(e.key);
      const term = lt.term;
      const inc = e.idx + 1;
      if (e.read) {
        // Parse the command, probe the table, read and verify the object found.
        const found = yield* this.table.lookup(e.key, hash, true);
        yield* rt.compute(cpu.decode(e.length) + cpu.hash + cpu.table + (found.obj === null ? 0 : cpu.decode(found.obj.size)));
        r.trace('get', { key: e.key, term, inc: found.obj === null ? null : found.obj.inc });
        e.done.resolve({ value: found.obj === null ? null : found.obj.value });
        continue;
      }
      // Parse the command, apply it to the table and copy its value into the store (Mu's log is a
      // ring that gets recycled, so the store keeps its own copy: the seed's "unnecessary data
      // copying"; kvlab's table points into the log, which it never recycles, so only the cost is charged).
      yield* rt.compute(cpu.decode(e.length) + cpu.hash + cpu.table + cpu.copy(e.length));
      const res = yield* this.table.apply(e.key, hash, ptrOf(e.off), { term, inc }, true);
      r.trace('apply', { key: e.key, term, inc, replaced: res.kind === 'replaced', applied: res.kind !== 'refused' });
      const prev = lt.dedup.get(e.clientId);
      if (prev === undefined || prev < e.reqId) lt.dedup.set(e.clientId, e.reqId);
      e.done.resolve({ value: null });
    }
  }
}
