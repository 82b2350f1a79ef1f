/**
 * PM crash semantics under crash policy 'tear'.
 *
 * P1: a word whose last store was persisted (store, then a persist covering it returned) before the
 *     crash holds that value after the crash and after the region is reopened.
 * P2: no value out of thin air: after a crash every 8-byte word holds a value that was stored there
 *     at some time (the initial zero included), whatever mix of CPU stores, writes, CASes, persists
 *     and NIC WRITEs / CASes (DDIO on and off) ran before it.
 * P3: with DDIO off, a NIC WRITE whose completion the requester saw is durable: after a crash of the
 *     target each word it covered holds its value or that of a later WRITE.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/platform/index.js';
import { Access, at, makeCluster, mem, plat, runOk, runs, spawn, tryConnectPair, word } from './helpers.js';

const WORDS = 128;
const BYTES = WORDS * 8;

type CpuOp =
  | { k: 'store'; w: number }
  | { k: 'write'; w: number; n: number }
  | { k: 'cas'; w: number; hit: boolean }
  | { k: 'persist'; w: number; n: number }
  | { k: 'sleep'; ns: number };

const cpuOpArb = (words: number): fc.Arbitrary<CpuOp> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.record({ k: fc.constant('store' as const), w: fc.nat(words - 1) }) },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('write' as const), w: fc.nat(words - 1), n: fc.integer({ min: 1, max: 24 }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('cas' as const), w: fc.nat(words - 1), hit: fc.boolean() }) },
    { weight: 3, arbitrary: fc.record({ k: fc.constant('persist' as const), w: fc.nat(words - 1), n: fc.integer({ min: 1, max: 40 }) }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('sleep' as const), ns: fc.integer({ min: 0, max: 3000 }) }) },
  );

type NicOp = { k: 'write'; w: number; n: number } | { k: 'cas'; w: number; hit: boolean };

const nicOpArb: fc.Arbitrary<NicOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('write' as const), w: fc.nat(WORDS - 1), n: fc.integer({ min: 1, max: 80 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('cas' as const), w: fc.nat(WORDS - 1), hit: fc.boolean() }) },
);

/** A fresh value for every store: never 0, never repeated within a run. */
function valueGen(seed: number): () => number {
  let n = seed * 1_000_003;
  return () => (n = (n + 7919) % 9_000_000_000_000_000) + 1;
}

describe('PM crash: persisted words survive (property)', () => {
  it("store + persist before a crash survives it under 'tear'", () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          threads: fc.array(fc.array(cpuOpArb(WORDS), { minLength: 1, maxLength: 120 }), { minLength: 1, maxLength: 3 }),
          crashAt: fc.integer({ min: 0, max: 60_000 }),
          restart: fc.boolean(),
        }),
        ({ seed, threads, crashAt, restart }) => {
          const c = makeCluster({ seed, servers: 1, crashPolicy: 'tear' });
          const p = plat(c, 0);
          const m = mem(p.memory.pm('pm', BYTES));
          const nt = threads.length;
          const next = valueGen(seed);
          const last = new Array<number>(WORDS).fill(0);
          const persisted = new Array<number | undefined>(WORDS).fill(undefined);
          threads.forEach((ops, ti) => {
            // Thread ti owns the words w with w % nt === ti: nobody else stores to them.
            const own = (w: number) => w - (w % nt) + ti < WORDS ? w - (w % nt) + ti : ti;
            spawn(c, 0, `t${ti}`, function* (): Task<void> {
              for (const op of ops) {
                if (op.k === 'store') {
                  const w = own(op.w);
                  const v = next();
                  yield* m.store64(w * 8, v);
                  last[w] = v;
                } else if (op.k === 'write') {
                  // A run of owned words (stride nt) written one by one through a multi-word write when nt === 1.
                  if (nt === 1) {
                    const n = Math.min(op.n, WORDS - op.w);
                    const bytes = new Uint8Array(n * 8);
                    const vs: number[] = [];
                    for (let i = 0; i < n; i++) {
                      const v = next();
                      vs.push(v);
                      bytes.set(word(v), i * 8);
                    }
                    yield* m.write(op.w * 8, bytes);
                    vs.forEach((v, i) => (last[op.w + i] = v));
                  } else {
                    const w = own(op.w);
                    const v = next();
                    yield* m.write(w * 8, word(v));
                    last[w] = v;
                  }
                } else if (op.k === 'cas') {
                  const w = own(op.w);
                  const v = next();
                  const old = yield* m.cas64(w * 8, op.hit ? last[w]! : last[w]! + 1, v);
                  if (old === last[w] && op.hit) last[w] = v;
                } else if (op.k === 'persist') {
                  const n = Math.min(op.n, WORDS - op.w);
                  const snapshot = last.slice(op.w, op.w + n);
                  yield* m.persist(op.w * 8, n * 8);
                  for (let i = 0; i < n; i++) {
                    const w = op.w + i;
                    if (w % nt === ti) persisted[w] = snapshot[i];
                  }
                } else {
                  yield* p.rt.sleep(op.ns);
                }
              }
            });
          });
          at(c, crashAt, () => c.crash(0));
          runOk(c);
          let view = m;
          if (restart) {
            c.restart(0);
            view = mem(plat(c, 0).memory.pm('pm', BYTES));
            expect(view).toBe(m);
          }
          for (let w = 0; w < WORDS; w++) {
            const pv = persisted[w];
            // Persisted and not overwritten since: must have survived.
            if (pv !== undefined && pv === last[w]) expect(view.peek64(w * 8)).toBe(pv);
          }
        },
      ),
      { numRuns: runs(150) },
    );
  });

  it("'tear' really tears: unpersisted words are kept or lost word by word", () => {
    const c = makeCluster({ servers: 1, crashPolicy: 'tear', seed: 5 });
    const m = mem(plat(c, 0).memory.pm('pm', BYTES));
    spawn(c, 0, 't', function* () {
      for (let w = 0; w < WORDS; w++) yield* m.store64(w * 8, w + 1);
    });
    runOk(c);
    c.crash(0);
    let kept = 0;
    for (let w = 0; w < WORDS; w++) {
      const v = m.peek64(w * 8);
      expect([0, w + 1]).toContain(v);
      if (v !== 0) kept++;
    }
    expect(kept).toBeGreaterThan(10);
    expect(kept).toBeLessThan(WORDS - 10);
  });
});

