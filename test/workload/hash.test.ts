import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fnv1a64String, fnvhash64, mod64, toDecimal } from '../../src/workload/fnv.js';
import { keyName, KeySpace } from '../../src/workload/keyspace.js';
import { FeistelPermutation } from '../../src/workload/permutation.js';
import { YCSB_SCRAMBLED_ITEM_COUNT, YCSB_SCRAMBLED_ZETAN, zeta, zetaEulerMaclaurin, zetaRange } from '../../src/workload/zeta.js';

const P = 1099511628211n;
const O = 0xcbf29ce484222325n;
const M = (1n << 64n) - 1n;

/** YCSB Utils.fnvhash64, transcribed with BigInt. */
function refFnvhash64(val: number): bigint {
  let v = BigInt(val);
  let h = O;
  for (let i = 0; i < 8; i++) {
    h ^= v & 0xffn;
    v >>= 8n;
    h = (h * P) & M;
  }
  const signed = BigInt.asIntN(64, h);
  return signed < 0n ? -signed : signed;
}

function refString(s: string): bigint {
  let h = O;
  for (let i = 0; i < s.length; i++) {
    h ^= BigInt(s.charCodeAt(i));
    h = (h * P) & M;
  }
  return h;
}

const big = (h: { hi: number; lo: number }): bigint => (BigInt(h.hi) << 32n) | BigInt(h.lo);

describe('fnvhash64 (YCSB Utils.fnvhash64)', () => {
  it('gives YCSB key names', () => {
    // The first keys of every YCSB load with insertorder=hashed.
    expect(keyName(0, 'hashed')).toBe('user6284781860667377211');
    expect(keyName(1, 'hashed')).toBe('user8517097267634966620');
    expect(keyName(2, 'hashed')).toBe('user1820151046732198393');
    expect(keyName(7, 'ordered')).toBe('user000000000007');
  });

  it('matches a BigInt transcription for any 53-bit value', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), (v) => {
        expect(big(fnvhash64(v))).toBe(refFnvhash64(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('reduces mod n and prints exactly', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (v, n) => {
        const h = fnvhash64(v);
        expect(mod64(h, n)).toBe(Number(refFnvhash64(v) % BigInt(n)));
        expect(mod64(h, (n % 1000) + 1)).toBe(Number(refFnvhash64(v) % BigInt((n % 1000) + 1)));
        expect(toDecimal(h)).toBe(refFnvhash64(v).toString());
      }),
      { numRuns: 1000 },
    );
  });

  it('hashes strings as FNV-1a-64', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii' }), (s) => {
        expect(big(fnv1a64String(s))).toBe(refString(s));
      }),
    );
  });
});

describe('zeta', () => {
  it('Euler–Maclaurin reproduces YCSB ZETAN = ζ(10^10, 0.99)', () => {
    // YCSB's constant is itself a 10^10-term float sum; agreement to 1e-11 relative.
    expect(Math.abs(zetaEulerMaclaurin(YCSB_SCRAMBLED_ITEM_COUNT, 0.99) / YCSB_SCRAMBLED_ZETAN - 1)).toBeLessThan(1e-11);
  });

  it('Euler–Maclaurin agrees with exact summation', () => {
    for (const theta of [0, 0.3, 0.5, 0.8, 0.99]) {
      for (const n of [1, 2, 999, 1000, 1001, 54321, 1_000_000]) {
        const exact = zetaRange(0, n, theta);
        expect(Math.abs(zetaEulerMaclaurin(n, theta) / exact - 1)).toBeLessThan(1e-12);
      }
    }
    expect(zeta(10, 0)).toBe(10);
  });

  it('extends incrementally', () => {
    expect(zetaRange(500, 800, 0.9, zetaRange(0, 500, 0.9))).toBeCloseTo(zetaRange(0, 800, 0.9), 12);
  });
});

describe('FeistelPermutation', () => {
  it('is a bijection of [0, n)', () => {
    for (const n of [1, 2, 3, 7, 100, 1000, 4097]) {
      const perm = new FeistelPermutation(n);
      const seen = new Set<number>();
      for (let i = 0; i < n; i++) {
        const y = perm.apply(i);
        expect(y).toBeGreaterThanOrEqual(0);
        expect(y).toBeLessThan(n);
        seen.add(y);
      }
      expect(seen.size).toBe(n);
    }
  });

  it('stays in range for large domains', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 52 }), fc.nat(), (n, x) => {
        const y = new FeistelPermutation(n).apply(x % n);
        expect(Number.isInteger(y) && y >= 0 && y < n).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('KeySpace', () => {
  it('acknowledges like YCSB AcknowledgedCounterGenerator', () => {
    const ks = new KeySpace(10);
    expect(ks.lastAcknowledged()).toBe(9);
    const a = ks.nextInsert();
    const b = ks.nextInsert();
    const c = ks.nextInsert();
    expect([a, b, c]).toEqual([10, 11, 12]);
    ks.acknowledge(b);
    expect(ks.lastAcknowledged()).toBe(9); // 10 still in flight
    ks.acknowledge(a);
    expect(ks.lastAcknowledged()).toBe(11);
    ks.acknowledge(c);
    expect(ks.lastAcknowledged()).toBe(12);
  });

  it('partitions inserted key numbers between clients', () => {
    const spaces = [0, 1, 2].map((offset) => new KeySpace(100, { stride: 3, offset }));
    const nums = new Set<number>();
    for (const ks of spaces) {
      expect(ks.keynum(42)).toBe(42);
      for (let i = 0; i < 50; i++) nums.add(ks.keynum(ks.nextInsert()));
    }
    expect(nums.size).toBe(150);
    for (const n of nums) expect(n).toBeGreaterThanOrEqual(100);
  });
});
