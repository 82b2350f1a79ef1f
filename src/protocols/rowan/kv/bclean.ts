import type { Task } from '../../../platform/index.js';
import { roundUp, validFrame } from '../frame.js';
import { peekEntryHead } from './entry.js';
import type { ServerState } from './state.js';

/**
 * The backup-log cleaner: Rowan buffers hold replicated objects until they are cleaned, and only
 * cleaned buffers are reposted. When more than half of the ring holds data, the cleaner takes the
 * oldest buffer the digest has finished (posting order), copies every frame the backup index still
 * points at into the server's primary log (same version) and moves it to the primary index (where
 * a promotion's merge finds it; newest version wins), drops frames of shards this server is
 * serving (stale by definition), and releases the buffer to the control thread.
 */
export function* runBackupCleaner(st: ServerState, owner: number): Task<void> {
  const b = st.backup;
  if (b === null) return;
  const rx = b.rx;
  const stride = rx.opts.strideBytes;
  let next = 0; // index into rx.postedSeq of the oldest buffer not yet cleaned
  for (;;) {
    yield* st.p.rt.sleep(st.opts.gcIntervalNs);
    while (rx.postedSeq.length - next > rx.opts.buffers / 2 && next < b.scanner.postIndex) {
      const ring = rx.postedSeq[next]!;
      const end = b.scanner.fillEnd[ring]!;
      const base = rx.bufferOffset(ring);
      const bytes = end > 0 ? yield* rx.mem.read(base, end) : new Uint8Array(0);
      let moved = 0;
      let ok = true;
      for (let at = 0; at < end; ) {
        const len = validFrame(bytes, at, end, rx.tag);
        if (len === 0) break;
        const h = peekEntryHead(bytes, at, len);
        const m = b.index[h.shard];
        const loc = h.key === '' ? undefined : m?.get(h.key);
        if (m !== undefined && loc !== undefined && loc.off === base + at) {
          if (st.tenure[h.shard]! > 0) m.delete(h.key);
          else {
            const to = yield* st.plog.append(owner, bytes.slice(at, at + len));
            if (to < 0) {
              ok = false;
              break;
            }
            st.install(h.shard, h.key, { off: to, len, ver: h.ver, clientId: h.clientId, reqId: h.reqId });
            if (m.get(h.key) === loc) m.delete(h.key);
            moved++;
          }
        }
        at += roundUp(len, stride);
      }
      if (!ok) break; // the primary log is full: try again later
      rx.release(ring);
      next++;
      st.p.rt.trace('rowankv.blog-clean', { ring, moved });
    }
  }
}
