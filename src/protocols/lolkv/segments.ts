import { invariant } from '../../platform/index.js';

/**
 * The leader's segment table (DRAM, docs/lolkv.md "Replicas, threads, memory" and "Garbage
 * collection"). A segment is FREE, ACTIVE (owned by one thread, which appends to it) or SEALED
 * (its owner moved on; a GC candidate). `live` counts the bytes of objects a hash-table slot
 * points at; `gen` counts how often the segment was (re)used in this term and goes into every
 * object's write stamp. A freed segment is reused only after `reuseAt` (the GC grace period).
 *
 * Plain JavaScript state: every method runs between two scheduling points, so it is atomic with
 * respect to the other threads of the node.
 */

export const FREE = 0;
export const ACTIVE = 1;
export const SEALED = 2;

export interface Allocation {
  seg: number;
  /** Byte offset in the segment area. */
  off: number;
  gen: number;
}

export class Segments {
  readonly state: Uint8Array;
  readonly tail: Float64Array;
  readonly live: Float64Array;
  readonly gen: Float64Array;
  readonly reuseAt: Float64Array;
  /** Current segment of each allocating thread (-1: none). */
  private readonly current: Int32Array;
  /** Free segments, most recently freed last (a LIFO free list: freed segments are reused first). */
  private freeList: number[] = [];

  constructor(
    readonly count: number,
    readonly segmentBytes: number,
    threads: number,
    /** Free segments only the reserved thread (GC) may take. */
    private readonly reserve: number,
  ) {
    this.state = new Uint8Array(count);
    this.tail = new Float64Array(count);
    this.live = new Float64Array(count);
    this.gen = new Float64Array(count);
    this.reuseAt = new Float64Array(count);
    this.current = new Int32Array(threads).fill(-1);
    this.rebuildFreeList();
  }

  /** After the states were set wholesale (state sync): every FREE segment, lowest index on top. */
  rebuildFreeList(): void {
    this.freeList = [];
    for (let s = this.count - 1; s >= 0; s--) if (this.state[s] === FREE) this.freeList.push(s);
  }

  segOf(off: number): number {
    return Math.floor(off / this.segmentBytes);
  }

  /** Appends `bytes` to thread `t`'s current segment, taking a new one when it is full; null when none is free. */
  alloc(t: number, bytes: number, now: number, reserved: boolean): Allocation | null {
    if (bytes > this.segmentBytes) return null;
    let s = this.current[t]!;
    if (s >= 0 && this.tail[s]! + bytes > this.segmentBytes) {
      this.state[s] = SEALED;
      this.current[t] = -1;
      s = -1;
    }
    if (s < 0) {
      s = this.takeFree(now, reserved);
      if (s < 0) return null;
      this.state[s] = ACTIVE;
      this.tail[s] = 0;
      this.live[s] = 0;
      this.gen[s] = this.gen[s]! + 1;
      this.current[t] = s;
    }
    const off = s * this.segmentBytes + this.tail[s]!;
    this.tail[s] = this.tail[s]! + bytes;
    return { seg: s, off, gen: this.gen[s]! };
  }

  private takeFree(now: number, reserved: boolean): number {
    let usable = 0;
    let pick = -1;
    for (let k = this.freeList.length - 1; k >= 0; k--) {
      if (this.reuseAt[this.freeList[k]!]! > now) continue;
      usable++;
      if (pick < 0) pick = k;
      if (usable > this.reserve) break;
    }
    if (pick < 0 || (!reserved && usable <= this.reserve)) return -1;
    return this.freeList.splice(pick, 1)[0]!;
  }

  addLive(off: number, size: number): void {
    const s = this.segOf(off);
    this.live[s] = this.live[s]! + size;
  }

  subLive(off: number, size: number): void {
    const s = this.segOf(off);
    this.live[s] = this.live[s]! - size;
    invariant(this.live[s]! >= 0, () => `segment ${s}: live bytes went negative`);
  }

  /** GC candidates: sealed segments below the live threshold, emptiest first. */
  victims(threshold: number): number[] {
    const out: number[] = [];
    for (let s = 0; s < this.count; s++) if (this.state[s] === SEALED && this.live[s]! < threshold * this.segmentBytes) out.push(s);
    out.sort((a, b) => this.live[a]! - this.live[b]! || a - b);
    return out;
  }

  /** Frees a sealed segment nothing points into; reusable from `reuseAt`. */
  free(s: number, reuseAt: number): void {
    invariant(this.state[s] === SEALED && this.live[s] === 0, () => `segment ${s} freed while ${this.state[s] === SEALED ? `${this.live[s]} bytes live` : 'not sealed'}`);
    this.state[s] = FREE;
    this.tail[s] = 0;
    this.reuseAt[s] = reuseAt;
    this.freeList.push(s);
  }

  /** Segments with data (the part a catch-up copies): [segment, used bytes]. */
  used(): [number, number][] {
    const out: [number, number][] = [];
    for (let s = 0; s < this.count; s++) if (this.tail[s]! > 0) out.push([s, this.tail[s]!]);
    return out;
  }

  freeCount(): number {
    let n = 0;
    for (let s = 0; s < this.count; s++) if (this.state[s] === FREE) n++;
    return n;
  }
}
