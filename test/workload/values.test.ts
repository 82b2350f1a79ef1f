import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../sim/rng.js';
import { FixedSize, ValueFactory, ZIPPYDB_MEAN_BYTES, ZippyDbSize, splitValues } from '../../src/workload/values.js';

describe('ZippyDB value sizes', () => {
  it('have mean 90.8 ± 2 B over many samples', () => {
    const sizer = new ZippyDbSize(new SeededRng(7, 'size'));
    const N = 400_000;
    let sum = 0;
    let min = Infinity;
    let max = 0;
    let over256 = 0;
    let allIntegers = true;
    for (let i = 0; i < N; i++) {
      const b = sizer.nextSizeBytes();
      allIntegers &&= Number.isInteger(b);
      sum += b;
      min = Math.min(min, b);
      max = Math.max(max, b);
      if (b > 256) over256++;
    }
    const mean = sum / N;
    expect(allIntegers).toBe(true);
    expect(Math.abs(mean - ZIPPYDB_MEAN_BYTES)).toBeLessThan(2);
    // Small values, heavy tail: nothing below the location, a visible tail beyond 256 B.
    expect(min).toBeGreaterThanOrEqual(56);
    expect(max).toBeGreaterThan(512);
    expect(max).toBeLessThanOrEqual(1024);
    expect(over256 / N).toBeGreaterThan(0.005);
    expect(over256 / N).toBeLessThan(0.05);
  });

  it('other seeds agree (mean within 2 B)', () => {
    for (const seed of [1, 2, 3]) {
      const sizer = new ZippyDbSize(new SeededRng(seed, 'size'));
      let sum = 0;
      for (let i = 0; i < 200_000; i++) sum += sizer.nextSizeBytes();
      expect(Math.abs(sum / 200_000 - 90.8)).toBeLessThan(2);
    }
  });

  it('take a configured mean', () => {
    const sizer = new ZippyDbSize(new SeededRng(7, 'size'), 200, 4096);
    let sum = 0;
    for (let i = 0; i < 200_000; i++) sum += sizer.nextSizeBytes();
    expect(Math.abs(sum / 200_000 - 200)).toBeLessThan(3);
    expect(() => new ZippyDbSize(new SeededRng(7, 'size'), 10)).toThrow(/below/);
  });
});

describe('values', () => {
  it('are unique across writes and clients, and sized as asked', () => {
    const factories = [0, 1, 12, 123].map((c) => new ValueFactory(c));
    const fixed = new FixedSize(40);
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      for (const f of factories) {
        const v = f.make(fixed.nextSizeBytes());
        if (v.length !== 40) throw new Error(`bad length ${v.length}`);
        seen.add(v);
      }
    }
    expect(seen.size).toBe(4 * 5000);
  });

  it('keep the uniqueness prefix when the size is smaller', () => {
    const f = new ValueFactory(3);
    expect(f.make(1)).toBe('v3:0:');
    expect(f.make(8)).toBe('v3:1:xxx');
  });

  it('split back out of a concatenation', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1000), fc.integer({ min: 1, max: 40 })), { maxLength: 20 }), (pieces) => {
        const f = new Map<number, ValueFactory>();
        const vals = pieces.map(([c, size]) => {
          if (!f.has(c)) f.set(c, new ValueFactory(c));
          return f.get(c)!.make(size);
        });
        expect(splitValues(vals.join(''))).toEqual(vals);
      }),
    );
  });
});

describe('load-phase values', () => {
  it('differ from the same client run values and split back out', () => {
    const run = new ValueFactory(4);
    const load = new ValueFactory(4, true);
    const a = run.make(10);
    const b = load.make(10);
    expect(a).not.toBe(b);
    expect(b.startsWith('vL4:0:')).toBe(true);
    expect(splitValues(b + a + b)).toEqual([b, a, b]);
  });
});