describe('PM crash: no value out of thin air (property)', () => {
  it('every word holds a value once stored there (CPU + NIC, DDIO on and off)', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          ddio: fc.boolean(),
          cpu: fc.array(fc.array(cpuOpArb(WORDS), { minLength: 0, maxLength: 100 }), { minLength: 1, maxLength: 2 }),
          nic: fc.array(fc.array(nicOpArb, { minLength: 0, maxLength: 60 }), { minLength: 0, maxLength: 2 }),
          window: fc.integer({ min: 1, max: 16 }),
          crashAt: fc.integer({ min: 0, max: 80_000 }),
          // Alternatively crash right after the n-th DMA placement into the region (mid-WRITE crash points).
          crashAfterDma: fc.option(fc.nat(400), { nil: undefined }),
        }),
        ({ seed, ddio, cpu, nic, window, crashAt, crashAfterDma }) => {
          const c = makeCluster({ seed, servers: 3, ddio, crashPolicy: 'tear' });
          const p = plat(c, 0);
          const m = mem(p.memory.pm('pm', BYTES));
          const key = p.fabric.registerMemory(m, Access.ALL);
          const seen: Set<number>[] = Array.from({ length: WORDS }, () => new Set([0]));
          const next = valueGen(seed);
          cpu.forEach((ops, ti) => {
            spawn(c, 0, `cpu${ti}`, function* (): Task<void> {
              for (const op of ops) {
                if (op.k === 'store') {
                  const v = next();
                  seen[op.w]!.add(v);
                  yield* m.store64(op.w * 8, v);
                } else if (op.k === 'write') {
                  const n = Math.min(op.n, WORDS - op.w);
                  const bytes = new Uint8Array(n * 8);
                  for (let i = 0; i < n; i++) {
                    const v = next();
                    seen[op.w + i]!.add(v);
                    bytes.set(word(v), i * 8);
                  }
                  yield* m.write(op.w * 8, bytes);
                } else if (op.k === 'cas') {
                  const v = next();
                  seen[op.w]!.add(v);
                  const cur = m.peek64(op.w * 8);
                  yield* m.cas64(op.w * 8, op.hit ? cur : cur + 1, v);
                } else if (op.k === 'persist') {
                  yield* m.persist(op.w * 8, Math.min(op.n, WORDS - op.w) * 8);
                } else {
                  yield* p.rt.sleep(op.ns);
                }
              }
            });
          });
          nic.forEach((ops, ri) => {
            const node = 1 + ri;
            spawn(c, node, `nic${ri}`, function* (): Task<void> {
              const pair = yield* tryConnectPair(c, node, 0);
              if (pair === null) return;
              let outstanding = 0;
              for (const op of ops) {
                while (outstanding >= window) {
                  const x = yield* pair.cq.next(1_000_000);
                  if (x === null) return;
                  outstanding--;
                }
                if (op.k === 'write') {
                  const n = Math.min(op.n, WORDS - op.w);
                  const bytes = new Uint8Array(n * 8);
                  for (let i = 0; i < n; i++) {
                    const v = next();
                    seen[op.w + i]!.add(v);
                    bytes.set(word(v), i * 8);
                  }
                  yield* pair.qp.write(bytes, { rkey: key.rkey, offset: op.w * 8 });
                } else {
                  const v = next();
                  seen[op.w]!.add(v);
                  yield* pair.qp.cas({ rkey: key.rkey, offset: op.w * 8 }, op.hit ? m.peek64(op.w * 8) : 1, v);
                }
                outstanding++;
              }
            });
          });
          if (crashAfterDma === undefined) at(c, crashAt, () => c.crash(0));
          else {
            let n = 0;
            const orig = m.nicWrite.bind(m);
            m.nicWrite = (off, bytes, now) => {
              const r = orig(off, bytes, now);
              if (n++ === crashAfterDma) at(c, c.sim.now, () => c.crash(0));
              return r;
            };
          }
          runOk(c);
          for (let w = 0; w < WORDS; w++) {
            const v = m.peek64(w * 8);
            if (!seen[w]!.has(v)) throw new Error(`word ${w} holds ${v}, never stored there`);
          }
        },
      ),
      { numRuns: runs(150) },
    );
  });
});

