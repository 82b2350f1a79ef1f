import type { Task } from '../../platform/index.js';
import { type Channel, type DataLink, type Pending, Waiter } from './channel.js';
import { META_TERM } from './layout.js';
import type { LeaderTerm } from './leader.js';

/**
 * The replication phase of a PUT (and of a GC copy): one RDMA WRITE of the object's bytes to the
 * same offset of every counted follower, over the calling thread's own QPs. Committed once
 * ⌊n/2⌋ followers ACKed (the leader holds it too). A follower whose link fails is re-sent the
 * object once it is linked again (a catch-up may or may not have copied it). Returns the ACK
 * count, or null when the term ended or the deadline passed (the client gets no reply).
 */
export function* replicate(lt: LeaderTerm, ch: Channel, user: number, off: number, length: number, deadlineNs: number): Task<number | null> {
  const r = lt.r;
  const rt = r.p.rt;
  const need = r.followerQuorum;
  const sent = new Map<number, Pending>();
  const me = new Waiter();
  try {
    for (;;) {
      me.dirty = false;
      if (!lt.live) return null;
      let acks = 0;
      for (const fs of lt.followers) {
        const link: DataLink | null = fs.counted ? fs.links[user]! : null;
        const e = sent.get(fs.node);
        if (e !== undefined && e.done && e.ok) {
          acks++;
          continue;
        }
        if (link === null || link.dead) continue;
        if (e === undefined || (e.done && !e.ok) || e.link !== link) {
          sent.set(fs.node, yield* ch.write(me, link, { mem: r.area, offset: off, length }, { rkey: link.keys.segments, offset: off }));
        }
      }
      if (acks >= need) return acks;
      if (deadlineNs - rt.now() <= 0) return null;
      yield* ch.waitFor(me);
    }
  } finally {
    ch.forget(sent.values());
  }
}

/**
 * The read check of a GET (docs/lolkv.md, "GET — the read check"): after the local read, READ
 * currentTerm from ⌊n/2⌋ counted followers. A follower that moved past our term revoked our keys
 * first, so its READ fails; one that shows a newer term makes us step down. True when a majority
 * (us included) still shows our term.
 */
export function* readCheck(lt: LeaderTerm, ch: Channel, user: number, deadlineNs: number): Task<boolean> {
  const r = lt.r;
  const rt = r.p.rt;
  const need = r.followerQuorum;
  const sent = new Map<number, Pending>();
  const me = new Waiter();
  try {
    for (;;) {
      me.dirty = false;
      if (!lt.live) return false;
      let ok = 0;
      for (const fs of lt.followers) {
        const e = sent.get(fs.node);
        if (e !== undefined && e.done && e.ok) {
          if (e.value > lt.term) {
            yield* r.adoptTerm(e.value, 'read-check');
            return false;
          }
          ok++;
          continue;
        }
        const link: DataLink | null = fs.counted ? fs.links[user]! : null;
        if (link === null || link.dead) continue;
        if (e === undefined || (e.done && !e.ok) || e.link !== link) sent.set(fs.node, yield* ch.readWord(me, link, { rkey: link.keys.meta, offset: META_TERM }));
      }
      if (ok >= need) return lt.live;
      if (deadlineNs - rt.now() <= 0) return false;
      yield* ch.waitFor(me);
    }
  } finally {
    ch.forget(sent.values());
  }
}
