import { describe, expect, it } from 'vitest';
import { PayloadPool } from '../../sim/fabric/payloads.js';

describe('PayloadPool: recycled NIC payload buffers', () => {
  it('a copy holds the source bytes and is independent of it', () => {
    const pool = new PayloadPool();
    const src = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const a = pool.copy(src);
    src[0] = 9;
    expect([...a]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...pool.copy(src, 2, 3)]).toEqual([3, 4, 5]);
  });

  it('a released buffer is reused for the next copy of the same length, filled completely', () => {
    const pool = new PayloadPool();
    const a = pool.copy(Uint8Array.from([1, 1, 1, 1]));
    pool.release(a);
    const b = pool.copy(Uint8Array.from([7, 8, 9, 10]));
    expect(b).toBe(a);
    expect([...b]).toEqual([7, 8, 9, 10]);
    // A different length never gets it.
    pool.release(b);
    expect(pool.copy(Uint8Array.from([1, 2, 3]))).not.toBe(b);
  });

  it('oversized buffers and anything past the byte budget are not pooled', () => {
    const pool = new PayloadPool(16, 8);
    const long = new Uint8Array(12);
    pool.release(long);
    expect(pool.copy(new Uint8Array(12))).not.toBe(long);
    const x = new Uint8Array(8);
    const y = new Uint8Array(8);
    const z = new Uint8Array(8);
    pool.release(x);
    pool.release(y);
    pool.release(z); // over the 16-byte budget: dropped
    const got = [pool.copy(new Uint8Array(8)), pool.copy(new Uint8Array(8)), pool.copy(new Uint8Array(8))];
    expect(got.filter((b) => b === x || b === y)).toHaveLength(2);
    expect(got).not.toContain(z);
  });

  it('a range outside the source is an error, never a silently shorter copy', () => {
    const pool = new PayloadPool();
    expect(() => pool.copy(new Uint8Array(8), 4, 8)).toThrow(RangeError);
    expect(() => pool.copy(new Uint8Array(8), -1, 2)).toThrow(RangeError);
  });
});
