import { type Task, firstOf, wait } from '../../../platform/index.js';
import { isMember, replicaTargets } from './config.js';
import { decodeEntry } from './entry.js';
import { validFrame } from '../frame.js';
import { REPORT_CAUGHT_UP, REPORT_RELEASED } from './messages.js';
import { TAG_EPOCH } from './options.js';
import type { Replicator } from './replicator.js';
import type { ServerState } from './state.js';

/**
 * The reconfiguration thread of a server: whenever the configuration changes (and every
 * `pingNs` anyway) it brings the server's roles in line with it.
 *
 *  - Promotion / takeover (FaRM-style): a shard this server is now primary of is *activated*:
 *    digest everything landed in the backup log, merge the backup index into the primary index
 *    (newest version wins), re-append the objects that came from the backup log to the local
 *    primary log (so a primary's logs always hold every object it serves), send the whole shard to
 *    every backup (so the backups hold everything the new primary may serve), rebuild the dedup
 *    table, and only then serve, with versions in the new tenure's epoch.
 *  - Handoff (resharding): a shard whose `handoff` is set stops taking requests; once every PUT in
 *    flight on it has finished, the server reports RELEASED and the CM moves the primary.
 *  - Catch-up: a shard with a `joining` node gets the whole shard sent to it (after the PUTs that
 *    began before the node was added have finished); then CAUGHT_UP is reported.
 *  - A shard this server no longer holds is dropped from the primary index (its objects become
 *    garbage for the cleaner).
 */
export function* runActivator(st: ServerState, rep: Replicator, owner: number): Task<void> {
  const p = st.p;
  const wrIds = { next: 1 };
  const caughtUp = new Map<number, string>();
  for (;;) {
    const c = st.config;
    for (let s = 0; s < c.shards.length; s++) {
      const x = c.shards[s]!;
      // (Tenures of shards this server no longer leads end when it adopts the configuration: ServerState.adopt.)
      // Objects of a shard this server no longer holds become garbage in its primary logs. (Its
      // backup index is kept: a catch-up may already be landing frames before this server learns
      // it is joining, and stale entries never win over newer versions.)
      if (!isMember(x, st.me) && x.joining !== st.me && st.index[s]!.size > 0) st.index[s]!.clear();
    }
    for (let s = 0; s < c.shards.length; s++) {
      if (st.config !== c) break;
      const x = c.shards[s]!;
      if (x.primary !== st.me) continue;
      if (st.tenure[s] === 0) {
        yield* activate(s);
        continue;
      }
      if (x.handoff >= 0) {
        yield* st.drain(s, st.ticketSeq[s]!);
        if (st.config === c) addReport({ kind: REPORT_RELEASED, shard: s, node: x.handoff, epoch: c.epoch });
        continue;
      }
      if (x.joining >= 0 && x.joinReady) {
        const key = `${x.joining}@${c.epoch}`;
        if (caughtUp.get(s) === key) continue;
        yield* st.drain(s, st.ticketSeq[s]!);
        if (st.config.shards[s]!.joining !== x.joining) continue;
        p.rt.trace('rowankv.catchup-start', { shard: s, node: x.joining, objects: st.index[s]!.size });
        if (yield* st.push(rep, s, [x.joining], wrIds)) {
          caughtUp.set(s, key);
          addReport({ kind: REPORT_CAUGHT_UP, shard: s, node: x.joining, epoch: c.epoch });
          p.rt.trace('rowankv.catchup-done', { shard: s, node: x.joining });
        }
      }
    }
    st.reports = st.reports.filter((r) => stillPending(r));
    st.role = roleOf();
    if (st.config === c) yield* wait(firstOf([st.changed, p.rt.timer(st.opts.pingNs)]));
  }

  function addReport(r: { kind: number; shard: number; node: number; epoch: number }): void {
    if (!st.reports.some((q) => q.kind === r.kind && q.shard === r.shard && q.node === r.node && q.epoch === r.epoch)) st.reports.push(r);
  }

  function stillPending(r: { kind: number; shard: number; node: number }): boolean {
    const x = st.config.shards[r.shard]!;
    return r.kind === REPORT_RELEASED ? x.handoff === r.node && x.primary === st.me : x.joining === r.node && x.primary === st.me;
  }

  function roleOf(): string {
    for (let s = 0; s < st.config.shards.length; s++) if (st.tenure[s]! > 0) return 'primary';
    return 'backup';
  }

  function* activate(s: number): Task<void> {
    const epoch = st.config.epoch;
    p.rt.trace('rowankv.activate-start', { shard: s, epoch });
    while (!st.leaseOk()) {
      yield* p.rt.sleep(5_000);
      if (st.config.epoch !== epoch) return;
    }
    const b = st.backup;
    let fetched = 0;
    if (b !== null) {
      yield* b.digest();
      for (const [clientId, reqId] of b.dedup[s]!) {
        const prev = st.dedup[s]!.get(clientId);
        if (prev === undefined || prev < reqId) st.dedup[s]!.set(clientId, reqId);
      }
      for (const [key, bl] of b.index[s]!) {
        const cur = st.index[s]!.get(key);
        if (cur !== undefined && cur.ver >= bl.ver) continue;
        const bytes = yield* b.read(bl);
        // The backup-log cleaner may have moved the object into the primary index (and the
        // buffer been reused) while this read waited: then the frame here is not it.
        if (validFrame(bytes, 0, bytes.length, b.rx.tag) !== bl.len) continue;
        const e = decodeEntry(bytes, 0, bl.len);
        if (e.key !== key || e.ver !== bl.ver) continue;
        const off = yield* st.plog.append(owner, bytes);
        if (off < 0) return; // log full: try again later
        st.install(s, key, { off, len: bl.len, ver: e.ver, clientId: e.clientId, reqId: e.reqId });
        fetched++;
      }
    }
    let maxVer = 0;
    for (const loc of st.index[s]!.values()) {
      if (loc.ver > maxVer) maxVer = loc.ver;
      const d = st.dedup[s]!;
      const prev = d.get(loc.clientId);
      if (prev === undefined || prev < loc.reqId) d.set(loc.clientId, loc.reqId);
    }
    const targets = replicaTargets(st.config.shards[s]!);
    if (!(yield* st.push(rep, s, targets, wrIds))) return;
    if (st.config.epoch !== epoch || !st.isPrimary(s)) return;
    st.nextVer[s] = Math.max(maxVer + 1, epoch * TAG_EPOCH);
    st.tenure[s] = epoch;
    p.rt.trace('rowankv.activate', { shard: s, epoch, objects: st.index[s]!.size, fetched });
  }
}
