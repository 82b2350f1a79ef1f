import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/kv/checksum.js';
import { DecodeError, Reader, Writer } from '../../src/kv/codec.js';

describe('codec', () => {
  it('round-trips any strings (ASCII fast path and UTF-8), integers and bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.option(fc.string({ maxLength: 80 }), { nil: null }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.maxSafeNat(), fc.uint8Array({ maxLength: 40 }), (a, b, u32, u53, bytes) => {
        const w = new Writer(1).str(a).strOrNull(b).u32(u32).u53(u53).u16(bytes.length).bytes(bytes);
        const r = new Reader(w.finish());
        expect(r.str()).toBe(a);
        expect(r.strOrNull()).toBe(b);
        expect(r.u32()).toBe(u32);
        expect(r.u53()).toBe(u53);
        expect(r.bytes(r.u16())).toEqual(bytes);
        expect(r.remaining).toBe(0);
      }),
    );
  });

  it('a truncated message is a DecodeError, not garbage', () => {
    const b = new Writer().str('hello').u53(42).finish();
    for (let n = 0; n < b.length; n++) {
      const r = new Reader(b.subarray(0, n));
      expect(() => {
        r.str();
        r.u53();
      }).toThrow(DecodeError);
    }
  });

  it('u53 rejects values a word cannot hold', () => {
    expect(() => new Writer().u53(-1)).toThrow(RangeError);
    expect(() => new Writer().u53(2 ** 53)).toThrow(RangeError);
  });

  it('crc32c matches the standard check value and detects a flipped bit', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    const b = new TextEncoder().encode('an object that must not tear');
    const c = crc32c(b);
    b[5]! ^= 1;
    expect(crc32c(b)).not.toBe(c);
  });
});
