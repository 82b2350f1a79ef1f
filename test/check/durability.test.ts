import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { checkDurability } from '../../src/check/durability.js';
import { generateHistory } from '../../src/check/generate.js';
import type { OpFn } from '../../src/check/history.js';
import { checkLinearizability } from '../../src/check/linearizability.js';
import { h } from './builder.js';

const lost = (b: ReturnType<typeof h>) => checkDurability(b.build()).map(({ key, lostValue, finalValue }) => ({ key, lostValue, finalValue }));

describe('durability: lost acknowledged writes by final reads', () => {
  it('nothing is lost when the final read shows the last write', () => {
    expect(lost(h().put(0, 'x', 'a').ok(0).put(0, 'x', 'b').ok(0).get(9, 'x').ok(9, 'b'))).toEqual([]);
  });

  it('an acknowledged put invoked after the read value was written is lost', () => {
    expect(lost(h().put(0, 'x', 'a').ok(0).put(1, 'x', 'b').ok(1).put(1, 'x', 'c').ok(1).get(9, 'x').ok(9, 'a'))).toEqual([
      { key: 'x', lostValue: 'b', finalValue: 'a' },
      { key: 'x', lostValue: 'c', finalValue: 'a' },
    ]);
  });

  it('a final read of absent loses every acknowledged write', () => {
    expect(lost(h().put(0, 'x', 'a').ok(0).get(9, 'x').ok(9, null))).toEqual([{ key: 'x', lostValue: 'a', finalValue: null }]);
    // ...unless the initial value is what it read and nothing was acknowledged after it.
    expect(lost(h('i').get(9, 'x').ok(9, 'i'))).toEqual([]);
  });

  it('a write concurrent with the source of the final value is not lost (it may have gone first)', () => {
    expect(lost(h().put(0, 'x', 'a').put(1, 'x', 'b').ok(1).ok(0).get(9, 'x').ok(9, 'a'))).toEqual([]);
  });

  it('a write still running when the final read began is not lost', () => {
    expect(lost(h().put(0, 'x', 'a').ok(0).put(1, 'x', 'b').get(9, 'x').ok(9, 'a').ok(1))).toEqual([]);
  });

  it('only acknowledged writes can be lost: info and fail writes are not', () => {
    expect(lost(h().put(0, 'x', 'a').ok(0).put(1, 'x', 'b').info(1).put(2, 'x', 'c').fail(2).get(9, 'x').ok(9, 'a'))).toEqual([]);
  });

  it('an info write may be the source: it may have taken effect last', () => {
    expect(lost(h().put(0, 'x', 'a').info(0).put(1, 'x', 'b').ok(1).get(9, 'x').ok(9, 'a'))).toEqual([]);
  });

  it('append: the acknowledged suffix after the last one the final value shows is lost', () => {
    expect(lost(h().append(0, 'x', '+1').ok(0).append(0, 'x', '+2').ok(0).append(0, 'x', '+3').ok(0).get(9, 'x').ok(9, '+1'))).toEqual([
      { key: 'x', lostValue: '+2', finalValue: '+1' },
      { key: 'x', lostValue: '+3', finalValue: '+1' },
    ]);
    expect(lost(h().append(0, 'x', '+1').ok(0).append(0, 'x', '+2').ok(0).get(9, 'x').ok(9, '+1+2'))).toEqual([]);
  });

  it('cas: a lost swap reports the new value', () => {
    expect(lost(h().put(0, 'x', 'a').ok(0).cas(1, 'x', 'a', 'b').ok(1).get(9, 'x').ok(9, 'a'))).toEqual([{ key: 'x', lostValue: 'b', finalValue: 'a' }]);
  });

  it('the final read is the last acknowledged get of each key; keys without one are skipped', () => {
    const b = h().put(0, 'x', 'a').ok(0).get(9, 'x').ok(9, null).put(0, 'y', 'q').ok(0).get(9, 'x').ok(9, 'a');
    expect(lost(b)).toEqual([]);
  });

  it('a final value nobody wrote is left to the linearizability check', () => {
    expect(lost(h().put(0, 'x', 'a').ok(0).get(9, 'x').ok(9, 'ghost'))).toEqual([]);
  });

  it('reports the lost operation itself', () => {
    const [l] = checkDurability(h().put(0, 'x', 'a').ok(0).put(3, 'x', 'b').ok(3).get(9, 'x').ok(9, 'a').build());
    expect(l!.op.process).toBe(3);
    expect(l!.op.invokeIndex).toBe(2);
  });
});

describe('durability: properties', () => {
  const options = fc.record({
    ops: fc.integer({ min: 0, max: 80 }),
    processes: fc.integer({ min: 1, max: 6 }),
    keys: fc.integer({ min: 1, max: 4 }),
    fns: fc.subarray(['get', 'put', 'append', 'cas'] as OpFn[], { minLength: 1 }),
    infoRate: fc.constantFrom(0, 0.05, 0.2),
    failRate: fc.constantFrom(0, 0.1),
    timed: fc.boolean(),
    seed: fc.integer(),
  });

  it('a correct store with a final-read phase loses nothing (and is linearizable)', () => {
    fc.assert(
      fc.property(options, (o) => {
        const history = generateHistory({ ...o, finalReads: true }, seedrandom.alea(`dur/${o.seed}`));
        expect(checkDurability(history)).toEqual([]);
        expect(checkLinearizability(history).linearizable).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('a final read rolled back to before an acknowledged put reports that put lost', () => {
    fc.assert(
      fc.property(options, fc.nat(), (o, pick) => {
        const history = generateHistory({ ...o, finalReads: true }, seedrandom.alea(`dur/${o.seed}`));
        const key = `k${pick % o.keys}`;
        // Plant before the final read: two sequential acknowledged puts, the read shows the first.
        const finalAt = history.events.findIndex((e) => e.process === o.processes && e.key === key);
        const p = 1000;
        const planted = [
          { process: p, type: 'invoke' as const, f: 'put' as const, key, value: 'P1!' },
          { process: p, type: 'ok' as const, f: 'put' as const, key, value: 'P1!' },
          { process: p, type: 'invoke' as const, f: 'put' as const, key, value: 'P2!' },
          { process: p, type: 'ok' as const, f: 'put' as const, key, value: 'P2!' },
        ];
        if (o.timed) {
          // Strictly increasing times for the plant; everything after it moves later.
          const t = history.events[finalAt]!.time!;
          planted.forEach((e, i) => Object.assign(e, { time: t + 1 + i }));
          for (const e of history.events.slice(finalAt)) e.time! += 10;
        }
        history.events.splice(finalAt, 0, ...planted);
        history.events[finalAt + planted.length + 1]!.value = 'P1!';
        const lost = checkDurability(history);
        expect(lost.map((l) => [l.key, l.lostValue, l.finalValue])).toContainEqual([key, 'P2!', 'P1!']);
      }),
      { numRuns: 200 },
    );
  });
});
