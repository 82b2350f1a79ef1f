import { type ClusterInfo, Future, type Platform, type Task } from '../../../platform/index.js';
import type { BackupStore } from './backup.js';
import { type Config, replicaTargets } from './config.js';
import { encodeEntry } from './entry.js';
import type { Report } from './messages.js';
import type { RowanKvOptions } from './options.js';
import type { PrimaryLog } from './plog.js';
import type { Replicator } from './replicator.js';

/** Where a primary holds a key's current object: in its primary log. */
export interface Loc {
  off: number;
  len: number;
  ver: number;
  clientId: number;
  reqId: number;
}

/**
 * Everything one boot of a Rowan-KV server shares between its threads (all DRAM, rebuilt at boot:
 * the primary-log index from the recovery scan, the rest from the CM's next ping).
 */
export class ServerState {
  readonly me: number;
  config: Config;
  leaseUntil = 0;
  /** Per shard: key → object in the primary log (the serving index while primary). */
  readonly index: Map<string, Loc>[];
  /** Per shard: clientId → highest PUT reqId applied. */
  readonly dedup: Map<number, number>[];
  /** Per shard: the epoch of the tenure this server is serving it in (0 = not serving). */
  readonly tenure: Float64Array;
  readonly nextVer: Float64Array;
  /** Per shard: PUT tickets not finished (catch-up and handoff wait for the earlier ones). */
  readonly tickets: Set<number>[];
  readonly ticketSeq: Float64Array;
  /** Reports for the CM (released shards, caught-up joiners), sent with every ping reply. */
  reports: Report[] = [];
  /** Resolved (and replaced) whenever the configuration changes. */
  changed = new Future<void>();
  backup: BackupStore | null = null;
  role = 'recovering';
  commits = 0;

  constructor(
    readonly p: Platform,
    readonly cluster: ClusterInfo,
    readonly opts: RowanKvOptions,
    readonly plog: PrimaryLog,
    config: Config,
  ) {
    this.me = p.rt.nodeId;
    this.config = config;
    const n = opts.shards;
    this.index = Array.from({ length: n }, () => new Map<string, Loc>());
    this.dedup = Array.from({ length: n }, () => new Map<number, number>());
    this.tenure = new Float64Array(n);
    this.nextVer = new Float64Array(n);
    this.tickets = Array.from({ length: n }, () => new Set<number>());
    this.ticketSeq = new Float64Array(n);
  }

  leaseOk(): boolean {
    return this.opts.unsafe.skipEpochCheck || this.p.rt.now() < this.leaseUntil;
  }

  /** May this server answer requests for shard s right now? (the epoch check) */
  canServe(s: number): boolean {
    const x = this.config.shards[s]!;
    return this.tenure[s]! > 0 && x.primary === this.me && x.handoff < 0 && this.leaseOk();
  }

  isPrimary(s: number): boolean {
    return this.config.shards[s]!.primary === this.me;
  }

  adopt(c: Config): void {
    if (c.epoch <= this.config.epoch) return;
    this.config = c;
    this.p.rt.trace('rowankv.config', { epoch: c.epoch });
    // A shard this server no longer leads stops being served the moment the server knows it, not
    // when the activator thread next looks (it may be busy pushing a shard for a long while): the
    // backup-log cleaner drops frames of shards with an active tenure as stale, so a tenure left
    // behind would make it drop a newer primary's catch-up frames (rowankv-swarm seed 60 lost an acknowledged write that way).
    for (let s = 0; s < c.shards.length; s++) {
      if (c.shards[s]!.primary !== this.me && this.tenure[s]! > 0) {
        this.tenure[s] = 0;
        this.p.rt.trace('rowankv.deactivate', { shard: s, epoch: c.epoch });
      }
    }
    const f = this.changed;
    this.changed = new Future<void>();
    f.resolve();
  }

  /** Installs a committed object if it is newer than what the index holds. */
  install(s: number, key: string, loc: Loc): void {
    const m = this.index[s]!;
    const cur = m.get(key);
    if (cur === undefined || cur.ver < loc.ver) m.set(key, loc);
    const d = this.dedup[s]!;
    const prev = d.get(loc.clientId);
    if (prev === undefined || prev < loc.reqId) d.set(loc.clientId, loc.reqId);
  }

