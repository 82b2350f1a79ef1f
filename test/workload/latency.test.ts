import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram, bucketHigh, bucketLow, bucketOf } from '../../src/workload/latency.js';
import { WorkloadStats } from '../../src/workload/stats.js';

describe('latency histogram', () => {
  it('buckets are contiguous, ordered and at most 1/128 wide relative to their low end', () => {
    let prevHigh = -1;
    for (let b = 0; b < 256 + 128 * 45; b++) {
      const lo = bucketLow(b);
      const hi = bucketHigh(b);
      expect(lo).toBe(prevHigh + 1);
      expect(bucketOf(lo)).toBe(b);
      expect(bucketOf(hi)).toBe(b);
      if (lo >= 256) expect((hi - lo + 1) / lo).toBeLessThanOrEqual(1 / 128);
      prevHigh = hi;
    }
  });

  it('places any value in a bucket that contains it', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (v) => {
        const b = bucketOf(v);
        expect(bucketLow(b)).toBeLessThanOrEqual(v);
        expect(bucketHigh(b)).toBeGreaterThanOrEqual(v);
      }),
    );
  });

  it('quantiles are within 0.8% above the exact ones', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000_000 }), { minLength: 1, maxLength: 400 }), fc.constantFrom(0.5, 0.9, 0.99, 0.999, 1), (xs, q) => {
        const h = new LatencyHistogram();
        for (const x of xs) h.record(x);
        const sorted = [...xs].sort((a, b) => a - b);
        const exact = sorted[Math.max(0, Math.ceil(q * xs.length) - 1)]!;
        const got = h.quantileNs(q);
        expect(got).toBeGreaterThanOrEqual(exact);
        expect(got).toBeLessThanOrEqual(Math.max(exact + 1, exact * (1 + 1 / 128)));
      }),
    );
  });

  it('merges order-independently', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(100_000_000), { maxLength: 50 }), { minLength: 1, maxLength: 6 }), (parts) => {
        const hs = parts.map((p) => {
          const h = new LatencyHistogram();
          for (const x of p) h.record(x);
          return h;
        });
        const a = new LatencyHistogram();
        for (const h of hs) a.merge(h);
        const b = new LatencyHistogram();
        for (const h of [...hs].reverse()) b.merge(h);
        const all = new LatencyHistogram();
        for (const x of parts.flat()) all.record(x);
        expect(a.summary()).toEqual(all.summary());
        expect(b.summary()).toEqual(all.summary());
      }),
    );
  });

  it('summarizes', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i * 1000);
    const s = h.summary();
    expect(s.count).toBe(1000);
    expect(s.minNs).toBe(1000);
    expect(s.maxNs).toBe(1_000_000);
    expect(s.meanNs).toBe(500_500);
    expect(s.p50Ns).toBeGreaterThanOrEqual(500_000);
    expect(s.p50Ns).toBeLessThan(504_000);
    expect(s.p999Ns).toBeGreaterThanOrEqual(999_000);
    expect(new LatencyHistogram().summary().p99Ns).toBe(0);
  });
});

describe('workload stats', () => {
  it('reports counts, throughput over the window and merges', () => {
    const a = new WorkloadStats();
    const b = new WorkloadStats();
    for (let i = 0; i < 100; i++) a.record('read', 'ok', 1000 + i);
    for (let i = 0; i < 50; i++) b.record('update', i % 10 === 0 ? 'fail' : 'ok', 5000);
    b.record('update', 'info', 1e9);
    a.window(0, 1e9);
    b.window(5e8, 2e9);
    a.merge(b);
    const r = a.report();
    expect(r.durationNs).toBe(2e9);
    expect(r.byOp.read!.ok).toBe(100);
    expect(r.byOp.update).toMatchObject({ count: 51, ok: 45, fail: 5, info: 1 });
    expect(r.byOp.update!.latency.maxNs).toBe(5000); // info not in latency
    expect(r.total.throughputPerSec).toBe(75);
    expect(r.total.count).toBe(151);
  });
});
