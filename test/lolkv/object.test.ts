import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HEADER_BYTES, compareStamp, compareVersion, decodeObject, encodeObject, objectBytes, padded } from '../../src/protocols/lolkv/object.js';

const fields = fc.record({
  term: fc.integer({ min: 0, max: 2 ** 40 }),
  inc: fc.integer({ min: 0, max: 2 ** 40 }),
  wterm: fc.integer({ min: 0, max: 2 ** 40 }),
  gen: fc.integer({ min: 0, max: 2 ** 31 }),
  clientId: fc.integer({ min: 0, max: 2 ** 31 }),
  reqId: fc.integer({ min: 0, max: 2 ** 40 }),
  key: fc.string({ minLength: 1, maxLength: 24 }),
  value: fc.string({ maxLength: 120 }),
});

describe('LoLKV object codec', () => {
  it('round-trips every field and reports its padded size', () => {
    fc.assert(
      fc.property(fields, (o) => {
        const b = encodeObject(o);
        expect(b.length % 8).toBe(0);
        expect(b.length).toBe(objectBytes(o.key, o.value));
        const d = decodeObject(b, 0, b.length);
        expect(d.kind).toBe('ok');
        if (d.kind !== 'ok') return;
        expect({ ...d.obj, size: undefined, crc: undefined }).toEqual({ ...o, size: undefined, crc: undefined });
        expect(d.obj.size).toBe(b.length);
      }),
    );
  });

  it('detects a torn object: any non-empty set of 8-byte words reverted to older contents', () => {
    fc.assert(
      fc.property(fields, fields, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (o, older, picks) => {
        const b = encodeObject(o);
        const old = new Uint8Array(b.length);
        old.set(encodeObject(older).subarray(0, b.length));
        const torn = b.slice();
        const words = b.length / 8;
        let changed = false;
        for (const p of picks) {
          const w = p % words;
          for (let i = 0; i < 8; i++) {
            if (torn[w * 8 + i] !== old[w * 8 + i]) changed = true;
            torn[w * 8 + i] = old[w * 8 + i]!;
          }
        }
        fc.pre(changed);
        const d = decodeObject(torn, 0, torn.length);
        // Either rejected, or (the old words happened to rebuild a different valid object) never this one.
        if (d.kind === 'ok') expect(d.obj.crc).not.toBe(decodeObject(b, 0, b.length).kind === 'ok' ? (decodeObject(b, 0, b.length) as { obj: { crc: number } }).obj.crc : -1);
        else expect(d.kind).not.toBe('ok');
      }),
    );
  });

  it('detects an interrupted WRITE: only a prefix of the object landed over zeros', () => {
    fc.assert(
      fc.property(fields, fc.nat(), (o, cut) => {
        const b = encodeObject(o);
        const n = 8 + ((cut % (b.length / 8 - 1)) * 8); // a word-aligned prefix, not the whole object
        fc.pre(n < HEADER_BYTES + 2 || b.subarray(n).some((x) => x !== 0));
        const landed = new Uint8Array(b.length);
        landed.set(b.subarray(0, n));
        expect(decodeObject(landed, 0, landed.length).kind).not.toBe('ok');
      }),
    );
  });

  it('an all-zero region decodes as empty, and an object never runs past its limit', () => {
    expect(decodeObject(new Uint8Array(256), 0, 256).kind).toBe('empty');
    const b = encodeObject({ term: 1, inc: 1, wterm: 1, gen: 1, clientId: 1, reqId: 1, key: 'k', value: 'v'.repeat(100) });
    expect(decodeObject(b, 0, b.length - 8).kind).toBe('torn');
    expect(padded(1)).toBe(8);
  });

  it('orders versions by (term, inc) and write stamps by (wterm, gen)', () => {
    expect(compareVersion({ term: 2, inc: 1 }, { term: 1, inc: 99 })).toBeGreaterThan(0);
    expect(compareVersion({ term: 1, inc: 5 }, { term: 1, inc: 6 })).toBeLessThan(0);
    expect(compareStamp({ wterm: 3, gen: 1 }, { wterm: 2, gen: 9 })).toBeGreaterThan(0);
    expect(compareStamp({ wterm: 3, gen: 2 }, { wterm: 3, gen: 2 })).toBe(0);
  });
});
