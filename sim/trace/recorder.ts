import type { TraceValue } from '../../src/platform/index.js';
import type { Recorder, TraceRecord } from '../kernel.js';

/**
 * An in-memory trace recorder: attach it with `sim.recorder = rec` before `sim.run()` and it keeps
 * the run's records (the input of the timeline, the trace file and the Perfetto export).
 *
 * Records are plain data. The run's trace hash is computed by the kernel whether or not a recorder
 * is attached; attaching one changes nothing the simulation decides.
 *
 * Memory is bounded by `maxRecords`. Past the cap the recorder keeps counting (`total`, per-kind
 * counts) and marks itself `truncated`; which records it keeps depends on `keep`:
 *  - `'first'` (default): the first `maxRecords` records;
 *  - `'last'`: a ring of the most recent `maxRecords` records (what led up to a violation).
 * In both modes fault and violation records (`fault.*`, `violation`) are always kept, up to
 * `maxPinned` of them beyond the cap, so the timeline still shows every injected fault.
 */
export interface MemoryRecorderOptions {
  /** Record every thread step (`kind: 'step'`). Very frequent; off by default. */
  threadSteps?: boolean;
  /** Records kept at most (default 1,000,000). */
  maxRecords?: number;
  /** Which records survive past the cap (default 'first'). */
  keep?: 'first' | 'last';
  /** Fault/violation records kept beyond the cap (default 10,000). */
  maxPinned?: number;
}

export const DEFAULT_MAX_RECORDS = 1_000_000;

/**
 * Is this record an injected fault happening (or healing: restart, link-up, nic-up, ...-end)?
 * `fault.planned` (the harness listing the schedule at time 0) is not: see isPlannedFault.
 */
export function isFault(kind: string): boolean {
  return kind.startsWith('fault.') && kind !== 'fault.planned';
}

/** The harness's note of a scheduled fault (`fault.planned`, fields kind, atNs). */
export function isPlannedFault(kind: string): boolean {
  return kind === 'fault.planned';
}

/** Is this record the run's violation note? */
export function isViolation(kind: string): boolean {
  return kind === 'violation';
}

function pinned(kind: string): boolean {
  return kind.startsWith('fault.') || isViolation(kind);
}

export interface RecorderStats {
  /** Records offered by the simulator. */
  total: number;
  /** Records kept. */
  kept: number;
  /** Records dropped because of the cap. */
  dropped: number;
  truncated: boolean;
}

export class MemoryRecorder implements Recorder {
  readonly threadSteps: boolean;
  readonly maxRecords: number;
  readonly keep: 'first' | 'last';
  readonly maxPinned: number;
  /** Every record offered, kept or not. */
  total = 0;
  private readonly counts = new Map<string, number>();
  // Kept records and their arrival index (for merging pinned records back in order).
  private buf: TraceRecord[] = [];
  private bufSeq: number[] = [];
  /** Ring start when keep = 'last' and the ring is full. */
  private head = 0;
  private pins: TraceRecord[] = [];
  private pinSeq: number[] = [];
  private pinsDropped = 0;

  constructor(opts: MemoryRecorderOptions = {}) {
    this.threadSteps = opts.threadSteps ?? false;
    const max = opts.maxRecords ?? DEFAULT_MAX_RECORDS;
    if (!(Number.isInteger(max) && max >= 0)) throw new Error(`MemoryRecorder: maxRecords must be a non-negative integer, got ${max}`);
    this.maxRecords = max;
    this.keep = opts.keep ?? 'first';
    const mp = opts.maxPinned ?? 10_000;
    if (!(Number.isInteger(mp) && mp >= 0)) throw new Error(`MemoryRecorder: maxPinned must be a non-negative integer, got ${mp}`);
    this.maxPinned = mp;
  }

  record(rec: TraceRecord): void {
    const seq = this.total++;
    this.counts.set(rec.kind, (this.counts.get(rec.kind) ?? 0) + 1);
    // Copy: a caller of Sim.note may reuse its fields object.
    const r: TraceRecord = rec.fields === undefined ? { t: rec.t, node: rec.node, kind: rec.kind } : { t: rec.t, node: rec.node, kind: rec.kind, fields: copyFields(rec.fields) };
    const buf = this.buf;
    if (buf.length < this.maxRecords) {
      buf.push(r);
      this.bufSeq.push(seq);
      return;
    }
    if (this.keep === 'first' || this.maxRecords === 0) {
      this.pin(r, seq);
      return;
    }
    // Ring: overwrite the oldest; a fault/violation falling out of the window is pinned.
    const h = this.head;
    const old = buf[h]!;
    if (pinned(old.kind)) this.pin(old, this.bufSeq[h]!);
    buf[h] = r;
    this.bufSeq[h] = seq;
    this.head = h + 1 === buf.length ? 0 : h + 1;
  }

  private pin(r: TraceRecord, seq: number): void {
    if (!pinned(r.kind)) return;
    if (this.pins.length >= this.maxPinned) {
      this.pinsDropped++;
      return;
    }
    this.pins.push(r);
    this.pinSeq.push(seq);
  }

  /** The kept records, in the order the simulator produced them. A fresh array. */
  get records(): TraceRecord[] {
    const n = this.buf.length;
    const ring: TraceRecord[] = new Array(n);
    const ringSeq: number[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const j = (this.head + i) % n;
      ring[i] = this.buf[j]!;
      ringSeq[i] = this.bufSeq[j]!;
    }
    if (this.pins.length === 0) return ring;
    // Merge the pinned records back by arrival index.
    const out: TraceRecord[] = [];
    let a = 0;
    let b = 0;
    while (a < n || b < this.pins.length) {
      if (b >= this.pins.length || (a < n && ringSeq[a]! < this.pinSeq[b]!)) out.push(ring[a++]!);
      else out.push(this.pins[b++]!);
    }
    return out;
  }

  get kept(): number {
    return this.buf.length + this.pins.length;
  }

  get truncated(): boolean {
    return this.total > this.kept;
  }

  stats(): RecorderStats {
    return { total: this.total, kept: this.kept, dropped: this.total - this.kept, truncated: this.truncated };
  }

  /** Per-kind counts over every record offered (kept or not), sorted by kind. */
  kindCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const k of [...this.counts.keys()].sort()) out[k] = this.counts.get(k)!;
    return out;
  }

  /** Fault/violation records that could not be kept (beyond maxPinned). */
  get pinnedDropped(): number {
    return this.pinsDropped;
  }

  clear(): void {
    this.total = 0;
    this.counts.clear();
    this.buf = [];
    this.bufSeq = [];
    this.head = 0;
    this.pins = [];
    this.pinSeq = [];
    this.pinsDropped = 0;
  }
}

function copyFields(f: Record<string, TraceValue>): Record<string, TraceValue> {
  const out: Record<string, TraceValue> = {};
  for (const k in f) out[k] = f[k]!;
  return out;
}
