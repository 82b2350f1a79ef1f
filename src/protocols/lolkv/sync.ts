import type { Memory, Task } from '../../platform/index.js';
import { buildTableImage } from './hashtable.js';
import type { Incarnations } from './incarnation.js';
import { keyHash, ptrOf } from './layout.js';
import type { FollowerState, LeaderTerm } from './leader.js';
import { type DecodedObject, HEADER_BYTES, compareStamp, compareVersion, decodeObject, isReadCommand } from './object.js';
import { FREE, SEALED } from './segments.js';

/**
 * State synchronization (docs/lolkv.md, "State synchronization"). The new leader READs the segment
 * areas of ⌊n/2⌋ followers that hold keys of its term (they accept nothing from older leaders any
 * more) — with itself a majority, which intersects the majority every committed object is on.
 *
 * Per segment it collects every valid object of every image and keeps, location by location, the
 * one written last: objects in order of their write stamp (wterm, gen), newest first, each kept
 * unless it overlaps one already kept (a leader writes over a location only when what was there is
 * dead to it). What it was missing it writes into its own segments and persists. Then it rebuilds
 * its hash table (per key the newest version), its dedup table (per client the highest reqId),
 * its segment table (tails, live bytes; every non-empty segment sealed), and zeroes the
 * incarnation array.
 */

const CHUNK_BYTES = 1 << 20;

interface Candidate {
  off: number;
  obj: DecodedObject;
  bytes: Uint8Array;
}

export interface SyncEnv {
  incarnations: Incarnations;
  /** Read buffers, one per source replica, reused across elections of one boot. */
  buffers: Map<number, Memory>;
}

export function* syncState(lt: LeaderTerm, sources: FollowerState[], env: SyncEnv): Task<boolean> {
  const r = lt.r;
  const segB = r.cfg.segmentBytes;
  const count = Math.floor(r.cfg.areaBytes / segB);
  const chunkSegs = Math.max(1, Math.floor(CHUNK_BYTES / segB));
  const bufBytes = Math.min(count, chunkSegs) * segB;
  const bufs: Memory[] = sources.map((fs) => {
    let b = env.buffers.get(fs.node);
    if (b === undefined) {
      b = r.p.memory.dram(`${r.cfg.tracePrefix}.sync.f${fs.node}`, bufBytes);
      env.buffers.set(fs.node, b);
    }
    return b;
  });
  const accepted: Candidate[] = [];
  const tornSeen = new Set<number>();
  let fetched = 0;
  const verify = lt.cfg.verify;

  for (let c = 0; c < count; c += chunkSegs) {
    const segs = Math.min(chunkSegs, count - c);
    const len = segs * segB;
    // READ this chunk of every source (in parallel on the wire), then our own.
    const posted: { fs: FollowerState; gen: number; qpId: number }[] = [];
    for (let i = 0; i < sources.length; i++) {
      const fs = sources[i]!;
      const qp = fs.ctrl;
      if (qp === null || fs.keys === null || fs.failure.done) return false;
      yield* qp.read({ mem: bufs[i]!, offset: 0, length: len }, { rkey: fs.keys.segments, offset: c * segB }, { wrId: c + 1 });
      posted.push({ fs, gen: fs.gen, qpId: qp.id });
    }
    for (const { fs, gen, qpId } of posted) {
      for (;;) {
        if (!lt.live) return false;
        if (fs.gen !== gen || fs.failure.done) return false;
        const comp = yield* fs.ctrlCq.next(r.cfg.heartbeatNs);
        if (comp === null || comp.qpId !== qpId || comp.wrId !== c + 1) continue;
        if (comp.status !== 'success') {
          lt.failFollower(fs, gen);
          return false;
        }
        break;
      }
    }
    const own = yield* r.area.read(c * segB, len);
    const images = [own, ...bufs.map((b) => b.peek(0, len))];
    for (let k = 0; k < segs; k++) {
      const s = c + k;
      for (const cand of adopt(s, k * segB, segB, images, verify, (off) => {
        if (tornSeen.has(off)) return;
        tornSeen.add(off);
        r.trace('torn', { seg: s, off });
      })) {
        accepted.push(cand);
        const at = cand.off - c * segB;
        if (!lt.live) return false; // never write into our storage for a term that is over
        if (!sameBytes(own, at, cand.bytes)) {
          yield* r.area.write(cand.off, cand.bytes);
          yield* r.area.persist(cand.off, cand.bytes.length);
          fetched++;
        }
      }
    }
    if (!lt.live) return false;
  }

  // Rebuild: newest version per key (a GC copy and its original share a version: the later stamp wins).
  const newest = new Map<string, Candidate>();
  const dedup = new Map<number, number>();
  const seg = lt.segments;
  for (const a of accepted) {
    const s = seg.segOf(a.off);
    seg.tail[s] = Math.max(seg.tail[s]!, a.off - s * segB + a.obj.size);
    seg.gen[s] = Math.max(seg.gen[s]!, a.obj.gen);
    if (isReadCommand(a.obj)) continue; // a Mu read command occupies its log slot; it is no version of its key
    const cur = newest.get(a.obj.key);
    if (cur === undefined || compareVersion(a.obj, cur.obj) > 0 || (compareVersion(a.obj, cur.obj) === 0 && compareStamp(a.obj, cur.obj) > 0)) newest.set(a.obj.key, a);
    const d = dedup.get(a.obj.clientId);
    if (d === undefined || a.obj.reqId > d) dedup.set(a.obj.clientId, a.obj.reqId);
  }
  for (let s = 0; s < seg.count; s++) seg.state[s] = seg.tail[s]! > 0 ? SEALED : FREE;
  seg.rebuildFreeList();
  const entries: { hash: number; ptr: number }[] = [];
  for (const a of newest.values()) {
    seg.addLive(a.off, a.obj.size);
    entries.push({ hash: keyHash(a.obj.key), ptr: ptrOf(a.off) });
  }
  const { image } = buildTableImage(r.cfg.tableSlots, entries);
  yield* r.table.write(0, image);
  yield* env.incarnations.reset();
  lt.dedup = dedup;
  // sources: the followers READ (with this replica, the majority the adopted state comes from)
  r.trace('sync', { term: lt.term, objects: accepted.length, fetched, sources: sources.map((fs) => fs.node).join(',') });
  return true;
}