describe('PM crash: remote persistence with DDIO off (property)', () => {
  it('a completed NIC WRITE survives a target crash (DDIO off)', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          writes: fc.array(fc.record({ w: fc.nat(WORDS - 1), n: fc.integer({ min: 1, max: 100 }) }), { minLength: 1, maxLength: 60 }),
          window: fc.integer({ min: 1, max: 16 }),
          crashAt: fc.integer({ min: 0, max: 60_000 }),
        }),
        ({ seed, writes, window, crashAt }) => {
          const c = makeCluster({ seed, servers: 2, ddio: false, crashPolicy: 'tear' });
          const p = plat(c, 0);
          const m = mem(p.memory.pm('pm', BYTES));
          const key = p.fabric.registerMemory(m, Access.ALL);
          const next = valueGen(seed);
          const payloads: { w: number; vs: number[] }[] = [];
          let completed = 0;
          spawn(c, 1, 'writer', function* (): Task<void> {
            const pair = yield* tryConnectPair(c, 1, 0);
            if (pair === null) return;
            let outstanding = 0;
            for (let k = 0; k < writes.length; k++) {
              while (outstanding >= window) {
                const x = yield* pair.cq.next(1_000_000);
                if (x === null || x.status !== 'success') return;
                completed++;
                outstanding--;
              }
              const { w, n: n0 } = writes[k]!;
              const n = Math.min(n0, WORDS - w);
              const vs = Array.from({ length: n }, () => next());
              payloads.push({ w, vs });
              const bytes = new Uint8Array(n * 8);
              vs.forEach((v, i) => bytes.set(word(v), i * 8));
              yield* pair.qp.write(bytes, { rkey: key.rkey, offset: w * 8 }, { wrId: k });
              outstanding++;
            }
            while (outstanding > 0) {
              const x = yield* pair.cq.next(1_000_000);
              if (x === null || x.status !== 'success') return;
              completed++;
              outstanding--;
            }
          });
          at(c, crashAt, () => c.crash(0));
          runOk(c);
          // Completions arrive in posting order: WRs 0..completed-1 are acknowledged.
          for (let w = 0; w < WORDS; w++) {
            let lastDone = -1;
            for (let k = 0; k < completed; k++) {
              const pl = payloads[k]!;
              if (w >= pl.w && w < pl.w + pl.vs.length) lastDone = k;
            }
            if (lastDone < 0) continue;
            const allowed = new Set<number>();
            for (let k = lastDone; k < payloads.length; k++) {
              const pl = payloads[k]!;
              if (w >= pl.w && w < pl.w + pl.vs.length) allowed.add(pl.vs[w - pl.w]!);
            }
            const v = m.peek64(w * 8);
            if (!allowed.has(v)) throw new Error(`word ${w}: ${v} is not the acknowledged WRITE's value or a later one`);
          }
        },
      ),
      { numRuns: runs(120) },
    );
  });
});
