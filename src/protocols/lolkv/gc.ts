import type { Task } from '../../platform/index.js';
import type { Channel } from './channel.js';
import type { CpuCosts } from './cpu.js';
import type { HashTable } from './hashtable.js';
import { keyHash, ptrOf } from './layout.js';
import type { LeaderTerm } from './leader.js';
import { decodeObject, encodeObject } from './object.js';
import type { LolkvOptions } from './options.js';
import { replicate } from './replicate.js';
import { remoteApply } from './worker.js';

/**
 * The GC thread of a leader term (docs/lolkv.md, "Garbage collection"). It picks sealed segments
 * whose live fraction is below gcLiveThreshold, copies every live object (one a slot points at)
 * into its own segment — replicated and committed like a PUT, keeping its version (term, inc)
 * with a new write stamp — and swings the slot with cas64(old → new); a failed CAS means a newer
 * PUT won and the copy is dead. When nothing points into the segment any more it is freed, and
 * reused only after gcGraceNs, so a GET that read the old pointer just before the swing still
 * finds the old object intact (and it re-checks the slot after reading anyway). It runs on a core
 * of its own and pays the same CPU costs as a worker for the same work (decode and probe per
 * object scanned, compose per copy).
 */
export function* gcThread(lt: LeaderTerm, ch: Channel, user: number, table: HashTable, opts: LolkvOptions, cpu: CpuCosts): Task<void> {
  const r = lt.r;
  const rt = r.p.rt;
  const segB = r.cfg.segmentBytes;
  while (lt.live) {
    yield* rt.sleep(opts.gcIntervalNs);
    if (!lt.serving || !lt.live) continue;
    const victims = lt.segments.victims(opts.gcLiveThreshold);
    for (const s of victims.slice(0, 4)) {
      if (!(yield* collect(s))) break;
    }
  }

  function* collect(s: number): Task<boolean> {
    const seg = lt.segments;
    const tail = seg.tail[s]!;
    const bytes = yield* r.area.read(s * segB, tail);
    for (let o = 0; o < tail; ) {
      const d = decodeObject(bytes, o, tail, table.verify);
      if (d.kind !== 'ok') {
        o += 8;
        continue;
      }
      const obj = d.obj;
      const off = s * segB + o;
      o += obj.size;
      const hash = keyHash(obj.key);
      yield* rt.compute(cpu.decode(obj.size) + cpu.hash + cpu.table);
      const found = yield* table.lookup(obj.key, hash, !opts.unsafe.skipGcSafety);
      if (found.ptr !== ptrOf(off)) continue; // dead: superseded
      const a = seg.alloc(user, obj.size, rt.now(), true);
      if (a === null) return false;
      yield* rt.compute(cpu.compose(obj.size));
      const copy = encodeObject({ ...obj, wterm: lt.term, gen: a.gen });
      yield* r.area.write(a.off, copy);
      yield* r.area.persist(a.off, copy.length);
      const acks = yield* replicate(lt, ch, user, a.off, copy.length, rt.now() + opts.commitTimeoutNs);
      if (acks === null || !lt.live) return false;
      if (yield* table.swing(found.slot, found.ptr, ptrOf(a.off))) {
        seg.addLive(a.off, obj.size);
        seg.subLive(off, obj.size);
        yield* remoteApply(lt, ch, user, found.slot, ptrOf(a.off));
      }
    }
    if (seg.live[s] !== 0 || !lt.live) return true;
    seg.free(s, rt.now() + (opts.unsafe.skipGcSafety ? 0 : opts.gcGraceNs));
    r.trace('gc-free', { seg: s });
    return true;
  }
}