  takeTicket(s: number): number {
    const t = this.ticketSeq[s]!;
    this.ticketSeq[s] = t + 1;
    this.tickets[s]!.add(t);
    return t;
  }

  /** Waits until every PUT ticket of shard s below `upTo` has finished. */
  *drain(s: number, upTo: number): Task<void> {
    for (;;) {
      let older = false;
      for (const t of this.tickets[s]!) if (t < upTo) older = true;
      if (!older) return;
      yield* this.p.rt.sleep(2_000);
    }
  }

  /**
   * Writes `frame` to every replica target of shard s (its backups and a joining node) and waits
   * for their hardware ACKs. Targets the configuration drops meanwhile are no longer waited for;
   * a failed target is reconnected and the frame sent again. False if this server stops being the
   * shard's primary first. Every post is traced first (`rowankv.send`: which version goes to which
   * target under which wrId), so trace validation knows exactly which PUT each SEND carries.
   */
  *replicate(rep: Replicator, s: number, frame: Uint8Array, ver: number, wrIds: { next: number }): Task<boolean> {
    const targets = replicaTargets(this.config.shards[s]!);
    if (targets.length === 0) return true;
    const need = new Map<number, number>(); // target → wrId posted (-1 = not posted)
    const post = (t: number, id: number) => {
      this.p.rt.trace('rowankv.send', { shard: s, ver, to: t, wrId: id });
      return rep.post(t, frame, id);
    };
    for (const t of targets) {
      const id = wrIds.next++;
      need.set(t, (yield* post(t, id)) ? id : -1);
    }
    if (this.opts.unsafe.ackBeforeBackups) return true;
    let polls = 0;
    while (need.size > 0) {
      const c = yield* rep.next(10_000);
      if (c !== null) {
        for (const [t, id] of need) {
          if (id !== c.wrId) continue;
          if (c.ok) need.delete(t);
          else need.set(t, -1);
        }
      }
      if (c !== null && ++polls % 16 !== 0 && need.size > 0) continue;
      const x = this.config.shards[s]!;
      if (x.primary !== this.me) return false;
      const cur = replicaTargets(x);
      for (const [t, id] of need) {
        if (!cur.includes(t)) need.delete(t);
        else if (id === -1) {
          const nid = wrIds.next++;
          need.set(t, (yield* post(t, nid)) ? nid : -1);
          if (need.get(t) === -1) yield* this.p.rt.sleep(5_000);
        }
      }
    }
    return true;
  }

  /**
   * Sends every object of shard s's index to `targets` (activation: all backups; catch-up: the
   * joining node), `window` at a time. False on any failure or if primaryship is lost.
   */
  *push(rep: Replicator, s: number, targets: readonly number[], wrIds: { next: number }): Task<boolean> {
    if (targets.length === 0) return true;
    const locs: (Loc | Uint8Array)[] = [...this.index[s]!.values()];
    // Dedup records (key ''): the receivers learn which PUTs already took effect.
    for (const [clientId, reqId] of this.dedup[s]!) locs.push(encodeEntry({ shard: s, clientId, reqId, ver: 0, key: '', value: '' }));
    const window = 16;
    const inflight = new Set<number>();
    let i = 0;
    let failed = false;
    while ((i < locs.length || inflight.size > 0) && !failed) {
      while (i < locs.length && inflight.size < window) {
        const loc = locs[i++]!;
        const frame = loc instanceof Uint8Array ? loc : yield* this.plog.mem.read(loc.off, loc.len);
        for (const t of targets) {
          const id = wrIds.next++;
          if (!(yield* rep.post(t, frame, id))) return false;
          inflight.add(id);
        }
      }
      const c = yield* rep.next(300_000);
      if (c === null) return false;
      if (!inflight.has(c.wrId)) continue;
      inflight.delete(c.wrId);
      if (!c.ok) failed = true;
      if (!this.isPrimary(s)) return false;
    }
    return !failed;
  }
}
