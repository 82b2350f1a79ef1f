import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { generateHistory, type GenerateOptions } from '../../src/check/generate.js';
import type { History, HistoryEvent, OpFn } from '../../src/check/history.js';
import { kvModel, type KvState } from '../../src/check/kv-model.js';
import { checkLinearizability, groupByKey, linearizableOps, withoutOp } from '../../src/check/linearizability.js';
import { toOps, type Op } from '../../src/check/ops.js';

const genOptions = fc.record({
  ops: fc.integer({ min: 1, max: 60 }),
  processes: fc.integer({ min: 1, max: 6 }),
  keys: fc.integer({ min: 1, max: 4 }),
  fns: fc.subarray(['get', 'put', 'append', 'cas'] as OpFn[], { minLength: 1 }),
  // Unknown outcomes make a failing search exponential in how many overlap; keep them realistic.
  infoRate: fc.constantFrom(0, 0.03, 0.1),
  failRate: fc.constantFrom(0, 0.05, 0.2),
  init: fc.constantFrom(null, 'i0'),
  timed: fc.boolean(),
  seed: fc.integer(),
});

function generated(o: GenerateOptions & { seed: number }): History {
  return generateHistory(o, seedrandom.alea(`prop/${o.seed}`));
}

/** Appends strictly sequential operations after everything in `history` (new processes). */
function withTail(history: History, tail: { f: OpFn; key: string; value: unknown; read?: string | null }[]): History {
  const events = history.events.map((e) => ({ ...e }));
  const timed = events.length > 0 && events.every((e) => e.time !== undefined);
  let t = timed ? events[events.length - 1]!.time! : 0;
  const process = 1000;
  const push = (e: HistoryEvent): void => {
    if (timed) e.time = ++t;
    events.push(e);
  };
  for (const op of tail) {
    push({ process, type: 'invoke', f: op.f, key: op.key, value: op.f === 'get' ? null : op.value });
    push({ process, type: 'ok', f: op.f, key: op.key, value: op.f === 'get' ? op.read : op.value });
  }
  return { init: history.init, events };
}

/** Checks the report for one planted bug: it is found on `key`, and its minimal set is 1-minimal. */
function expectMinimalViolation(history: History, key: string): void {
  const r = checkLinearizability(history);
  expect(r.linearizable).toBe(false);
  expect(r.violations.map((v) => v.key)).toEqual([key]);
  const minimal = r.violations[0]!.minimalOps!;
  expect(minimal.length).toBeGreaterThan(0);
  expect(minimal.every((op) => op.key === key)).toBe(true);
  expectOneMinimal(history.init, minimal, groupByKey(toOps(history)).get(key)!);
}

function expectOneMinimal(init: KvState, minimal: Op[], keyOps: Op[]): void {
  const hasAppends = keyOps.some((op) => op.f === 'append' && op.status !== 'fail');
  expect(linearizableOps(init, minimal)).toBe(false);
  for (const op of minimal) expect(linearizableOps(init, withoutOp(init, minimal, op, hasAppends))).toBe(true);
}

const keyOf = (o: { keys: number }, pick: number): string => `k${pick % o.keys}`;

