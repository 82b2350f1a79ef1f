import { Future, type CompletionQueue, type QueuePair, type Task, allOf, firstOf, wait } from '../../platform/index.js';
import type { Channel, DataLink } from './channel.js';
import { type HashTable } from './hashtable.js';
import { HB_BYTES, type PeerKeys, decodePeerKeys } from './layout.js';
import type { LeaderRun, Replica } from './replica.js';
import type { Segments } from './segments.js';

/** Largest single catch-up WRITE (bytes). */
const CATCHUP_PIECE = 64 * 1024;

/** Timing and policy the leader machinery needs (from the protocol's options). */
export interface LeaderConfig {
  reconnectNs: number;
  connectTimeoutNs: number;
  skipStateSync: boolean;
  verify: boolean;
}

/** Protocol-specific parts of a leader term (LoLKV: per-thread links + GC; Mu: one shared sender). */
export interface LeaderHooks {
  /** One channel per data user (worker thread, GC thread, sender thread…). */
  readonly channels: readonly Channel[];
  readonly table: HashTable;
  newSegments(): Segments;
  /** State synchronization: returns false when a source failed (it is retried). */
  sync(lt: LeaderTerm, sources: FollowerState[]): Task<boolean>;
  /** The leader starts serving (spawn GC, senders…). */
  onServing(lt: LeaderTerm): void;
}

/** The leader's view of one follower. */
export class FollowerState {
  /** Connection generation: bumped at every (re)connect; stale threads notice and exit. */
  gen = 0;
  failure = new Future<void>();
  keys: PeerKeys | null = null;
  ctrl: QueuePair | null = null;
  hb: QueuePair | null = null;
  /** Handed keys of the leader's term: it accepts nothing from older leaders. */
  full = false;
  /** Caught up and linked: its ACKs count toward commits and read checks. */
  counted = false;
  readonly links: (DataLink | null)[];
  lastHbAckNs: number;

  constructor(
    readonly node: number,
    users: number,
    readonly ctrlCq: CompletionQueue,
    readonly hbCq: CompletionQueue,
    now: number,
  ) {
    this.links = new Array<DataLink | null>(users).fill(null);
    this.lastHbAckNs = now;
  }
}

/**
 * One term of leadership: a manager thread per follower (connect; check the term its keys were
 * registered at; heartbeat; after state sync, catch up the follower with bulk WRITEs of every
 * used segment and the hash table; then connect one data QP per leader thread and count the
 * follower), and a setup thread (state sync from a majority, then wait until a majority is
 * caught up, then serve). Any failure on a follower's QPs tears all of them down and the
 * manager starts over, so a recovered or reconnected follower always catches up first.
 */
export class LeaderTerm implements LeaderRun {
  active = true;
  readonly synced = new Future<void>();
  serving = false;
  readonly followers: FollowerState[] = [];
  segments: Segments;
  /** clientId → highest reqId of a committed PUT. */
  dedup = new Map<number, number>();
  /** PUTs being executed, as clientId · 2^32 + reqId: a duplicate of one in flight is dropped. */
  readonly inflight = new Set<number>();

  constructor(
    readonly r: Replica,
    readonly term: number,
    readonly cfg: LeaderConfig,
    readonly hooks: LeaderHooks,
  ) {
    this.segments = hooks.newSegments();
    const now = r.p.rt.now();
    for (const s of r.cluster.servers) {
      if (s === r.me) continue;
      const cq = () => r.p.fabric.createCq({ capacity: 256, overrunIgnoring: true });
      this.followers.push(new FollowerState(s, hooks.channels.length, cq(), cq(), now));
    }
  }

  get live(): boolean {
    return this.active && this.r.leading(this.term);
  }

  start(): this {
    const rt = this.r.p.rt;
    for (const fs of this.followers) rt.spawn(`leader${this.term}.f${fs.node}`, () => this.manage(fs));
    rt.spawn(`leader${this.term}.setup`, () => this.setup());
    return this;
  }

  stop(): void {
    this.active = false;
    this.serving = false;
    for (const fs of this.followers) fs.failure.resolve();
  }

  healthy(now: number): boolean {
    let acked = 0;
    for (const fs of this.followers) if (now - fs.lastHbAckNs < this.r.cfg.stepDownNs) acked++;
    return acked >= this.r.followerQuorum;
  }

  countedFollowers(): number {
    let n = 0;
    for (const fs of this.followers) if (fs.counted) n++;
    return n;
  }

