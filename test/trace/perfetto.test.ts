import { describe, expect, test } from 'vitest';
import type { TraceRecord } from '../../sim/kernel.js';
import { type ChromeEvent, checkChromeTrace, perfettoJson, toPerfetto } from '../../sim/trace/index.js';
import { CRASH_AT_NS, recordRun } from './fixture.js';

function names(evs: ChromeEvent[]) {
  const procs = new Map<number, string>();
  const threads = new Map<string, string>();
  for (const e of evs) {
    if (e.ph !== 'M') continue;
    if (e.name === 'process_name') procs.set(e.pid, String(e.args!.name));
    if (e.name === 'thread_name') threads.set(`${e.pid}/${e.tid}`, String(e.args!.name));
  }
  const trackOf = (e: ChromeEvent) => `${procs.get(e.pid)} / ${threads.get(`${e.pid}/${e.tid}`)}`;
  return { procs, threads, trackOf };
}

/** X events on one thread must nest (Perfetto drops or misdraws partial overlaps). */
function assertNested(evs: ChromeEvent[]) {
  const byTrack = new Map<string, ChromeEvent[]>();
  for (const e of evs) if (e.ph === 'X') (byTrack.get(`${e.pid}/${e.tid}`) ?? byTrack.set(`${e.pid}/${e.tid}`, []).get(`${e.pid}/${e.tid}`)!).push(e);
  for (const list of byTrack.values()) {
    const stack: number[] = [];
    for (const e of [...list].sort((a, b) => a.ts! - b.ts! || b.dur! - a.dur!)) {
      while (stack.length > 0 && stack[stack.length - 1]! <= e.ts! + 1e-9) stack.pop();
      const end = e.ts! + e.dur!;
      if (stack.length > 0) expect(end).toBeLessThanOrEqual(stack[stack.length - 1]! + 1e-9);
      stack.push(end);
    }
  }
}

describe('Perfetto export of a real run', () => {
  const run = recordRun(7);
  const records = run.rec.records;
  const json = perfettoJson(records, run.meta);
  const doc = JSON.parse(json) as { traceEvents: ChromeEvent[]; displayTimeUnit: string; otherData: Record<string, unknown> };
  const evs = doc.traceEvents;
  const { procs, threads, trackOf } = names(evs);

  test('parses and is structurally valid', () => {
    expect(checkChromeTrace(doc)).toEqual([]);
    expect(checkChromeTrace(evs)).toEqual([]);
    expect(doc.displayTimeUnit).toBe('ns');
    expect(doc.otherData).toEqual({ kvlab: 'trace', scenario: 'trace-fixture', seed: 7, traceHash: run.meta.traceHash });
    expect(evs.every((e) => e.pid > 0 && (e.ph === 'M' || e.tid > 0))).toBe(true);
  });

  test('a process per node, named with its role, plus the cluster process', () => {
    expect([...procs.entries()]).toEqual([
      [1, 'node 0 (server)'],
      [2, 'node 1 (server)'],
      [3, 'node 2 (server)'],
      [4, 'node 3 (client)'],
      [5, 'cluster'],
    ]);
    const sort = evs.filter((e) => e.name === 'process_sort_index').map((e) => [e.pid, e.args!.sort_index]);
    expect(sort).toContainEqual([5, 0]);
  });

  test('tracks: events per node, one per QP (named from cm.connected), client process, faults', () => {
    const t = [...threads.values()];
    expect(t.filter((x) => x === 'events')).toHaveLength(4);
    // One track per connected QP, on its node's process, named from its cm.connected record.
    const connected = records.filter((r) => r.kind === 'cm.connected');
    expect(connected).toHaveLength(5);
    const qpTracks = [...threads.entries()].filter(([, name]) => name.startsWith('qp ')).map(([key, name]) => `${key.split('/')[0]} ${name}`);
    expect(qpTracks.sort()).toEqual(connected.map((r) => `${r.node + 1} qp ${r.fields!.qp} → n${r.fields!.to} ${r.fields!.service}`).sort());
    for (const q of ['client p30', 'faults']) expect(t).toContain(q);
    expect(threads.get('4/3')).toBe('client p30');
  });

  test('rc.write + rc.complete become complete events on their QP track, ts in µs with ns decimals', () => {
    const writes = evs.filter((e) => e.ph === 'X' && e.name === 'rc.write');
    expect(writes).toHaveLength(records.filter((r) => r.kind === 'rc.write').length);
    const first = records.find((r) => r.kind === 'rc.write' && r.fields!.qp === 1)!;
    const done = records.find((r) => r.kind === 'rc.complete' && r.fields!.qp === 1 && r.fields!.wrId === 0)!;
    const x = writes.find((e) => e.args!.qp === 1 && e.args!.wrId === 0)!;
    expect(trackOf(x)).toBe('node 0 (server) / qp 1 → n1 kv');
    expect(x.ts).toBe(first.t / 1000);
    expect(Math.round(x.dur! * 1000)).toBe(done.t - first.t);
    expect(x.args).toMatchObject({ bytes: 128, to: 1, end: 'rc.complete', status: 'success', op: 'write' });
    expect(String(x.ts)).toMatch(/^\d+\.\d{1,3}$/);
    // The writes to the crashed node fail after the retry timeout: a long span with that status.
    const failed = writes.filter((e) => e.args!.status === 'retry-exceeded');
    expect(failed.length).toBe(2);
    for (const f of failed) expect(f.dur!).toBeGreaterThan(100);
    assertNested(evs);
  });

  test('client.invoke/client.ok pair into operations on the client track', () => {
    const ops = evs.filter((e) => e.ph === 'X' && e.cat === 'client');
    expect(ops).toHaveLength(12);
    expect(ops[0]!.name).toBe('put k0');
    expect(trackOf(ops[0]!)).toBe('node 3 (client) / client p30');
    expect(ops.every((o) => o.args!.end === 'client.ok')).toBe(true);
  });

  test('the crash is a global instant (vertical line) and an instant on its node', () => {
    const g = evs.filter((e) => e.ph === 'i' && e.s === 'g');
    expect(g).toHaveLength(1);
    expect(g[0]).toMatchObject({ name: '⚡ n1 crashes', ts: CRASH_AT_NS / 1000, cat: 'fault', args: { kind: 'fault.crash', node: 1 } });
    expect(trackOf(g[0]!)).toBe('cluster / faults');
    const local = evs.find((e) => e.ph === 'i' && e.s !== 'g' && e.name === 'fault.crash')!;
    expect(trackOf(local)).toBe('node 1 (server) / events');
  });

  test('every record appears: instants + 2 per span + extra global fault markers', () => {
    const inst = evs.filter((e) => e.ph === 'i' && e.s !== 'g').length;
    const spans = evs.filter((e) => e.ph === 'X').length;
    expect(inst + 2 * spans).toBe(records.length);
  });

  test('deterministic: same seed, same JSON', () => {
    const again = recordRun(7);
    expect(perfettoJson(again.rec.records, again.meta)).toBe(json);
  });

  test('thread steps get a track per thread', () => {
    const s = recordRun(7, { threadSteps: true });
    const d = toPerfetto(s.rec.records, s.meta);
    expect(checkChromeTrace(d)).toEqual([]);
    const n = names(d.traceEvents);
    const stepTracks = new Set(d.traceEvents.filter((e) => e.name === 'step').map((e) => n.trackOf(e)));
    expect(stepTracks).toEqual(new Set(['node 0 (server) / thread w0', 'node 0 (server) / thread w1', 'node 2 (server) / thread w0', 'node 2 (server) / thread w1', 'node 3 (client) / thread client']));
  });
});