describe('properties: histories linearizable by construction', () => {
  it('always pass', () => {
    fc.assert(
      fc.property(genOptions, (o) => {
        const r = checkLinearizability(generated(o));
        expect(r.violations).toEqual([]);
        expect(r.linearizable).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('pass with many processes and heavy concurrency', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const o = { ops: 400, processes: 8, keys: 2, infoRate: 0.03, failRate: 0.03, timed: true, seed };
        expect(checkLinearizability(generated(o)).linearizable).toBe(true);
      }),
      { numRuns: 20 },
    );
  });
});

describe('properties: planted bugs always fail, with a 1-minimal report', () => {
  it('a stale read', () => {
    fc.assert(
      fc.property(genOptions, fc.nat(), (o, pick) => {
        const key = keyOf(o, pick);
        const hist = withTail(generated(o), [
          { f: 'put', key, value: 'A!' },
          { f: 'put', key, value: 'B!' },
          { f: 'get', key, value: null, read: 'A!' },
        ]);
        expectMinimalViolation(hist, key);
      }),
      { numRuns: 150 },
    );
  });

  it('a lost write (an acknowledged append, or a put read back as absent)', () => {
    fc.assert(
      fc.property(genOptions, fc.nat(), fc.boolean(), (o, pick, viaAppend) => {
        const key = keyOf(o, pick);
        const tail = viaAppend
          ? [
              { f: 'put' as const, key, value: 'A!' },
              { f: 'append' as const, key, value: '+B!' },
              { f: 'get' as const, key, value: null, read: 'A!' },
            ]
          : [
              { f: 'put' as const, key, value: 'A!' },
              { f: 'get' as const, key, value: null, read: null },
            ];
        expectMinimalViolation(withTail(generated(o), tail), key);
      }),
      { numRuns: 150 },
    );
  });

  it('a wrong cas result', () => {
    fc.assert(
      fc.property(genOptions, fc.nat(), fc.boolean(), (o, pick, stale) => {
        const key = keyOf(o, pick);
        const tail = stale
          ? [
              { f: 'put' as const, key, value: 'A!' },
              { f: 'put' as const, key, value: 'B!' },
              { f: 'cas' as const, key, value: ['A!', 'C!'] },
            ]
          : [
              { f: 'put' as const, key, value: 'A!' },
              { f: 'cas' as const, key, value: ['Z!', 'C!'] },
            ];
        expectMinimalViolation(withTail(generated(o), tail), key);
      }),
      { numRuns: 150 },
    );
  });

  it('a read of a value never written (planted inside the history)', () => {
    fc.assert(
      fc.property(genOptions, fc.nat(), (o, pick) => {
        const hist = generated({ ...o, fns: [...new Set<OpFn>([...o.fns, 'get'])] });
        const reads = hist.events.map((e, i) => [e, i] as const).filter(([e]) => e.f === 'get' && e.type === 'ok');
        fc.pre(reads.length > 0);
        const [e] = reads[pick % reads.length]!;
        e.value = 'never-written';
        expectMinimalViolation(hist, e.key);
      }),
      { numRuns: 150 },
    );
  });
});

/** Every order of the ops (and every choice of which info ops took effect), checked one by one. */
function bruteForce(init: KvState, all: Op[]): boolean {
  const ops = all.filter((op) => op.status !== 'fail' && !(op.f === 'get' && op.status !== 'ok'));
  const optional = ops.filter((op) => op.end === Infinity);
  const model = kvModel(init);
  const orders = (remaining: Op[], state: KvState): boolean => {
    if (remaining.length === 0) return true;
    return remaining.some((op) => {
      if (remaining.some((q) => q !== op && q.end < op.start)) return false;
      const [ok, next] = model.step(state, { f: op.f, value: op.input }, op.output);
      return ok && orders(remaining.filter((q) => q !== op), next);
    });
  };
  for (let mask = 0; mask < 1 << optional.length; mask++) {
    const dropped = new Set(optional.filter((_, i) => (mask >> i) & 1));
    if (orders(ops.filter((op) => !dropped.has(op)), init)) return true;
  }
  return false;
}

const smallOp = fc.record({
  f: fc.constantFrom<OpFn>('get', 'put', 'append', 'cas'),
  status: fc.constantFrom('ok', 'ok', 'ok', 'info', 'fail', 'pending'),
  value: fc.constantFrom('a', 'b'),
  expected: fc.constantFrom(null, 'a', 'b'),
  read: fc.constantFrom(null, 'a', 'b', 'ab', 'ba', 'aa'),
  start: fc.integer({ min: 0, max: 12 }),
  length: fc.integer({ min: 0, max: 6 }),
});

type SmallOp = typeof smallOp extends fc.Arbitrary<infer T> ? T : never;

/** One key, one process per op, timed (so ties happen): random and often non-linearizable. */
function smallHistory(init: KvState, specs: SmallOp[]): History {
  const timed: { t: number; order: number; e: HistoryEvent }[] = [];
  specs.forEach((s, p) => {
    const value = s.f === 'get' ? null : s.f === 'cas' ? [s.expected, s.value] : s.value;
    timed.push({ t: s.start, order: 0, e: { process: p, type: 'invoke', f: s.f, key: 'x', value, time: s.start } });
    if (s.status === 'pending') return;
    const done = s.f === 'get' ? (s.status === 'ok' ? s.read : null) : value;
    const t = s.start + s.length;
    timed.push({ t, order: 1, e: { process: p, type: s.status as 'ok' | 'info' | 'fail', f: s.f, key: 'x', value: done, time: t } });
  });
  timed.sort((a, b) => a.t - b.t || a.order - b.order);
  return { init, events: timed.map((x) => x.e) };
}

describe('properties: agreement with brute force on small histories', () => {
  it('linearizable exactly when some order (and choice of info effects) explains the history', () => {
    let violations = 0;
    fc.assert(
      fc.property(fc.constantFrom(null, 'a'), fc.array(smallOp, { minLength: 0, maxLength: 6 }), (init, specs) => {
        const history = smallHistory(init, specs);
        const expected = bruteForce(init, toOps(history));
        const r = checkLinearizability(history);
        expect(r.linearizable).toBe(expected);
        if (!expected) {
          violations++;
          const keyOps = toOps(history);
          expectOneMinimal(init, r.violations[0]!.minimalOps!, keyOps);
        }
      }),
      { numRuns: 3000 },
    );
    // The generator must exercise both outcomes.
    expect(violations).toBeGreaterThan(100);
  });
});