  failFollower(fs: FollowerState, gen: number): void {
    if (fs.gen === gen) fs.failure.resolve();
  }

  private *setup(): Task<void> {
    const r = this.r;
    const rt = r.p.rt;
    const poll = Math.max(500, Math.floor(r.cfg.heartbeatNs / 4));
    for (;;) {
      if (!this.live) return;
      let sources: FollowerState[] = [];
      if (!this.cfg.skipStateSync) {
        // Every follower already fenced for this term (at least a quorum): more sources only add information.
        sources = this.followers.filter((fs) => fs.full && fs.ctrl !== null && !fs.failure.done);
        if (sources.length < r.followerQuorum) {
          yield* rt.sleep(poll);
          continue;
        }
      }
      if (yield* this.hooks.sync(this, sources)) break;
    }
    if (!this.live) return;
    this.synced.resolve();
    while (this.live && this.countedFollowers() < r.followerQuorum) yield* rt.sleep(poll);
    if (!this.live) return;
    this.serving = true;
    this.hooks.onServing(this);
  }

  private *manage(fs: FollowerState): Task<void> {
    const r = this.r;
    const p = r.p;
    while (this.live) {
      fs.gen++;
      fs.failure = new Future<void>();
      const gen = fs.gen;
      const conn = yield* p.fabric.connect(fs.node, r.cfg.service, { cq: fs.ctrlCq, recvCapacity: 1 }, this.cfg.connectTimeoutNs);
      const keys = conn === null ? null : decodePeerKeys(conn.privateData);
      if (conn === null || keys === null || !this.live) {
        conn?.qp.close();
        if (this.live) yield* p.rt.sleep(this.cfg.reconnectNs);
        continue;
      }
      if (r.cfg.fencing && keys.term > this.term) {
        conn.qp.close();
        yield* r.adoptTerm(keys.term, 'higher-term');
        return;
      }
      const hbConn = yield* p.fabric.connect(fs.node, r.cfg.service, { cq: fs.hbCq, recvCapacity: 1 }, this.cfg.connectTimeoutNs);
      const hbKeys = hbConn === null ? null : decodePeerKeys(hbConn.privateData);
      if (hbConn === null || hbKeys === null || hbKeys.heartbeat !== keys.heartbeat || !this.live) {
        conn.qp.close();
        hbConn?.qp.close();
        if (this.live) yield* p.rt.sleep(this.cfg.reconnectNs);
        continue;
      }
      fs.keys = keys;
      fs.ctrl = conn.qp;
      fs.hb = hbConn.qp;
      p.rt.spawn(`leader${this.term}.f${fs.node}.hb${gen}`, () => this.heartbeat(fs, gen, hbConn.qp, keys));
      if (!r.cfg.fencing || keys.term === this.term) {
        fs.full = true;
        yield* wait(firstOf([this.synced, fs.failure]));
        if (this.live && !fs.failure.done && (yield* this.catchUp(fs, conn.qp, keys)) && (yield* this.connectLinks(fs, gen, keys))) {
          if (this.live && !fs.failure.done) {
            fs.counted = true;
            r.trace('catchup', { node: fs.node });
          }
        }
      }
      // Keys of an older term: heartbeats teach the follower our term; it re-registers and our QPs fail.
      yield* wait(fs.failure);
      this.teardown(fs);
      if (this.live) yield* p.rt.sleep(1000);
    }
    this.teardown(fs);
  }

  private teardown(fs: FollowerState): void {
    fs.counted = false;
    fs.full = false;
    for (let u = 0; u < fs.links.length; u++) {
      const l = fs.links[u];
      if (l === null || l === undefined) continue;
      l.dead = true;
      this.hooks.channels[u]!.untrack(l);
      l.qp.close();
      fs.links[u] = null;
    }
    fs.ctrl?.close();
    fs.hb?.close();
    fs.ctrl = null;
    fs.hb = null;
    fs.keys = null;
  }

