import { describe, expect, test } from 'vitest';
import type { TraceRecord } from '../../sim/kernel.js';
import { filterRecords, formatFields, formatMicros, readTrace, renderTimeline, summarize, writeTrace } from '../../sim/trace/index.js';
import { CRASH_AT_NS, recordRun } from './fixture.js';

describe('timeline of a real run', () => {
  const run = recordRun(7);
  const records = run.rec.records;
  const lines = renderTimeline(records, { meta: run.meta });
  const text = lines.join('\n');

  test('summary header: identity, counts, time, kinds, faults', () => {
    expect(lines[0]).toBe(`kvlab trace  scenario trace-fixture  seed 7  hash ${run.meta.traceHash}`);
    expect(text).toContain(`  records   ${records.length} records, ${records.length} shown; ${run.meta.events} kernel events`);
    expect(text).toContain('  time      0.000 → 400.000 µs (virtual)   nodes n0 n1 n2 n3');
    expect(text).toMatch(/ {2}kinds {5}rc\.complete \d+ · rc\.write \d+/);
    expect(text).toContain('  faults    1\n          20.000 µs  n1  fault.crash      n1 crashes');
    expect(text).toContain('  violation none');
    expect(text).toContain('  filter    thread steps hidden');
  });

  test('the crash is marked: rule above with ⚡ FAULT, !! line, rule below', () => {
    const i = lines.findIndex((l) => l.startsWith('!!'));
    expect(i).toBeGreaterThan(0);
    expect(lines[i]).toMatch(/^!! +20\.000 µs {2}n1 {2}fault\.crash +boot=0$/);
    expect(lines[i - 1]).toMatch(/^ {2}──── ⚡ FAULT {2}n1 crashes {2}@ 20\.000 µs ─+$/);
    expect(lines[i + 1]).toMatch(/^ {2}─+$/);
    expect(lines.filter((l) => l.startsWith('!!'))).toHaveLength(1);
  });

  test('one line per record in order, with fields, and failures flagged', () => {
    const body = lines.slice(lines.findIndex((l) => /^ {2}─+$/.test(l)) + 1).filter((l) => !/^ {2}─/.test(l));
    expect(body).toHaveLength(records.length);
    expect(body).toContain('        0.000 µs  n0  node.boot         boot=0');
    expect(body.some((l) => /^ {2} +1\d\.\d{3} µs {2}n0 {2}rc\.write {10}qp=1 to=1 wrId=0 bytes=128 signaled=true rkey=1 off=0$/.test(l))).toBe(true);
    const failed = body.filter((l) => l.startsWith(' !'));
    expect(failed.length).toBeGreaterThan(0);
    for (const l of failed) expect(l).toMatch(/rc\.error|status=retry-exceeded|status=flushed/);
  });

  test('same seed → identical timeline; through the trace file too', () => {
    const again = recordRun(7);
    expect(renderTimeline(again.rec.records, { meta: again.meta })).toEqual(lines);
    const file = readTrace(writeTrace(run.meta, records));
    expect(renderTimeline(file.records, { meta: file.header })).toEqual(lines);
    // A different seed is a different run.
    const other = recordRun(8);
    expect(other.meta.traceHash).not.toBe(run.meta.traceHash);
  });

  test('filter by node keeps faults as context', () => {
    const l = renderTimeline(records, { nodes: [3], summary: false });
    const nodesSeen = new Set(l.filter((x) => /^(  |!!| !) /.test(x)).map((x) => x.match(/µs {2}(n\d+|--)/)![1]));
    expect(nodesSeen).toEqual(new Set(['n3', 'n1']));
    expect(l.filter((x) => x.includes('n1')).every((x) => x.includes('fault.crash') || x.includes('crashes'))).toBe(true);
    const strict = renderTimeline(records, { nodes: [3], summary: false, contextFaults: false });
    expect(strict.some((x) => x.includes('fault.crash'))).toBe(false);
  });

  test('filter by kind prefix, exclude, window, around', () => {
    const rc = filterRecords(records, { kinds: ['rc.'] });
    expect(rc.every((r) => r.kind.startsWith('rc.') || r.kind.startsWith('fault.'))).toBe(true);
    expect(filterRecords(records, { excludeKinds: ['rc.', 'cm.'] }).some((r) => r.kind.startsWith('rc.'))).toBe(false);
    const win = filterRecords(records, { fromNs: 15_000, toNs: 25_000 });
    expect(win.length).toBeGreaterThan(0);
    expect(win.every((r) => r.t >= 15_000 && r.t <= 25_000)).toBe(true);
    const around = renderTimeline(records, { aroundNs: CRASH_AT_NS, aroundWindowNs: 1_000 });
    expect(around.join('\n')).toContain('around=20.000µs±1.000µs');
    const shown = filterRecords(records, { aroundNs: CRASH_AT_NS, aroundWindowNs: 1_000 });
    expect(shown.every((r) => r.t >= 19_000 && r.t <= 21_000)).toBe(true);
    expect(shown.some((r) => r.kind === 'fault.crash')).toBe(true);
  });

  test('thread steps hidden by default, shown on request', () => {
    const s = recordRun(7, { threadSteps: true });
    expect(renderTimeline(s.rec.records, { summary: false }).some((l) => / step /.test(l))).toBe(false);
    const withSteps = renderTimeline(s.rec.records, { summary: false, threadSteps: true });
    expect(withSteps.some((l) => /µs {2}n0 {2}step +thread=w0 tid=\d+$/.test(l))).toBe(true);
    // Hidden steps aside, the timeline is the same as a run recorded without them.
    expect(renderTimeline(s.rec.records, { summary: false })).toEqual(renderTimeline(records, { summary: false }));
  });

  test('maxLines and ascii', () => {
    const l = renderTimeline(records, { summary: false, maxLines: 5, ascii: true });
    expect(l).toHaveLength(6);
    expect(l[5]).toBe(`  ... ${records.length - 5} more records not shown`);
    const a = renderTimeline(records, { ascii: true }).join('\n');
    expect(a).toContain('!! FAULT  n1 crashes  @ 20.000 us');
    expect(/[^\x20-\x7e\n]/.test(a)).toBe(false);
  });
});