describe('Perfetto pairing rules', () => {
  const r = (t: number, node: number, kind: string, fields?: TraceRecord['fields']): TraceRecord => (fields === undefined ? { t, node, kind } : { t, node, kind, fields });

  test('overlapping operations on one QP spill into lanes; crash, unfinished, unmatched, unsignaled', () => {
    const recs: TraceRecord[] = [
      r(0, 0, 'rc.write', { qp: 1, to: 1, wrId: 1, bytes: 8 }),
      r(100, 0, 'rc.write', { qp: 1, to: 1, wrId: 2, bytes: 8 }),
      r(150, 0, 'rc.write', { qp: 1, to: 1, wrId: 3, bytes: 8, signaled: false }),
      r(200, 0, 'rc.complete', { qp: 1, wrId: 1, op: 'write', status: 'success' }),
      r(300, 0, 'rc.complete', { qp: 1, wrId: 2, op: 'write', status: 'success' }),
      r(350, 0, 'rc.complete', { qp: 1, wrId: 9, op: 'write', status: 'success' }),
      r(400, 2, 'rc.read', { qp: 5, to: 0, wrId: 0, bytes: 64 }),
      r(500, 2, 'fault.crash', { boot: 0 }),
      r(600, 0, 'rc.cas', { qp: 1, to: 1, wrId: 4, bytes: 8 }),
    ];
    const d = toPerfetto(recs, { virtualTimeNs: 1000, cluster: { servers: [0, 1, 2], clients: [] } });
    expect(checkChromeTrace(d)).toEqual([]);
    const n = names(d.traceEvents);
    const x = d.traceEvents.filter((e) => e.ph === 'X');
    expect(x.map((e) => [e.name, e.ts, e.dur, n.trackOf(e), e.args!.status ?? e.args!.outcome])).toEqual([
      ['rc.write', 0, 0.2, 'node 0 (server) / qp 1', 'success'],
      ['rc.write', 0.1, 0.2, 'node 0 (server) / qp 1 #2', 'success'],
      ['rc.read', 0.4, 0.1, 'node 2 (server) / qp 5', 'crashed'],
      ['rc.cas', 0.6, 0.4, 'node 0 (server) / qp 1', 'unfinished'],
    ]);
    assertNested(d.traceEvents);
    const unsignaled = d.traceEvents.find((e) => e.ph === 'i' && e.args!.wrId === 3)!;
    expect(unsignaled.name).toBe('rc.write');
    const unmatched = d.traceEvents.find((e) => e.ph === 'i' && e.args!.unmatched === true)!;
    expect(unmatched).toMatchObject({ name: 'rc.complete', ts: 0.35 });
    expect(n.trackOf(unmatched)).toBe('node 0 (server) / qp 1');
  });

  test('generic <x>.begin / <x>.end pairs, by id when present; custom pairings; violation without a node', () => {
    const recs: TraceRecord[] = [
      r(0, 1, 'lolkv.elect.begin', { id: 7 }),
      r(10, 1, 'gc.begin'),
      r(20, 1, 'lolkv.elect.begin', { id: 8 }),
      r(30, 1, 'lolkv.elect.end', { id: 8, leader: 1 }),
      r(40, 1, 'gc.end', { freed: 3 }),
      r(50, 1, 'lolkv.elect.end', { id: 7, leader: 2 }),
      r(60, 1, 'mig.pull', { seg: 4 }),
      r(90, 1, 'mig.pulled', { seg: 4 }),
      r(95, -1, 'violation', { kind: 'liveness', message: 'stuck' }),
    ];
    const d = toPerfetto(recs, {}, { pairings: [{ begin: ['mig.pull'], end: ['mig.pulled'], key: ['seg'], track: 'migration', name: 'pull seg {seg}' }] });
    expect(checkChromeTrace(d)).toEqual([]);
    const n = names(d.traceEvents);
    const x = d.traceEvents.filter((e) => e.ph === 'X');
    expect(x.map((e) => [e.name, e.ts, e.dur, n.trackOf(e)])).toEqual([
      ['lolkv.elect 7', 0, 0.05, 'node 1 / lolkv.elect'],
      ['gc', 0.01, 0.03, 'node 1 / gc'],
      ['lolkv.elect 8', 0.02, 0.01, 'node 1 / lolkv.elect'],
      ['pull seg 4', 0.06, 0.03, 'node 1 / migration'],
    ]);
    expect(x[0]!.args).toMatchObject({ id: 7, leader: 2, end: 'lolkv.elect.end' });
    const v = d.traceEvents.filter((e) => e.ph === 'i' && e.cat === 'violation');
    expect(v.map((e) => [e.s, n.trackOf(e)])).toEqual([
      ['g', 'cluster / faults'],
      ['t', 'cluster / events'],
    ]);
    expect(v[0]!.name).toBe('✖ violation: liveness');
  });

  test('a planned fault is an ordinary instant; fired faults are global markers', () => {
    const d = toPerfetto([
      r(0, -1, 'fault.planned', { kind: 'crash', atNs: 5000 }),
      r(5000, 1, 'fault.crash', { boot: 0 }),
      r(7000, 1, 'fault.restart', { boot: 1 }),
    ]);
    expect(checkChromeTrace(d)).toEqual([]);
    const n = names(d.traceEvents);
    const inst = d.traceEvents.filter((e) => e.ph === 'i');
    expect(inst.map((e) => [e.name, e.s, n.trackOf(e)])).toEqual([
      ['fault.planned', 't', 'cluster / events'],
      ['⚡ n1 crashes', 'g', 'cluster / faults'],
      ['fault.crash', 't', 'node 1 / events'],
      ['⚡ n1 restarts', 'g', 'cluster / faults'],
      ['fault.restart', 't', 'node 1 / events'],
    ]);
  });

  test('checkChromeTrace finds missing fields', () => {
    expect(checkChromeTrace({})).toEqual(['not a JSON array nor an object with a traceEvents array']);
    const bad = checkChromeTrace([
      { ph: 'X', name: 'a', pid: 1, tid: 1, ts: 0 },
      { ph: 'i', name: 'b', pid: 1, tid: 1, ts: 0, s: 'q' },
      { ph: 'M', name: 'thread_name', pid: 1, tid: 1, args: {} },
      { ph: 'M', name: 'bogus', pid: 1, tid: 1, args: {} },
      { name: 'c', pid: 1, tid: 1 },
      { ph: 'b', name: 'd', pid: 1, tid: 1, ts: 0 },
      { ph: 'i', name: 'e', pid: 1.5, tid: 1, ts: 0 },
    ]);
    expect(bad).toEqual([
      'traceEvents[0]: X needs dur ≥ 0',
      'traceEvents[1]: instant scope s must be g, p or t',
      'traceEvents[2]: thread_name needs args.name',
      'traceEvents[3]: unknown metadata name bogus',
      'traceEvents[4]: missing ph',
      'traceEvents[5]: async event needs id',
      'traceEvents[5]: async event needs cat',
      'traceEvents[6]: pid must be an integer',
    ]);
  });
});