  private *heartbeat(fs: FollowerState, gen: number, qp: QueuePair, keys: PeerKeys): Task<void> {
    const r = this.r;
    const rt = r.p.rt;
    const buf = new Uint8Array(HB_BYTES);
    const dv = new DataView(buf.buffer);
    let counter = 0;
    let inflight = false;
    while (this.live && fs.gen === gen && !fs.failure.done) {
      const next = rt.now() + r.cfg.heartbeatNs;
      if (!inflight) {
        counter++;
        dv.setUint32(0, this.term >>> 0, true);
        dv.setUint32(4, Math.floor(this.term / 4294967296), true);
        dv.setUint32(8, r.me + 1, true);
        dv.setUint32(16, counter, true);
        yield* qp.write(buf, { rkey: keys.heartbeat, offset: 0 }, { wrId: counter });
        inflight = true;
      }
      while (rt.now() < next && fs.gen === gen && !fs.failure.done) {
        const c = yield* fs.hbCq.next(next - rt.now());
        if (c === null || c.qpId !== qp.id) continue;
        if (c.status !== 'success') {
          this.failFollower(fs, gen);
          return;
        }
        inflight = false;
        fs.lastHbAckNs = rt.now();
      }
    }
  }

  /**
   * Bulk WRITEs of every used segment (coalesced runs) and of the hash table, over the control QP,
   * in pieces of at most CATCHUP_PIECE bytes with at most two in flight: a NIC's transmit port is
   * FIFO, so one multi-megabyte WRITE would hold back this leader's heartbeats for milliseconds and
   * make the followers elect a new leader (seen with the 1M-key store).
   */
  private *catchUp(fs: FollowerState, qp: QueuePair, keys: PeerKeys): Task<boolean> {
    const r = this.r;
    const segB = r.cfg.segmentBytes;
    const pieces: { mem: typeof r.area; off: number; len: number; rkey: number }[] = [];
    const add = (mem: typeof r.area, rkey: number, start: number, end: number) => {
      for (let o = start; o < end; o += CATCHUP_PIECE) pieces.push({ mem, off: o, len: Math.min(CATCHUP_PIECE, end - o), rkey });
    };
    const used = this.segments.used();
    for (let i = 0; i < used.length; ) {
      const start = used[i]![0] * segB;
      let end = start + used[i]![1];
      let j = i + 1;
      while (j < used.length && used[j]![0] === used[j - 1]![0] + 1) {
        end = used[j]![0] * segB + used[j]![1];
        j++;
      }
      add(r.area, keys.segments, start, end);
      i = j;
    }
    add(r.table, keys.table, 0, r.table.sizeBytes);
    let acked = 0;
    for (let k = 0; k < pieces.length || acked < pieces.length; ) {
      if (fs.failure.done || !this.live) return false;
      if (k < pieces.length && k - acked < 2) {
        const x = pieces[k]!;
        yield* qp.write({ mem: x.mem, offset: x.off, length: x.len }, { rkey: x.rkey, offset: x.off }, { wrId: ++k });
        continue;
      }
      const c = yield* fs.ctrlCq.next(r.cfg.heartbeatNs);
      if (c === null || c.qpId !== qp.id) continue;
      if (c.status !== 'success') {
        fs.failure.resolve();
        return false;
      }
      acked++;
    }
    return true;
  }

  /** One data QP per leader thread (in parallel), all handed the same keys. */
  private *connectLinks(fs: FollowerState, gen: number, keys: PeerKeys): Task<boolean> {
    const r = this.r;
    const p = r.p;
    const users = this.hooks.channels.length;
    const connectTimeout = this.cfg.connectTimeoutNs;
    const qps: (QueuePair | null)[] = new Array<QueuePair | null>(users).fill(null);
    let ok = true;
    const threads = this.hooks.channels.map((ch, u) =>
      p.rt.spawn(`leader${this.term}.f${fs.node}.link${u}`, function* (): Task<void> {
        const c = yield* p.fabric.connect(fs.node, r.cfg.service, { cq: ch.cq, recvCapacity: 1 }, connectTimeout);
        if (c === null) {
          ok = false;
          return;
        }
        qps[u] = c.qp;
        const k = decodePeerKeys(c.privateData);
        if (k === null || k.segments !== keys.segments || k.table !== keys.table || k.meta !== keys.meta) ok = false;
      }),
    );
    yield* wait(allOf(threads.map((t) => t.finished)));
    if (!ok || fs.gen !== gen || fs.failure.done || !this.live) {
      for (const q of qps) q?.close();
      return false;
    }
    for (let u = 0; u < users; u++) {
      const link: DataLink = { follower: fs.node, qp: qps[u]!, keys, dead: false, failed: () => this.failFollower(fs, gen) };
      fs.links[u] = link;
      this.hooks.channels[u]!.track(link);
    }
    return true;
  }
}