function sameBytes(img: Uint8Array, at: number, b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (img[at + i] !== b[i]) return false;
  return true;
}

/**
 * The objects of segment `s` to keep, given its bytes at `base` in each image: every valid
 * object, newest write stamp first, skipping copies of one already kept and anything overlapping
 * one already kept.
 */
export function adopt(s: number, base: number, segB: number, images: readonly Uint8Array[], verify: boolean, onTorn: (off: number) => void): Candidate[] {
  const cands: Candidate[] = [];
  for (const img of images) {
    const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
    const end = base + segB;
    let o = base;
    while (o + HEADER_BYTES <= end) {
      if (dv.getUint32(o, true) === 0 && dv.getUint32(o + 4, true) === 0) {
        o += 8;
        continue;
      }
      const d = decodeObject(img, o, end, verify);
      if (d.kind === 'ok') {
        cands.push({ off: s * segB + (o - base), obj: d.obj, bytes: img.slice(o, o + d.obj.size) });
        o += d.obj.size;
        continue;
      }
      if (d.kind === 'torn') {
        const len = dv.getUint32(o + 4, true);
        if (len >= HEADER_BYTES && o + len <= end) onTorn(s * segB + (o - base));
      }
      o += 8;
    }
  }
  if (cands.length === 0) return [];
  cands.sort((a, b) => -compareStamp(a.obj, b.obj) || a.off - b.off || a.obj.crc - b.obj.crc);
  const used = new Uint8Array(segB / 8);
  const out: Candidate[] = [];
  for (const c of cands) {
    const from = (c.off - s * segB) / 8;
    const to = from + c.obj.size / 8;
    let free = true;
    for (let w = from; w < to; w++) {
      if (used[w] === 1) {
        free = false;
        break;
      }
    }
    if (!free) continue;
    used.fill(1, from, to);
    out.push(c);
  }
  return out;
}
