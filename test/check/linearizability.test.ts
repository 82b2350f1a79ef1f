import { describe, expect, it } from 'vitest';
import { describeOp } from '../../src/check/describe.js';
import { checkLinearizability, linearizableOps, type KeyViolation } from '../../src/check/linearizability.js';
import { h } from './builder.js';

const lin = (b: { build(): ReturnType<ReturnType<typeof h>['build']> }): boolean => checkLinearizability(b.build()).linearizable;
const firstViolation = (b: ReturnType<typeof h>): KeyViolation => {
  const r = checkLinearizability(b.build());
  expect(r.linearizable).toBe(false);
  return r.violations[0]!;
};
const minimal = (v: KeyViolation): string[] => (v.minimalOps ?? []).map(describeOp);

describe('linearizability: basics', () => {
  it('an empty history is linearizable', () => {
    const r = checkLinearizability({ init: null, events: [] });
    expect(r).toEqual({ linearizable: true, ops: 0, keys: 0, violations: [] });
  });

  it('reads absent before any write, and the initial value when one is given', () => {
    expect(lin(h().get(0, 'x').ok(0, null))).toBe(true);
    expect(lin(h().get(0, 'x').ok(0, 'a'))).toBe(false);
    expect(lin(h('z').get(0, 'x').ok(0, 'z'))).toBe(true);
    expect(lin(h('z').get(0, 'x').ok(0, null))).toBe(false);
  });

  it('sequential put then get must read the last write', () => {
    expect(lin(h().put(0, 'x', 'a').ok(0).put(0, 'x', 'b').ok(0).get(1, 'x').ok(1, 'b'))).toBe(true);
    expect(lin(h().put(0, 'x', 'a').ok(0).put(0, 'x', 'b').ok(0).get(1, 'x').ok(1, 'a'))).toBe(false);
  });

  it('a read concurrent with a write may see either value', () => {
    const both = (read: string | null): boolean => lin(h().put(0, 'x', 'a').get(1, 'x').ok(1, read).ok(0));
    expect(both(null)).toBe(true);
    expect(both('a')).toBe(true);
    expect(both('b')).toBe(false);
  });

  it('once a read sees a concurrent write, a later read cannot see the older value', () => {
    // p0's put is still in flight; p1 sees it, then p2 (strictly later) sees the old value.
    expect(lin(h().put(0, 'x', 'a').get(1, 'x').ok(1, 'a').get(2, 'x').ok(2, null).ok(0))).toBe(false);
  });

  it('keys are independent: the violation names the bad key only', () => {
    const r = checkLinearizability(
      h().put(0, 'x', 'a').ok(0).put(0, 'y', 'b').ok(0).get(1, 'x').ok(1, 'a').get(1, 'y').ok(1, 'zzz').build(),
    );
    expect(r.linearizable).toBe(false);
    expect(r.keys).toBe(2);
    expect(r.violations.map((v) => v.key)).toEqual(['y']);
  });
});

describe('linearizability: append', () => {
  it('appending to an absent key creates it; appends concatenate in linearization order', () => {
    expect(lin(h().append(0, 'x', 'a').ok(0).append(0, 'x', 'b').ok(0).get(1, 'x').ok(1, 'ab'))).toBe(true);
    expect(lin(h().append(0, 'x', 'a').ok(0).append(0, 'x', 'b').ok(0).get(1, 'x').ok(1, 'ba'))).toBe(false);
    expect(lin(h('i').append(0, 'x', 'a').ok(0).get(1, 'x').ok(1, 'ia'))).toBe(true);
  });

  it('concurrent appends may land in either order', () => {
    const read = (v: string): boolean => lin(h().append(0, 'x', 'a').append(1, 'x', 'b').ok(0).ok(1).get(2, 'x').ok(2, v));
    expect(read('ab')).toBe(true);
    expect(read('ba')).toBe(true);
    expect(read('a')).toBe(false);
  });

  it('append after put extends the put value', () => {
    expect(lin(h().put(0, 'x', 'p').ok(0).append(0, 'x', '+1').ok(0).get(0, 'x').ok(0, 'p+1'))).toBe(true);
  });
});

