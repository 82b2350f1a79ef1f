import { LatencyHistogram, type LatencySummary } from './latency.js';

/**
 * Per-operation-type counts and latencies of one or many clients, over a window of virtual time.
 * Merging is order independent (integer counts, histogram addition, min/max of the window), so a
 * harness can combine the clients of a run in any order and get the same report.
 */

/** Operation types as the workload names them (YCSB's, then the `mixed` register ops). */
export const OP_KINDS = ['read', 'update', 'insert', 'scan', 'readModifyWrite', 'get', 'put', 'append', 'cas'] as const;
export type OpKind = (typeof OP_KINDS)[number];

/** ok: took effect / answered; fail: certainly did not take effect (a cas whose compare failed, a rejection); info: unknown. */
export type Outcome = 'ok' | 'fail' | 'info';

export interface OpStatsReport {
  /** Operations completed in the window: ok + fail + info. */
  count: number;
  ok: number;
  fail: number;
  info: number;
  /** Latency of ok and fail operations (info ones mostly measure a timeout, so they are left out). */
  latency: LatencySummary;
  /** (ok + fail) per second of the window's (virtual) time. */
  throughputPerSec: number;
}

export interface StatsReport {
  /** The measurement window in ns: from the first client's start (after warm-up) to the last one's end. */
  startNs: number;
  endNs: number;
  durationNs: number;
  total: OpStatsReport;
  byOp: Partial<Record<OpKind, OpStatsReport>>;
  /** Open loop: arrivals generated, and those dropped because `maxOutstanding` ops were in flight. */
  arrivals: number;
  dropped: number;
  /** Operations with weight whose client lacks the method (e.g. scan), removed from the mix. */
  disabledOps: OpKind[];
  /** Mean size in bytes of the values written (after the uniqueness prefix). */
  meanValueBytes: number;
}

class OpCounters {
  ok = 0;
  fail = 0;
  info = 0;
  readonly latency = new LatencyHistogram();
}

export class WorkloadStats {
  private readonly ops = new Map<OpKind, OpCounters>();
  private start = Infinity;
  private end = -Infinity;
  arrivals = 0;
  dropped = 0;
  private readonly disabled = new Set<OpKind>();
  private valueBytes = 0;
  private values = 0;

  private counters(op: OpKind): OpCounters {
    let c = this.ops.get(op);
    if (c === undefined) {
      c = new OpCounters();
      this.ops.set(op, c);
    }
    return c;
  }

  /** Widens the measurement window to include [startNs, endNs]. */
  window(startNs: number, endNs: number): void {
    if (startNs < this.start) this.start = startNs;
    if (endNs > this.end) this.end = endNs;
  }

  record(op: OpKind, outcome: Outcome, latencyNs: number): void {
    const c = this.counters(op);
    c[outcome]++;
    if (outcome !== 'info') c.latency.record(latencyNs);
  }

  recordValue(sizeBytes: number): void {
    this.valueBytes += sizeBytes;
    this.values++;
  }

  disable(op: OpKind): void {
    this.disabled.add(op);
  }

  merge(other: WorkloadStats): void {
    for (const op of OP_KINDS) {
      const o = other.ops.get(op);
      if (o === undefined) continue;
      const c = this.counters(op);
      c.ok += o.ok;
      c.fail += o.fail;
      c.info += o.info;
      c.latency.merge(o.latency);
    }
    if (other.start < this.start) this.start = other.start;
    if (other.end > this.end) this.end = other.end;
    this.arrivals += other.arrivals;
    this.dropped += other.dropped;
    for (const op of OP_KINDS) if (other.disabled.has(op)) this.disabled.add(op);
    this.valueBytes += other.valueBytes;
    this.values += other.values;
  }

  /** The latency histogram of one operation type (created empty if absent). */
  latency(op: OpKind): LatencyHistogram {
    return this.counters(op).latency;
  }

  report(): StatsReport {
    const startNs = this.start === Infinity ? 0 : this.start;
    const endNs = this.end === -Infinity ? startNs : Math.max(startNs, this.end);
    const durationNs = endNs - startNs;
    const rate = (n: number): number => (durationNs > 0 ? (n * 1e9) / durationNs : 0);
    const total = new OpCounters();
    const byOp: Partial<Record<OpKind, OpStatsReport>> = {};
    for (const op of OP_KINDS) {
      const c = this.ops.get(op);
      if (c === undefined) continue;
      total.ok += c.ok;
      total.fail += c.fail;
      total.info += c.info;
      total.latency.merge(c.latency);
      byOp[op] = { count: c.ok + c.fail + c.info, ok: c.ok, fail: c.fail, info: c.info, latency: c.latency.summary(), throughputPerSec: rate(c.ok + c.fail) };
    }
    return {
      startNs,
      endNs,
      durationNs,
      total: { count: total.ok + total.fail + total.info, ok: total.ok, fail: total.fail, info: total.info, latency: total.latency.summary(), throughputPerSec: rate(total.ok + total.fail) },
      byOp,
      arrivals: this.arrivals,
      dropped: this.dropped,
      disabledOps: OP_KINDS.filter((op) => this.disabled.has(op)),
      meanValueBytes: this.values === 0 ? 0 : this.valueBytes / this.values,
    };
  }
}
