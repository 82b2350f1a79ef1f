import { Future, type Task, firstOf, wait } from '../../../platform/index.js';
import type { Channel, DataLink, Pending } from '../../lolkv/channel.js';
import type { LeaderTerm } from '../../lolkv/leader.js';

interface Entry {
  off: number;
  length: number;
  deadlineNs: number;
  sent: Map<number, Pending>;
  done: Future<number | null>;
}

/**
 * Mu's serialization point on the leader: one QP per follower and one completion queue, shared by
 * every worker thread (after the shared log tail, docs/lolkv.md "Baseline"). A worker posts one
 * RDMA WRITE of its entry per follower on the shared QPs; one poller thread owns the shared CQ and
 * resolves an entry once ⌊n/2⌋ followers ACKed it. A follower whose link fails is re-sent its
 * missing entries once it is linked again.
 */
export class Replicator {
  private readonly queue: Entry[] = [];
  private wake = new Future<void>();
  private closed = false;

  constructor(
    private readonly lt: LeaderTerm,
    private readonly ch: Channel,
  ) {}

  /** Replicates [off, off+length) of the log; resolves with the ACK count, or null (deadline / term over). */
  *replicate(off: number, length: number, deadlineNs: number): Task<number | null> {
    if (this.closed || !this.lt.live) return null;
    const e: Entry = { off, length, deadlineNs, sent: new Map(), done: new Future() };
    yield* this.post(e);
    this.queue.push(e);
    this.wake.resolve();
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
        e.sent.set(fs.node, yield* this.ch.write(link, { mem: r.area, offset: e.off, length: e.length }, { rkey: link.keys.segments, offset: e.off }));
      }
    }
  }

  *run(): Task<void> {
    const lt = this.lt;
    const r = lt.r;
    const rt = r.p.rt;
    const need = r.followerQuorum;
    while (lt.live) {
      if (this.queue.length === 0) {
        this.wake = new Future();
        yield* wait(firstOf([this.wake, rt.timer(r.cfg.heartbeatNs * 10)]));
        continue;
      }
      yield* this.ch.pump(r.cfg.heartbeatNs);
      for (const e of this.queue) yield* this.post(e);
      const now = rt.now();
      for (let k = 0; k < this.queue.length; ) {
        const e = this.queue[k]!;
        let acks = 0;
        for (const p of e.sent.values()) if (p.done && p.ok) acks++;
        if (acks >= need || now >= e.deadlineNs) {
          e.done.resolve(acks >= need ? acks : null);
          this.ch.forget(e.sent.values());
          this.queue.splice(k, 1);
        } else k++;
      }
    }
    this.closed = true;
    for (const e of this.queue) e.done.resolve(null);
    this.queue.length = 0;
  }
}
