import { describe, expect, it } from 'vitest';
import { copyBytes } from '../../sim/bytes.js';

describe('copyBytes: slab-carved copies', () => {
  it('each copy holds the source range, is independent of the source and of every other copy', () => {
    const src = new Uint8Array(8192).map((_, i) => i & 0xff);
    const copies = [1, 64, 65, 100, 1000, 4096, 4097, 100, 65].map((n, k) => ({ n, at: k * 3, c: copyBytes(src, k * 3, n) }));
    src.fill(0);
    for (const { n, at, c } of copies) {
      expect(c.length).toBe(n);
      expect([...c]).toEqual(Array.from({ length: n }, (_, i) => (at + i) & 0xff));
      c.fill(0xee); // a copy's writes never reach another copy
    }
    for (const { c } of copies) expect(c.every((b) => b === 0xee)).toBe(true);
  });

  it('copies are 8-byte aligned in their buffer and carry their own offset (DataView over buffer+byteOffset)', () => {
    const src = new Uint8Array(512).fill(7);
    for (let i = 0; i < 2000; i++) {
      const c = copyBytes(src, 1, 100 + (i % 13));
      expect(c.byteOffset % 8).toBe(0);
      expect(new DataView(c.buffer, c.byteOffset, c.byteLength).getUint8(0)).toBe(7);
    }
  });
});