describe('linearizability: cas', () => {
  it('cas ok swaps when the current value equals expected', () => {
    expect(lin(h().put(0, 'x', 'a').ok(0).cas(0, 'x', 'a', 'b').ok(0).get(1, 'x').ok(1, 'b'))).toBe(true);
    expect(lin(h().cas(0, 'x', null, 'b').ok(0).get(1, 'x').ok(1, 'b'))).toBe(true);
  });

  it('cas ok while the value differs from expected is a violation', () => {
    const v = firstViolation(h().put(0, 'x', 'a').ok(0).cas(0, 'x', 'q', 'b').ok(0));
    // Nothing ever wrote "q", so the cas alone cannot be linearized.
    expect(minimal(v)).toEqual(['p0 cas "q" → "b" ok']);
    expect(lin(h().put(0, 'x', 'a').ok(0).cas(0, 'x', null, 'b').ok(0))).toBe(false);
  });

  it('cas fail never takes effect and constrains nothing', () => {
    expect(lin(h().put(0, 'x', 'a').ok(0).cas(0, 'x', 'a', 'b').fail(0).get(1, 'x').ok(1, 'a'))).toBe(true);
    // Even a cas that "should" have matched: fail means it did not take effect.
    expect(lin(h().cas(0, 'x', null, 'b').fail(0).get(1, 'x').ok(1, null))).toBe(true);
    expect(lin(h().cas(0, 'x', null, 'b').fail(0).get(1, 'x').ok(1, 'b'))).toBe(false);
  });

  it('a cas depends on the value it expected: the minimal set keeps its writer', () => {
    // put a; put b; cas a→c ok (stale expectation).
    const v = firstViolation(h().put(0, 'x', 'a').ok(0).put(0, 'x', 'b').ok(0).cas(1, 'x', 'a', 'c').ok(1));
    expect(minimal(v)).toEqual(['p0 put "a" ok', 'p0 put "b" ok', 'p1 cas "a" → "c" ok']);
  });
});

describe('linearizability: info, pending and fail', () => {
  it('an info write may take effect long after its info event', () => {
    const b = h().put(0, 'x', 'a').info(0).get(1, 'x').ok(1, null).get(1, 'x').ok(1, null).get(1, 'x').ok(1, 'a');
    expect(lin(b)).toBe(true);
  });

  it('an info write may never take effect', () => {
    expect(lin(h().put(0, 'x', 'a').info(0).get(1, 'x').ok(1, null))).toBe(true);
    expect(lin(h().put(0, 'x', 'a').ok(0).put(2, 'x', 'b').info(2).get(1, 'x').ok(1, 'a'))).toBe(true);
  });

  it('an info write cannot take effect before it was invoked', () => {
    expect(lin(h().get(1, 'x').ok(1, 'a').put(0, 'x', 'a').info(0))).toBe(false);
  });

  it('an info write takes effect at most once: no flip-flopping', () => {
    const b = h().put(0, 'x', 'a').ok(0).put(2, 'x', 'b').info(2).get(1, 'x').ok(1, 'b').get(1, 'x').ok(1, 'a');
    expect(lin(b)).toBe(false);
  });

  it('an invoke that never completes behaves as info', () => {
    expect(lin(h().put(0, 'x', 'a').get(1, 'x').ok(1, null).get(1, 'x').ok(1, 'a'))).toBe(true);
    const r = checkLinearizability(h().put(0, 'x', 'a').get(1, 'x').ok(1, 'a').get(1, 'x').ok(1, null).build());
    expect(r.linearizable).toBe(false);
    expect(r.violations[0]!.minimalOps!.map(describeOp)).toContain('p0 put "a" pending');
  });

  it('a fail write never took effect: reading its value is a violation', () => {
    expect(lin(h().put(0, 'x', 'a').fail(0).get(1, 'x').ok(1, 'a'))).toBe(false);
    expect(lin(h().put(0, 'x', 'a').fail(0).get(1, 'x').ok(1, null))).toBe(true);
  });

  it('an info or fail get constrains nothing', () => {
    expect(lin(h().put(0, 'x', 'a').ok(0).get(1, 'x').info(1).get(2, 'x').fail(2))).toBe(true);
  });

  it('an info cas takes effect only if its expectation held', () => {
    expect(lin(h().put(0, 'x', 'a').ok(0).cas(1, 'x', 'a', 'b').info(1).get(2, 'x').ok(2, 'b'))).toBe(true);
    expect(lin(h().put(0, 'x', 'a').ok(0).cas(1, 'x', 'q', 'b').info(1).get(2, 'x').ok(2, 'b'))).toBe(false);
  });
});

