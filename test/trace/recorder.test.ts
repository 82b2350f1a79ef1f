import { describe, expect, test } from 'vitest';
import type { TraceRecord } from '../../sim/kernel.js';
import { MemoryRecorder } from '../../sim/trace/index.js';
import { CRASH_AT_NS, recordRun } from './fixture.js';

const rec = (t: number, kind: string, node = 0): TraceRecord => ({ t, node, kind, fields: { i: t } });

describe('MemoryRecorder on a real run', () => {
  test('keeps every record in order; no thread steps unless asked', () => {
    const { rec: r, cluster } = recordRun(7);
    const recs = r.records;
    expect(recs.length).toBe(r.total);
    expect(r.truncated).toBe(false);
    expect(recs.some((x) => x.kind === 'step')).toBe(false);
    for (let i = 1; i < recs.length; i++) expect(recs[i]!.t).toBeGreaterThanOrEqual(recs[i - 1]!.t);
    const kinds = new Set(recs.map((x) => x.kind));
    for (const k of ['node.boot', 'mr.register', 'cm.listen', 'cm.connected', 'rc.write', 'rc.complete', 'fault.crash', 'client.invoke', 'client.ok']) expect(kinds).toContain(k);
    const crash = recs.find((x) => x.kind === 'fault.crash')!;
    expect(crash).toEqual({ t: CRASH_AT_NS, node: 1, kind: 'fault.crash', fields: { boot: 0 } });
    expect(cluster.sim.violation).toBeNull();
    expect(r.kindCounts()['rc.write']).toBe(recs.filter((x) => x.kind === 'rc.write').length);
  });

  test('thread steps are recorded when asked', () => {
    const { rec: r } = recordRun(7, { threadSteps: true });
    const steps = r.records.filter((x) => x.kind === 'step');
    expect(steps.length).toBeGreaterThan(50);
    expect(new Set(steps.map((s) => `${s.node}/${String(s.fields?.thread)}`))).toEqual(new Set(['0/w0', '0/w1', '2/w0', '2/w1', '3/client']));
  });

  test('attaching a recorder does not change the run (same trace hash, events, time)', () => {
    const a = recordRun(11, { record: false });
    const b = recordRun(11);
    const c = recordRun(11, { threadSteps: true });
    for (const x of [b, c]) {
      expect(x.cluster.sim.hash.hex()).toBe(a.cluster.sim.hash.hex());
      expect(x.cluster.sim.events).toBe(a.cluster.sim.events);
      expect(x.cluster.sim.now).toBe(a.cluster.sim.now);
    }
  });

  test('copies fields (a caller may reuse its object)', () => {
    const r = new MemoryRecorder();
    const f = { a: 1 };
    r.record({ t: 0, node: 0, kind: 'x', fields: f });
    f.a = 2;
    expect(r.records[0]!.fields).toEqual({ a: 1 });
  });
});

describe('MemoryRecorder cap', () => {
  test("keep 'first': the first N, counts go on, faults and violations still kept", () => {
    const r = new MemoryRecorder({ maxRecords: 3 });
    for (let t = 0; t < 10; t++) r.record(rec(t, t === 6 ? 'fault.crash' : t === 8 ? 'violation' : 'rc.write'));
    expect(r.total).toBe(10);
    expect(r.truncated).toBe(true);
    expect(r.records.map((x) => x.t)).toEqual([0, 1, 2, 6, 8]);
    expect(r.stats()).toEqual({ total: 10, kept: 5, dropped: 5, truncated: true });
    expect(r.kindCounts()).toEqual({ 'fault.crash': 1, 'rc.write': 8, violation: 1 });
  });

  test("keep 'last': a ring of the last N, evicted faults pinned back in order", () => {
    const r = new MemoryRecorder({ maxRecords: 3, keep: 'last' });
    for (let t = 0; t < 10; t++) r.record(rec(t, t === 1 || t === 4 ? 'fault.link-down' : 'rc.write'));
    expect(r.records.map((x) => x.t)).toEqual([1, 4, 7, 8, 9]);
    expect(r.truncated).toBe(true);
    // Not yet full: plain order.
    const s = new MemoryRecorder({ maxRecords: 5, keep: 'last' });
    for (let t = 0; t < 4; t++) s.record(rec(t, 'x'));
    expect(s.records.map((x) => x.t)).toEqual([0, 1, 2, 3]);
    expect(s.truncated).toBe(false);
  });

  test('maxPinned bounds the pinned records too', () => {
    const r = new MemoryRecorder({ maxRecords: 1, maxPinned: 2 });
    for (let t = 0; t < 6; t++) r.record(rec(t, 'fault.crash'));
    expect(r.records.map((x) => x.t)).toEqual([0, 1, 2]);
    expect(r.pinnedDropped).toBe(3);
  });

  test('a real run under a cap stays truncated but keeps the crash', () => {
    const { rec: r, meta } = recordRun(7, { maxRecords: 10 });
    expect(r.truncated).toBe(true);
    expect(meta.truncated).toBe(true);
    expect(meta.totalRecords).toBeGreaterThan(10);
    expect(r.records.filter((x) => x.kind === 'fault.crash')).toHaveLength(1);
    r.clear();
    expect(r.records).toEqual([]);
    expect(r.total).toBe(0);
  });

  test('rejects a bad cap', () => {
    expect(() => new MemoryRecorder({ maxRecords: -1 })).toThrow(/maxRecords/);
    expect(() => new MemoryRecorder({ maxRecords: 1.5 })).toThrow(/maxRecords/);
  });
});
