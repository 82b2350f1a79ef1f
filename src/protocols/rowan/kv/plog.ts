import type { Memory, Platform, Task } from '../../../platform/index.js';
import { setTag, validFrame } from '../frame.js';

/**
 * Primary logs: log-structured objects in PM, written by the CPU. The region is cut into segments;
 * every worker thread (and the cleaner) appends into its own current segment, so each thread's
 * log is one sequential write stream.
 *
 * Segment layout: a 64-byte header (u32 generation, u32 magic), then frames tagged with the
 * generation. A segment is given a fresh generation (persisted) when a thread takes it; freeing it
 * zeroes the header (persisted), so frames of an earlier use are never taken for live ones — the
 * recovery scan after a restart reads every segment with a valid header and stops at the first
 * frame that is not valid for its generation (a torn tail, or the end).
 */

const HEADER = 64;
const MAGIC = 0x524b4c47;

export class PrimaryLog {
  readonly mem: Memory;
  readonly segCount: number;
  /** Generation of each segment (0 = free). */
  readonly gen: Uint32Array;
  /** Append position of each segment. */
  readonly tail: Int32Array;
  /** Current segment of each owner (workers, then the cleaner), -1 = none. */
  readonly current: Int32Array;
  private readonly free: number[] = [];
  private readonly graced: { seg: number; at: number }[] = [];
  private nextGen = 1;

  constructor(
    private readonly p: Platform,
    readonly segBytes: number,
    segments: number,
    owners: number,
    region = 'rk.plog',
  ) {
    this.mem = p.memory.pm(region, segBytes * segments);
    this.segCount = segments;
    this.gen = new Uint32Array(segments);
    this.tail = new Int32Array(segments);
    this.current = new Int32Array(owners).fill(-1);
  }

  /** Boot: scans every segment; `visit(bytes, at, len, absOffset)` for each valid frame. */
  recover(visit: (bytes: Uint8Array, at: number, len: number, off: number) => void): void {
    let maxGen = 0;
    for (let seg = 0; seg < this.segCount; seg++) {
      const base = seg * this.segBytes;
      const head = this.mem.peek(base, 8);
      const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
      const g = dv.getUint32(0, true);
      if (g === 0 || dv.getUint32(4, true) !== MAGIC) {
        this.free.push(seg);
        continue;
      }
      this.gen[seg] = g;
      if (g > maxGen) maxGen = g;
      const bytes = this.mem.peek(base, this.segBytes);
      let at = HEADER;
      for (;;) {
        const len = validFrame(bytes, at, bytes.length, g);
        if (len === 0) break;
        visit(bytes, at, len, base + at);
        at += (len + 7) & ~7;
      }
      this.tail[seg] = at;
    }
    this.nextGen = maxGen + 1;
  }

  /** The newest generation handed out. */
  get newestGen(): number {
    return this.nextGen - 1;
  }

  get freeCount(): number {
    return this.free.length + this.graced.length;
  }

  /** Segments that are in use and nobody's current segment (cleaning candidates). */
  sealed(): number[] {
    const out: number[] = [];
    for (let seg = 0; seg < this.segCount; seg++) {
      if (this.gen[seg] === 0) continue;
      let cur = false;
      for (let o = 0; o < this.current.length; o++) if (this.current[o] === seg) cur = true;
      if (!cur) out.push(seg);
    }
    return out;
  }

  private takeFree(): number {
    const now = this.p.rt.now();
    while (this.graced.length > 0 && this.graced[0]!.at <= now) this.free.push(this.graced.shift()!.seg);
    return this.free.length > 0 ? this.free.shift()! : -1;
  }

  /**
   * Appends `frame` (its tag is set to the segment's generation) and persists it. Returns its
   * absolute offset, or -1 when the log is full.
   */
  *append(owner: number, frame: Uint8Array): Task<number> {
    const len = frame.length;
    const need = (len + 7) & ~7;
    if (need > this.segBytes - HEADER) throw new Error(`rowankv: object of ${len} bytes does not fit a segment`);
    let seg = this.current[owner]!;
    if (seg < 0 || this.tail[seg]! + need > this.segBytes) {
      this.current[owner] = -1;
      seg = this.takeFree();
      if (seg < 0) return -1;
      const g = this.nextGen++;
      this.gen[seg] = g;
      this.tail[seg] = HEADER;
      this.current[owner] = seg;
      const base = seg * this.segBytes;
      const h = new Uint8Array(8);
      const dv = new DataView(h.buffer);
      dv.setUint32(0, g, true);
      dv.setUint32(4, MAGIC, true);
      yield* this.mem.write(base, h);
      yield* this.mem.persist(base, 8);
    }
    const off = seg * this.segBytes + this.tail[seg]!;
    this.tail[seg] = this.tail[seg]! + need;
    setTag(frame, this.gen[seg]!);
    yield* this.mem.write(off, frame);
    yield* this.mem.persist(off, len);
    return off;
  }

  /** Frees a cleaned segment: zeroes its header (persisted); reusable after `graceNs`. */
  *release(seg: number, graceNs: number): Task<void> {
    this.gen[seg] = 0;
    this.tail[seg] = 0;
    yield* this.mem.write(seg * this.segBytes, new Uint8Array(8));
    yield* this.mem.persist(seg * this.segBytes, 8);
    this.graced.push({ seg, at: this.p.rt.now() + graceNs });
  }

  segmentOf(off: number): number {
    return Math.floor(off / this.segBytes);
  }

  /** Frames of segment `seg` (a copy): visit(bytes, at, len, absOffset). */
  *frames(seg: number, visit: (bytes: Uint8Array, at: number, len: number, off: number) => void): Task<void> {
    const base = seg * this.segBytes;
    const end = this.tail[seg]!;
    const g = this.gen[seg]!;
    const bytes = yield* this.mem.read(base, end);
    let at = HEADER;
    while (at < end) {
      const len = validFrame(bytes, at, end, g);
      if (len === 0) break;
      visit(bytes, at, len, base + at);
      at += (len + 7) & ~7;
    }
  }
}
