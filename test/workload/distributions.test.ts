import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../sim/rng.js';
import { ExactZipfianChooser, HotShardChooser, hashShardOf, type KeyChooser, LatestChooser, ScrambledZipfianChooser, UniformChooser } from '../../src/workload/choosers.js';
import { fnvhash64, mod64 } from '../../src/workload/fnv.js';
import { KeySpace } from '../../src/workload/keyspace.js';
import { YCSB_SCRAMBLED_ZETAN, zeta } from '../../src/workload/zeta.js';
import { ZipfianGenerator } from '../../src/workload/zipfian.js';

const rng = (purpose: string): SeededRng => new SeededRng(42, purpose);

function histogram(ch: KeyChooser, n: number, samples: number): number[] {
  const h = new Array<number>(n).fill(0);
  for (let i = 0; i < samples; i++) h[ch.next()]!++;
  return h;
}

/** Pearson's χ² against the uniform distribution. */
function chiSquare(h: number[]): number {
  const total = h.reduce((a, b) => a + b, 0);
  const e = total / h.length;
  return h.reduce((a, o) => a + ((o - e) * (o - e)) / e, 0);
}

const argmax = (h: number[]): number => h.reduce((best, v, i) => (v > h[best]! ? i : best), 0);

describe('uniform', () => {
  it('is roughly uniform', () => {
    const h = histogram(new UniformChooser(100, rng('u')), 100, 200_000);
    // χ² with 99 degrees of freedom: mean 99, sd 14.
    expect(chiSquare(h)).toBeLessThan(160);
    expect(Math.min(...h)).toBeGreaterThan(0);
  });
});

describe('zipfian over exactly the keys (zipfian-exact)', () => {
  it('gives the hottest keys their theoretical share (θ = 0.99)', () => {
    const n = 1000;
    const ch = new ExactZipfianChooser(n, 0.99, rng('z'));
    const N = 200_000;
    const h = histogram(ch, n, N);
    const z = zeta(n, 0.99);
    // Gray's method is exact for ranks 0 and 1.
    expect(h[ch.keyOfRank(0)]! / N).toBeCloseTo(1 / z, 2);
    expect(Math.abs(h[ch.keyOfRank(0)]! / N - 1 / z)).toBeLessThan(0.004);
    expect(Math.abs(h[ch.keyOfRank(1)]! / N - Math.pow(2, -0.99) / z)).toBeLessThan(0.003);
    expect(argmax(h)).toBe(ch.keyOfRank(0));
  });

  it('follows θ: the hottest key gets 1/ζ(n, θ)', () => {
    const n = 500;
    const N = 100_000;
    for (const theta of [0.2, 0.5, 0.8, 0.9]) {
      const ch = new ExactZipfianChooser(n, theta, rng(`z${theta}`));
      const h = histogram(ch, n, N);
      const p = 1 / zeta(n, theta);
      const se = Math.sqrt((p * (1 - p)) / N);
      expect(Math.abs(h[ch.keyOfRank(0)]! / N - p)).toBeLessThan(5 * se);
    }
  });

  it('is uniform at θ = 0', () => {
    const h = histogram(new ExactZipfianChooser(100, 0, rng('z0')), 100, 200_000);
    expect(chiSquare(h)).toBeLessThan(160);
  });

  it('spreads ranks over the key space', () => {
    const ch = new ExactZipfianChooser(10_000, 0.99, rng('zs'));
    const hot = Array.from({ length: 20 }, (_, r) => ch.keyOfRank(r));
    const quarters = new Set(hot.map((k) => Math.floor(k / 2500)));
    expect(quarters.size).toBe(4);
  });
});

