import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/platform/index.js';
import { HashTable } from '../../src/protocols/lolkv/hashtable.js';
import { keyHash, offOf, ptrOf } from '../../src/protocols/lolkv/layout.js';
import { decodeObject, encodeObject } from '../../src/protocols/lolkv/object.js';
import { makeCluster, plat, runOk } from '../sim/helpers.js';

const SEG = 4096;

/**
 * Threads of one simulated node race to install versions of a few keys in the lock-free table
 * (every slot/object access is a scheduling point; the seed's memory jitter decides the
 * interleaving). Whatever the order, each key ends up in exactly one slot, reachable by probing,
 * holding its newest version; a lookup finds it.
 */
describe('lock-free linear-probing hash table', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`keeps each key in one slot at its newest version under concurrent CAS (seed ${seed})`, () => {
      const c = makeCluster({ seed, servers: 1, memoryCosts: { jitterNs: 200 } });
      const p = plat(c, 0);
      const threads = 8;
      const perThread = 12;
      const keys = ['a', 'b', 'c', 'd', 'e'];
      const area = p.memory.pm('area', threads * SEG);
      const slots = 8; // small: forces collisions and probing
      const table = p.memory.dram('table', slots * 8);
      const ht = new HashTable(table, area, slots, SEG, true);
      const newest = new Map<string, number>();
      const outcomes = { installed: 0, replaced: 0, refused: 0 };
      let inc = 0;
      for (let t = 0; t < threads; t++) {
        p.rt.spawn(`t${t}`, function* (): Task<void> {
          let off = t * SEG;
          for (let i = 0; i < perThread; i++) {
            const key = keys[(t + i) % keys.length]!;
            const v = ++inc; // an incarnation, taken before the (racing) apply
            newest.set(key, Math.max(newest.get(key) ?? 0, v));
            const bytes = encodeObject({ term: 1, inc: v, wterm: 1, gen: 1, clientId: t, reqId: i, key, value: `${t}.${i}` });
            yield* area.write(off, bytes);
            yield* p.rt.sleep(p.rt.rng(`t${t}`).int(300));
            const r = yield* ht.apply(key, keyHash(key), ptrOf(off), { term: 1, inc: v }, true);
            outcomes[r.kind]++;
            off += bytes.length;
          }
        });
      }
      runOk(c);
      expect(outcomes.installed).toBe(keys.length);
      const inSlots: string[] = [];
      for (let i = 0; i < slots; i++) {
        const ptr = table.peek64(i * 8);
        if (ptr === 0) continue;
        const off = offOf(ptr);
        const d = decodeObject(area.peek(off, Math.min(256, area.sizeBytes - off)), 0, Math.min(256, area.sizeBytes - off));
        expect(d.kind).toBe('ok');
        if (d.kind === 'ok') inSlots.push(d.obj.key);
      }
      expect(inSlots.sort()).toEqual([...keys].sort()); // each key in exactly one slot
      let checked = 0;
      p.rt.spawn('check', function* (): Task<void> {
        for (const key of keys) {
          const l = yield* ht.lookup(key, keyHash(key), true);
          expect(l.obj?.key).toBe(key);
          expect(l.obj?.inc).toBe(newest.get(key));
          checked++;
        }
      });
      runOk(c);
      expect(checked).toBe(keys.length);
      expect(outcomes.replaced + outcomes.refused + outcomes.installed).toBe(threads * perThread);
    });
  }

  it('without the incarnation check a slot can go back to an older version (what the test-only switch breaks)', () => {
    let wentBack = false;
    for (let seed = 1; seed <= 30 && !wentBack; seed++) {
      const c = makeCluster({ seed, servers: 1, memoryCosts: { jitterNs: 400 } });
      const p = plat(c, 0);
      const area = p.memory.pm('area', 8 * SEG);
      const table = p.memory.dram('table', 64);
      const ht = new HashTable(table, area, 8, SEG, true);
      let inc = 0;
      for (let t = 0; t < 8; t++) {
        p.rt.spawn(`t${t}`, function* (): Task<void> {
          let off = t * SEG;
          for (let i = 0; i < 6; i++) {
            const v = ++inc;
            const bytes = encodeObject({ term: 1, inc: v, wterm: 1, gen: 1, clientId: t, reqId: i, key: 'k', value: String(v) });
            yield* area.write(off, bytes);
            yield* p.rt.sleep(p.rt.rng(`t${t}`).int(500));
            yield* ht.apply('k', keyHash('k'), ptrOf(off), { term: 1, inc: v }, false);
            off += bytes.length;
          }
        });
      }
      runOk(c);
      p.rt.spawn('check', function* (): Task<void> {
        const l = yield* ht.lookup('k', keyHash('k'), true);
        if (l.obj!.inc !== inc) wentBack = true;
      });
      runOk(c);
    }
    expect(wentBack).toBe(true);
  });
});
