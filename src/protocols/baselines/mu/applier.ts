import type { Task } from '../../../platform/index.js';
import type { HashTable } from '../../lolkv/hashtable.js';
import { keyHash, ptrOf } from '../../lolkv/layout.js';
import { decodeObject } from '../../lolkv/object.js';
import type { Replica } from '../../lolkv/replica.js';
import type { MuOptions } from './options.js';

/**
 * A follower's apply thread (Mu: followers' CPUs apply every committed operation from their log,
 * in log order, to their own table). It polls the next entry; a missing entry (a hole left by an
 * abandoned or re-sent write) is skipped once a later one has been there for holeTimeoutNs. The
 * follower's table is work repeated on every replica, as in Mu; a new leader rebuilds its own at
 * state sync, so correctness does not depend on it.
 */
export function* applier(r: Replica, table: HashTable, opts: MuOptions): Task<void> {
  const rt = r.p.rt;
  const eb = r.cfg.segmentBytes;
  const entries = Math.floor(r.cfg.areaBytes / eb);
  let next = 0;
  let holeSince = -1;
  for (;;) {
    if (r.role === 'leader' || next >= entries) {
      yield* rt.sleep(opts.applyPollNs * 10);
      continue;
    }
    const bytes = yield* r.area.read(next * eb, eb);
    const d = decodeObject(bytes, 0, eb, true);
    if (d.kind === 'ok') {
      const o = d.obj;
      yield* table.apply(o.key, keyHash(o.key), ptrOf(next * eb), o, true);
      next++;
      holeSince = -1;
      continue;
    }
    if (next + 1 < entries) {
      const after = decodeObject(yield* r.area.read((next + 1) * eb, eb), 0, eb, true);
      if (after.kind === 'ok') {
        if (holeSince < 0) holeSince = rt.now();
        else if (rt.now() - holeSince >= opts.holeTimeoutNs) {
          next++;
          holeSince = -1;
          continue;
        }
      }
    }
    yield* rt.sleep(opts.applyPollNs);
  }
}