describe('linearizability: time', () => {
  it('with times on every event, real-time order follows time, not lines', () => {
    // Lines say the get completes before the put starts; equal times say they overlap.
    const b = h().at(0).get(1, 'x').at(5).ok(1, 'a').at(5).put(0, 'x', 'a').at(9).ok(0);
    expect(lin(b)).toBe(true);
    for (const e of b.events) delete e.time;
    expect(lin(b)).toBe(false);
  });

  it('operations touching at one instant are concurrent', () => {
    const touching = h().at(0).put(0, 'x', 'a').at(10).ok(0).at(10).get(1, 'x').at(20).ok(1, null);
    expect(lin(touching)).toBe(true);
    const apart = h().at(0).put(0, 'x', 'a').at(10).ok(0).at(11).get(1, 'x').at(20).ok(1, null);
    expect(lin(apart)).toBe(false);
  });

  it('without times on every event, line order decides', () => {
    const b = h().put(0, 'x', 'a').ok(0).get(1, 'x').ok(1, null);
    b.events[0]!.time = 100; // only some events timed: times are ignored
    expect(lin(b)).toBe(false);
  });
});

describe('linearizability: reports', () => {
  it('a stale read shrinks to the two writes and the read', () => {
    const v = firstViolation(
      h()
        .put(0, 'x', 'a').ok(0)
        .get(3, 'x').ok(3, 'a')
        .put(0, 'x', 'b').ok(0)
        .get(3, 'x').ok(3, 'b')
        .put(2, 'y', 'q').ok(2)
        .get(1, 'x').ok(1, 'a'),
    );
    expect(v.key).toBe('x');
    expect(minimal(v)).toEqual(['p0 put "a" ok', 'p0 put "b" ok', 'p1 get → "a" ok']);
    expect(v.partialLinearization.map((s) => [describeOp(s.op), s.stateAfter])).toEqual([
      ['p0 put "a" ok', 'a'],
      ['p0 put "b" ok', 'b'],
    ]);
  });

  it('a read of a value never written stands alone', () => {
    const v = firstViolation(h().put(0, 'x', 'a').ok(0).get(1, 'x').ok(1, 'ghost'));
    expect(minimal(v)).toEqual(['p1 get → "ghost" ok']);
    expect(v.partialLinearization).toEqual([]);
  });

  it("minimizes only the first violating key by default; 'all' and 'none' are honoured", () => {
    const b = h().get(0, 'x').ok(0, 'g1').get(0, 'y').ok(0, 'g2');
    expect(checkLinearizability(b.build()).violations.map((v) => v.minimalOps !== undefined)).toEqual([true, false]);
    expect(checkLinearizability(b.build(), { minimize: 'all' }).violations.map((v) => v.minimalOps !== undefined)).toEqual([true, true]);
    expect(checkLinearizability(b.build(), { minimize: 'none' }).violations.map((v) => v.minimalOps !== undefined)).toEqual([false, false]);
  });

  it('is deterministic', () => {
    const b = h().put(0, 'x', 'a').put(1, 'x', 'b').ok(0).ok(1).get(2, 'x').ok(2, 'a').get(2, 'x').ok(2, 'b');
    const a1 = JSON.stringify(checkLinearizability(b.build()));
    const a2 = JSON.stringify(checkLinearizability(b.build()));
    expect(a1).toBe(a2);
    expect(JSON.parse(a1).linearizable).toBe(false);
  });

  it('linearizableOps agrees with the whole-history check on one key', () => {
    const hist = h().put(0, 'x', 'a').ok(0).get(1, 'x').ok(1, null).build();
    const r = checkLinearizability(hist);
    expect(linearizableOps(null, r.violations[0]!.minimalOps!)).toBe(false);
  });
});
