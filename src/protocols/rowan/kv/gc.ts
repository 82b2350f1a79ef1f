import type { Task } from '../../../platform/index.js';
import { peekEntryHead } from './entry.js';
import type { ServerState } from './state.js';

/**
 * The cleaner (RAMCloud-style): when fewer than `gcFreeSegments` primary-log segments are free, it
 * picks a sealed segment by RAMCloud's cost-benefit policy (few live bytes, old), copies
 * each live object into its own segment (same version; the backups already hold it), swings the
 * index to the copy unless a newer version replaced it meanwhile, and frees the segment — reusable
 * only after `gcGraceNs`, so a GET that read an old pointer still finds its object intact.
 */
export function* runCleaner(st: ServerState, owner: number): Task<void> {
  const p = st.p;
  const log = st.plog;
  for (;;) {
    yield* p.rt.sleep(st.opts.gcIntervalNs);
    if (log.freeCount >= st.opts.gcFreeSegments) continue;
    // RAMCloud's cost-benefit policy: clean the segment maximizing (1 - u) · age / (1 + u), u its
    // live fraction, age in segment generations.
    let best = -1;
    let bestLive = 0;
    let bestScore = -1;
    for (const seg of log.sealed()) {
      let live = 0;
      yield* log.frames(seg, (bytes, at, len, off) => {
        if (isLive(bytes, at, len, off)) live += len;
      });
      const u = live / log.segBytes;
      if (u > 0.9) continue;
      const score = ((1 - u) * (log.newestGen - log.gen[seg]! + 1)) / (1 + u);
      if (score > bestScore) {
        bestScore = score;
        best = seg;
        bestLive = live;
      }
    }
    if (best < 0) continue;
    const moves: { bytes: Uint8Array; off: number; len: number }[] = [];
    if (!st.opts.unsafe.cleanReferenced) {
      yield* log.frames(best, (bytes, at, len, off) => {
        if (isLive(bytes, at, len, off)) moves.push({ bytes: bytes.slice(at, at + len), off, len });
      });
    }
    let moved = 0;
    for (const m of moves) {
      const h = peekEntryHead(m.bytes, 0, m.len);
      const to = yield* log.append(owner, m.bytes);
      if (to < 0) break;
      const cur = st.index[h.shard]!.get(h.key);
      if (cur !== undefined && cur.off === m.off) {
        st.index[h.shard]!.set(h.key, { off: to, len: m.len, ver: cur.ver, clientId: cur.clientId, reqId: cur.reqId });
        moved++;
      }
    }
    // Anything still pointing into the segment (the log filled up mid-way)? Then keep it.
    if (!st.opts.unsafe.cleanReferenced) {
      let still = false;
      yield* log.frames(best, (bytes, at, len, off) => {
        if (isLive(bytes, at, len, off)) still = true;
      });
      if (still) continue;
    }
    yield* log.release(best, st.opts.unsafe.cleanReferenced ? 0 : st.opts.gcGraceNs);
    p.rt.trace('rowankv.gc-free', { seg: best, live: bestLive, moved });
  }

  function isLive(bytes: Uint8Array, at: number, len: number, off: number): boolean {
    const h = peekEntryHead(bytes, at, len);
    const m = st.index[h.shard];
    return m !== undefined && m.get(h.key)?.off === off;
  }
}