describe('timeline details', () => {
  test('a violation is marked XX with ═ rules and listed in the summary', () => {
    const run = recordRun(7, { failAtNs: 30_000 });
    expect(run.cluster.sim.violation?.kind).toBe('invariant');
    const lines = renderTimeline(run.rec.records, { meta: run.meta });
    const i = lines.findIndex((l) => l.startsWith('XX'));
    expect(lines[i]).toMatch(/^XX +30\.000 µs {2}n2 {2}violation +kind=invariant message="acknowledged write lost"$/);
    expect(lines[i - 1]).toMatch(/^ {2}═{4} ✖ VIOLATION invariant {2}@ 30\.000 µs ═+$/);
    expect(lines[i + 1]).toMatch(/^ {2}═+$/);
    expect(lines).toContain('  violation 30.000 µs  n2  kind=invariant message="acknowledged write lost"');
  });

  test('faults of all kinds are described', () => {
    const recs: TraceRecord[] = [
      { t: 1000, node: 0, kind: 'fault.link-down', fields: { to: 2 } },
      { t: 1500, node: 2, kind: 'fault.nic-down' },
      { t: 2000, node: 0, kind: 'rc.write', fields: { qp: 1 } },
      { t: 3000, node: 1, kind: 'fault.restart', fields: { boot: 1 } },
      { t: 4000, node: 0, kind: 'fault.link-up', fields: { to: 2 } },
      { t: 5000, node: 2, kind: 'fault.nic-up' },
      { t: 6000, node: 1, kind: 'fault.latency-spike', fields: { extraNs: 5000 } },
      { t: 7000, node: 1, kind: 'fault.latency-spike-end' },
      { t: 8000, node: -1, kind: 'fault.ud-loss', fields: { rate: '0.25' } },
      { t: 9000, node: -1, kind: 'fault.ud-loss-end' },
      { t: 9500, node: 3, kind: 'fault.torn-write', fields: { words: 2 } },
    ];
    const l = renderTimeline(recs, { summary: false });
    expect(l.filter((x) => x.includes('⚡ FAULT')).map((x) => x.match(/FAULT {2}(.*) {2}@/)![1])).toEqual([
      'link n0→n2 blocked',
      'n2 NIC fails',
      'n1 restarts',
      'link n0→n2 restored',
      'n2 NIC back up',
      'n1 latency spike +5000 ns',
      'n1 latency spike ends',
      'UD loss +0.25',
      'UD loss ends',
      'n3 torn-write words=2',
    ]);
    expect(l.filter((x) => x.startsWith('!!'))).toHaveLength(10);
    expect(l.filter((x) => /^ {2}─+$/.test(x))).toHaveLength(10);
  });

  test('faults at the same instant (a partition) form one group; planned faults are listed, not marked', () => {
    const recs: TraceRecord[] = [
      { t: 0, node: -1, kind: 'fault.planned', fields: { kind: 'partition', atNs: 50_000 } },
      { t: 0, node: -1, kind: 'fault.planned', fields: { kind: 'crash', atNs: 90_000 } },
      ...[1, 2, 3, 4].flatMap((o): TraceRecord[] => [
        { t: 50_000, node: 0, kind: 'fault.link-down', fields: { to: o } },
        { t: 50_000, node: o, kind: 'fault.link-down', fields: { to: 0 } },
      ]),
      { t: 50_000, node: 2, kind: 'rc.write', fields: { qp: 1 } },
      { t: 90_000, node: 1, kind: 'fault.crash', fields: { boot: 0 } },
    ];
    const l = renderTimeline(recs);
    expect(l).toContain('  planned   partition @ 50.000 µs · crash @ 90.000 µs');
    expect(l).toContain('  faults    9');
    const body = l.slice(l.findIndex((x) => /^ {2}─+$/.test(x)) + 1);
    expect(body[0]).toMatch(/^ {3} +0\.000 µs {2}-- {2}fault\.planned +kind=partition atNs=50000$/);
    expect(body[2]).toMatch(/^ {2}──── ⚡ FAULT ×8 {2}link n0→n1 blocked, link n1→n0 blocked, .*…  @ 50\.000 µs ─+$/);
    expect(body.slice(3, 11).every((x) => x.startsWith('!!') && x.includes('fault.link-down'))).toBe(true);
    expect(body[11]).toMatch(/^ {2}─+$/);
    expect(body[12]).toContain('rc.write');
    expect(body[13]).toContain('⚡ FAULT  n1 crashes');
    const ascii = renderTimeline(recs, { ascii: true }).join('\n');
    expect(ascii).toContain('!! FAULT x8  link n0->n1 blocked');
    expect(/[^\x20-\x7e\n]/.test(ascii)).toBe(false);
  });

  test('formatting helpers', () => {
    expect(formatMicros(0)).toBe('0.000');
    expect(formatMicros(12_345)).toBe('12.345');
    expect(formatMicros(1_000_000_007)).toBe('1000000.007');
    expect(formatMicros(1.5)).toBe('0.002');
    expect(formatFields({ a: 1, b: 'x y', c: null, d: true, e: 'plain-1.2/x' })).toBe('a=1 b="x y" c=null d=true e=plain-1.2/x');
    expect(formatFields(undefined)).toBe('');
    const s = summarize([
      { t: 5, node: 1, kind: 'b' },
      { t: 9, node: 0, kind: 'a' },
      { t: 9, node: -1, kind: 'a' },
    ]);
    expect(s).toMatchObject({ records: 3, firstNs: 5, lastNs: 9, nodes: [0, 1], kinds: [['a', 2], ['b', 1]] });
    expect(renderTimeline([], {})).toContain('  kinds     none');
  });
});