describe('scrambled zipfian (YCSB)', () => {
  it("puts YCSB's hottest item on key fnvhash64(0) mod n with share ≈ 1/ζ(10^10, 0.99)", () => {
    const n = 1000;
    const N = 300_000;
    const h = histogram(new ScrambledZipfianChooser(n, 0.99, rng('s')), n, N);
    const hot = mod64(fnvhash64(0), n);
    expect(argmax(h)).toBe(hot);
    // Theory: item 0's mass plus the items that hash onto the same key. Items < 2·10^5 are
    // summed (zipfian mass, Gray's approximation beyond rank 1); the rest spreads ~uniformly.
    const z = YCSB_SCRAMBLED_ZETAN;
    let head = 0;
    let onHot = 0;
    for (let i = 0; i < 200_000; i++) {
      const p = Math.pow(i + 1, -0.99) / z;
      head += p;
      if (mod64(fnvhash64(i), n) === hot) onHot += p;
    }
    const expected = onHot + (1 - head) / n;
    expect(expected).toBeGreaterThan(1 / z);
    expect(Math.abs(h[hot]! / N - expected)).toBeLessThan(0.002);
  });

  it('spreads the hot keys over the key space', () => {
    const n = 10_000;
    const h = histogram(new ScrambledZipfianChooser(n, 0.99, rng('s2')), n, 200_000);
    const hottest = h
      .map((c, k) => [c, k] as const)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1])
      .slice(0, 20)
      .map(([, k]) => k);
    expect(new Set(hottest.map((k) => Math.floor(k / 2500))).size).toBe(4);
    // Unscrambled, the 20 hottest would be keys 0..19.
    expect(hottest.filter((k) => k < 20).length).toBeLessThan(3);
  });

  it('is nearly uniform at θ = 0', () => {
    const h = histogram(new ScrambledZipfianChooser(100, 0, rng('s0')), 100, 200_000);
    expect(chiSquare(h)).toBeLessThan(160);
  });
});

describe('latest (YCSB SkewedLatestGenerator)', () => {
  it('favors the most recent inserts and follows new ones', () => {
    const ks = new KeySpace(1000);
    for (let i = 0; i < 100; i++) ks.acknowledge(ks.nextInsert());
    const ch = new LatestChooser(ks, 0.99, rng('l'));
    const N = 100_000;
    let h = histogram(ch, 1100, N);
    expect(argmax(h)).toBe(1099);
    expect(Math.abs(h[1099]! / N - 1 / zeta(1100, 0.99))).toBeLessThan(0.005);
    const recent = h.slice(990).reduce((a, b) => a + b, 0) / N; // the newest 10%
    expect(recent).toBeGreaterThan(0.6);
    // New inserts become the hottest keys.
    for (let i = 0; i < 50; i++) ks.acknowledge(ks.nextInsert());
    h = histogram(ch, 1150, N);
    expect(argmax(h)).toBe(1149);
    expect(h[1099]!).toBeLessThan(h[1149]! / 10);
  });

  it('never picks a key not acknowledged yet', () => {
    const ks = new KeySpace(10);
    const pending = ks.nextInsert();
    const ch = new LatestChooser(ks, 0.99, rng('l2'));
    for (let i = 0; i < 10_000; i++) expect(ch.next()).toBeLessThan(pending);
  });
});

describe('hot shard', () => {
  it('sends the configured fraction to shard 0, uniformly within each class', () => {
    const n = 10_000;
    const S = 8;
    const ch = new HotShardChooser(n, S, 0.3, rng('h'));
    const N = 200_000;
    const h = histogram(ch, n, N);
    let hot = 0;
    const hotKeys: number[] = [];
    for (let k = 0; k < n; k++) {
      if (hashShardOf(k, S) === 0) {
        hot += h[k]!;
        hotKeys.push(k);
      }
    }
    expect(Math.abs(hot / N - 0.3)).toBeLessThan(0.006);
    expect(hotKeys.length).toBeGreaterThan(n / S / 2);
    // Within shard 0, uniform.
    expect(chiSquare(hotKeys.map((k) => h[k]!))).toBeLessThan(hotKeys.length + 6 * Math.sqrt(2 * hotKeys.length));
  });

  it('takes the shard function from the caller', () => {
    const ch = new HotShardChooser(1000, 4, 0.9, rng('h2'), (k) => k % 4);
    let hot = 0;
    for (let i = 0; i < 50_000; i++) if (ch.next() % 4 === 0) hot++;
    expect(Math.abs(hot / 50_000 - 0.9)).toBeLessThan(0.01);
  });

  it('rejects a split with an empty class', () => {
    expect(() => new HotShardChooser(100, 4, 0.5, rng('h3'), () => 1)).toThrow(/no key/);
    expect(() => new HotShardChooser(100, 4, 0.5, rng('h3'), () => 0)).toThrow(/every key/);
    expect(() => new HotShardChooser(100, 4, 0, rng('h3'), () => 1).next()).not.toThrow();
  });
});

describe('ZipfianGenerator', () => {
  it('stays in range as the item count grows', () => {
    const g = new ZipfianGenerator(10, 0.99);
    const r = rng('g');
    for (let items = 10; items < 2000; items += 7) {
      for (let i = 0; i < 20; i++) {
        const x = g.next(r, items);
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThan(items);
      }
    }
    expect(g.zetaN).toBeCloseTo(zeta(1998, 0.99), 10);
    expect(() => g.next(r, 5)).toThrow(/grow/);
  });
});
