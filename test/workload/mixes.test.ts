import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../sim/rng.js';
import { parseWorkload } from '../../src/workload/config.js';
import { type Op, OpGenerator, configuredMix, resolvedDistribution } from '../../src/workload/generator.js';
import { YCSB_PRESETS } from '../../src/workload/mixes.js';
import type { OpKind } from '../../src/workload/stats.js';

const gen = (workload: unknown, seed = 1, extra: Partial<ConstructorParameters<typeof OpGenerator>[1]> = {}): OpGenerator =>
  new OpGenerator(parseWorkload(workload), { clientId: 7, rng: (p) => new SeededRng(seed, p), ...extra });

function counts(g: OpGenerator, n: number, ack = true): { byKind: Map<OpKind, number>; ops: Op[] } {
  const byKind = new Map<OpKind, number>();
  const ops: Op[] = [];
  for (let i = 0; i < n; i++) {
    const op = g.next();
    ops.push(op);
    byKind.set(op.kind, (byKind.get(op.kind) ?? 0) + 1);
    if (ack && op.kind === 'insert') g.insertDone(op.index);
  }
  return { byKind, ops };
}

describe('YCSB core workload mixes', () => {
  const N = 40_000;
  for (const w of ['A', 'B', 'C', 'D', 'E', 'F'] as const) {
    it(`workload ${w}: ${YCSB_PRESETS[w].summary}`, () => {
      const g = gen({ ycsb: w, keys: 1000, opsPerClient: N });
      expect(g.distribution).toBe(YCSB_PRESETS[w].distribution);
      const { byKind } = counts(g, N);
      for (const [op, p] of Object.entries(YCSB_PRESETS[w].mix) as [OpKind, number][]) {
        const se = Math.sqrt((p * (1 - p)) / N);
        expect(Math.abs((byKind.get(op) ?? 0) / N - p)).toBeLessThanOrEqual(Math.max(5 * se, 1e-9));
      }
      for (const op of byKind.keys()) expect(YCSB_PRESETS[w].mix[op]).toBeGreaterThan(0);
    });
  }

  it('E: scan lengths are uniform in 1..maxScanLength', () => {
    const g = gen({ ycsb: 'E', keys: 1000 });
    let sum = 0;
    let n = 0;
    const seen = new Set<number>();
    for (let i = 0; i < 20_000; i++) {
      const op = g.next();
      if (op.kind === 'insert') g.insertDone(op.index);
      if (op.kind !== 'scan') continue;
      expect(op.count).toBeGreaterThanOrEqual(1);
      expect(op.count).toBeLessThanOrEqual(100);
      seen.add(op.count);
      sum += op.count;
      n++;
    }
    expect(seen.size).toBe(100);
    expect(Math.abs(sum / n - 50.5)).toBeLessThan(1);
  });

  it('D: inserts extend the key space and reads favor the newest keys', () => {
    const g = gen({ ycsb: 'D', keys: 100 });
    const inserted: string[] = [];
    const reads = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const op = g.next();
      if (op.kind === 'insert') {
        inserted.push(op.key);
        g.insertDone(op.index);
      } else reads.set(op.key, (reads.get(op.key) ?? 0) + 1);
    }
    expect(inserted.length).toBeGreaterThan(800);
    expect(new Set(inserted).size).toBe(inserted.length);
    expect(g.keySpace.lastAcknowledged()).toBe(99 + inserted.length);
    // Reads chase the inserts: most land on keys inserted during the run, not the 100 loaded.
    const insertedSet = new Set(inserted);
    let onInserted = 0;
    let total = 0;
    for (const [k, c] of reads) {
      total += c;
      if (insertedSet.has(k)) onInserted += c;
    }
    expect(onInserted / total).toBeGreaterThan(0.8);
  });

  it('reads never touch a key whose insert has not returned', () => {
    const g = gen({ ycsb: 'custom', mix: { read: 0.5, update: 0, insert: 0.5 }, distribution: 'zipfian', keys: 50, opsPerClient: 4000 });
    const pending = new Set<string>();
    for (let i = 0; i < 4000; i++) {
      const op = g.next();
      if (op.kind === 'insert') pending.add(op.key); // never acknowledged
      else expect(pending.has(op.key)).toBe(false);
    }
  });

  it('F: read-modify-writes carry a new value', () => {
    const { ops } = counts(gen({ ycsb: 'F' }), 1000);
    const values = ops.flatMap((o) => (o.kind === 'readModifyWrite' ? [o.value] : []));
    expect(values.length).toBeGreaterThan(400);
    expect(new Set(values).size).toBe(values.length);
  });

  it('custom mixes and the auto distribution', () => {
    const cfg = parseWorkload({ ycsb: 'custom', mix: { read: 1, update: 3 } });
    expect(configuredMix(cfg)).toEqual({ read: 1, update: 3, insert: 0, scan: 0, readModifyWrite: 0 });
    expect(resolvedDistribution(cfg)).toBe('zipfian');
    expect(resolvedDistribution(parseWorkload({ kind: 'mixed' }))).toBe('uniform');
    expect(resolvedDistribution(parseWorkload({ ycsb: 'D', distribution: 'hotshard' }))).toBe('hotshard');
    const { byKind } = counts(gen({ ycsb: 'custom', mix: { read: 1, update: 3 } }), 20_000);
    expect(Math.abs(byKind.get('update')! / 20_000 - 0.75)).toBeLessThan(0.015);
  });
});

describe('mixed (register) workload', () => {
  it('issues get/put/append/cas on a few keys with the configured weights', () => {
    const g = gen({ kind: 'mixed', mixed: { keys: 3, get: 1, put: 1, append: 1, cas: 1 } });
    const { byKind, ops } = counts(g, 20_000);
    for (const op of ['get', 'put', 'append', 'cas'] as const) expect(Math.abs(byKind.get(op)! / 20_000 - 0.25)).toBeLessThan(0.015);
    expect(new Set(ops.map((o) => o.key))).toEqual(new Set(['k0', 'k1', 'k2']));
  });

  it('cas expects the value the client last saw', () => {
    const g = gen({ kind: 'mixed', mixed: { keys: 1, get: 0, put: 0, append: 0, cas: 1 } });
    const a = g.next();
    expect(a.kind === 'cas' && a.expected).toBe(null);
    g.observe('k0', 'seen');
    const b = g.next();
    expect(b.kind === 'cas' && b.expected).toBe('seen');
    g.forget('k0');
    const c = g.next();
    expect(c.kind === 'cas' && c.expected).toBe(null);
  });

  it('drops operations the client lacks, and refuses an empty mix', () => {
    const g = gen({ kind: 'mixed' }, 1, { capabilities: { append: false, cas: false, scan: false } });
    expect(g.disabledOps).toEqual(['append', 'cas']);
    const { byKind } = counts(g, 2000);
    expect([...byKind.keys()].sort()).toEqual(['get', 'put']);
    expect(() => gen({ ycsb: 'custom', mix: { read: 0, update: 0, scan: 1 } }, 1, { capabilities: { append: false, cas: false, scan: false } })).toThrow(/none of the operations/);
  });
});
