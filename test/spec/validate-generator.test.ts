import { describe, expect, it } from 'vitest';
import {
  type RecordLike,
  buildLolkvTrace,
  buildRowankvTrace,
  readValidationOutput,
  selectLolkvEvents,
  set,
  tla,
  tuple,
} from '../../sim/validate/index.js';
import { parseShardsDescription } from '../../sim/validate/rowankv.js';
import { LOLKV_SMALL, rec } from './fixtures/validate-small.js';

// The trace-module generators on small synthetic event lists (pure: no simulator, no TLC).

describe('TLA+ values', () => {
  it('renders strings, integers, booleans, tuples, sets and records', () => {
    expect(tla({ a: 'x"y', n: -3, b: true, v: tuple(1, 2), s: set([1, 'k']) })).toBe('[a |-> "x\\"y", n |-> (0 - 3), b |-> TRUE, v |-> <<1, 2>>, s |-> {1, "k"}]');
    expect(() => tla(1.5)).toThrow(/not an integer/);
  });
});

describe('LoLKV trace module', () => {
  it('selects, drops and reorders events', () => {
    const { events, dropped, notes } = selectLolkvEvents(LOLKV_SMALL, { servers: [0, 1, 2] });
    expect(dropped).toEqual({ 'lolkv.vote (refused)': 1, 'lolkv.gc-free': 1, 'lolkv.torn': 1 });
    // client events and a non-server crash are not consumed; a server's crash and restart are
    expect(events.map((e) => e.kind)).not.toContain('client.invoke');
    expect(events.filter((e) => e.kind === 'fault.crash').map((e) => e.node)).toEqual([2]);
    // the incarnation-1 PUT took its incarnation first: it moves before the incarnation-2 one
    const puts = events.filter((e) => e.kind === 'lolkv.replicate').map((e) => e.fields['inc']);
    expect(puts).toEqual([1, 2]);
    // the GET that returned incarnation 1 looked its key up before incarnation 2 was applied
    const order = events.map((e) => `${e.kind}:${e.fields['inc'] ?? ''}`);
    expect(order.indexOf('lolkv.get:1')).toBeLessThan(order.indexOf('lolkv.apply:2'));
    expect(order.indexOf('lolkv.get:2')).toBeGreaterThan(order.indexOf('lolkv.apply:2'));
    expect(events.map((e) => e.index)).toEqual(events.map((_, i) => i + 1));
    expect(notes.join(' ')).toMatch(/moved up to their incarnation/);
    expect(notes.join(' ')).toMatch(/moved back to their lookup/);
  });

  it('checks a GET value at its traced lookup (lolkv.lookup, same id) and its read check where lolkv.get was traced', () => {
    // the GET of id 7 read the table (incarnation 1) before incarnation 2 was applied; its read
    // check finished after it. Without the lookup the window heuristic would decide.
    const base = LOLKV_SMALL.filter((r) => r.kind !== 'lolkv.get');
    const recs = [...base, rec(75, 1, 'lolkv.lookup', { key: 'user7', term: 1, inc: 1, id: 7 }), rec(90, 1, 'lolkv.get', { key: 'user7', term: 1, inc: 1, id: 7 })].sort((a, b) => a.t - b.t);
    const { events, notes } = selectLolkvEvents(recs, { servers: [0, 1, 2] });
    const order = events.map((e) => `${e.kind}:${e.fields['inc'] ?? ''}`);
    expect(order.indexOf('lolkv.lookup:1')).toBe(order.indexOf('lolkv.apply:2') - 2); // before commit 2 and apply 2
    expect(order.indexOf('lolkv.get:1')).toBeGreaterThan(order.indexOf('lolkv.apply:2'));
    expect(notes.join(' ')).toMatch(/value checked at the lookup/);
    const steps = buildLolkvTrace(recs, { servers: [0, 1, 2] }).steps.map((x) => x.a);
    expect(steps.indexOf('lookup')).toBeLessThan(steps.indexOf('getrc'));
    expect(steps).not.toContain('get');
    // a crash of a follower between the lookup and the get: the read check is checked before it
    const crashed = [...recs, rec(80, 2, 'fault.crash', { boot: 0 })].sort((a, b) => a.t - b.t);
    const o2 = selectLolkvEvents(crashed, { servers: [0, 1, 2] }).events.map((e) => e.kind);
    expect(o2.indexOf('lolkv.get')).toBeLessThan(o2.indexOf('fault.crash'));
    expect(o2.indexOf('lolkv.lookup')).toBeLessThan(o2.indexOf('lolkv.get'));
    // a get whose lookup is missing is a mapping error, not a silent guess
    expect(() => selectLolkvEvents([...base, rec(90, 1, 'lolkv.get', { key: 'user7', term: 1, inc: 1, id: 8 })], { servers: [0, 1, 2] })).toThrow(/no lolkv.lookup/);
  });

  it('a WRITE flushed by its QP moving to error may have landed (unknown); one posted on a QP already in error did not', () => {
    const recs = [
      rec(60, 1, 'lolkv.replicate', { key: 'user7', term: 1, inc: 1, seg: 0, off: 0 }),
      rec(61, 1, 'rc.write', { qp: 5, to: 0, wrId: 1, bytes: 120, signaled: true, rkey: 3, off: 0 }),
      rec(62, 1, 'rc.error', { qp: 5, reason: 'nic-failure' }),
      rec(62, 1, 'rc.complete', { qp: 5, wrId: 1, op: 'write', status: 'flushed' }),
      rec(63, 1, 'rc.write', { qp: 5, to: 2, wrId: 2, bytes: 120, signaled: true, rkey: 3, off: 0 }),
      rec(63, 1, 'rc.complete', { qp: 5, wrId: 2, op: 'write', status: 'flushed' }),
    ];
    const ev = selectLolkvEvents(recs, { servers: [0, 1, 2] }).landing.get('1|1|user7|1')!;
    expect([...ev.posted].sort()).toEqual([0, 2]);
    expect([...ev.landed]).toEqual([]);
    expect([...ev.failed]).toEqual([2]);
  });

  it('maps events to spec steps and writes the data module', () => {
    const tr = buildLolkvTrace(LOLKV_SMALL, { servers: [0, 1, 2], budget: { seconds: 30, states: 1000 } });
    expect(tr.maps['key']).toEqual({ user7: 'k1' });
    const kinds = tr.steps.map((s) => s.a);
    expect(kinds.slice(0, 7)).toEqual(['raise', 'timeout', 'vote', 'leader', 'sync', 'unlink', 'catchup']);
    // committed PUTs land on every follower that accepts them
    expect(kinds.filter((k) => k === 'put').length).toBe(2);
    expect(kinds.filter((k) => k === 'landall').length).toBe(2);
    expect(kinds).toContain('crash');
    expect(kinds).toContain('restart');
    // every step names the event it comes from
    for (const s of tr.steps) expect(tr.events[s.ev - 1]).toBeDefined();
    const apply2 = tr.steps.find((s) => s.a === 'apply' && tla(s['ver']!) === '<<1, 2>>')!;
    expect(apply2).toMatchObject({ r: 1, key: 'k1', applied: true, replaced: true });
    expect(tr.dataText).toMatch(/^-+ MODULE LoLKVTraceData -+$/m);
    expect(tr.dataText).toContain('TrReplica == {0, 1, 2}');
    expect(tr.dataText).toContain('TrKey == {"k1"}');
    expect(tr.dataText).toContain('TrMaxPuts == 2');
    expect(tr.dataText).toContain('TrMaxTerm == 1');
    expect(tr.dataText).toContain('TrBudgetSeconds == 30');
    expect(tr.dataText).toContain('[a |-> "put", ev |-> ');
    expect(tr.dataText.trimEnd()).toMatch(/=+$/);
  });

  it('explores the landing of an uncommitted PUT only if a later read could reveal it', () => {
    const base = LOLKV_SMALL.slice(0, 7);
    const orphan = rec(60, 1, 'lolkv.replicate', { key: 'user7', term: 1, inc: 1, seg: 0, off: 0 });
    const later = [rec(100, 0, 'lolkv.elect-start', { term: 2 }), rec(101, 2, 'lolkv.vote', { term: 2, candidate: 0, granted: true }), rec(102, 0, 'lolkv.leader', { term: 2 }), rec(103, 0, 'lolkv.sync', { term: 2, objects: 1, fetched: 0 })];
    const hidden = buildLolkvTrace([...base, orphan, ...later], { servers: [0, 1, 2] });
    expect(hidden.steps.map((s) => s.a)).not.toContain('landsome');
    const read = rec(110, 0, 'lolkv.get', { key: 'user7', term: 2, inc: 1 });
    const revealed = buildLolkvTrace([...base, orphan, ...later, read], { servers: [0, 1, 2] });
    expect(revealed.steps.map((s) => s.a)).toEqual(expect.arrayContaining(['landsome', 'landpick']));
  });

  it('refuses keys that share an incarnation counter', () => {
    const a = rec(60, 1, 'lolkv.replicate', { key: 'a', term: 1, inc: 1, seg: 0, off: 0 });
    const b = rec(61, 1, 'lolkv.replicate', { key: 'b', term: 1, inc: 1, seg: 0, off: 64 });
    expect(() => buildLolkvTrace([a, b], { servers: [0, 1, 2], incarnations: 1 })).toThrow(/share incarnation counter/);
  });

  it('uses the fabric: sync sources learn the term, a sync moves back to its last READ, bulk copies land', () => {
    const records: RecordLike[] = [
      rec(0, 2, 'mr.register', { name: 'lolkv.segments', rkey: 14, bytes: 49152, access: 14 }),
      ...LOLKV_SMALL.slice(0, 7),
      rec(60, 1, 'lolkv.replicate', { key: 'user7', term: 1, inc: 1, seg: 0, off: 0 }),
      rec(61, 1, 'rc.write', { qp: 5, to: 2, wrId: 1, bytes: 2048, signaled: true, rkey: 14, off: 0 }),
      rec(62, 1, 'rc.complete', { qp: 5, wrId: 1, op: 'write', status: 'success' }),
      rec(100, 0, 'lolkv.elect-start', { term: 2 }),
      rec(101, 2, 'lolkv.vote', { term: 2, candidate: 0, granted: true }),
      rec(102, 0, 'lolkv.leader', { term: 2 }),
      rec(103, 0, 'rc.read', { qp: 9, to: 2, wrId: 1, bytes: 49152, signaled: true, rkey: 14, off: 0 }),
      rec(104, 2, 'fault.crash', { boot: 0 }),
      rec(110, 0, 'lolkv.sync', { term: 2, objects: 1, fetched: 0 }),
    ];
    const tr = buildLolkvTrace(records, { servers: [0, 1, 2] });
    const kinds = tr.events.map((e) => e.kind);
    expect(kinds).toContain('lolkv.copy');
    expect(kinds.lastIndexOf('lolkv.sync')).toBe(kinds.indexOf('lolkv.sync-source') + 1);
    expect(kinds.lastIndexOf('lolkv.sync')).toBeLessThan(kinds.lastIndexOf('fault.crash'));
    const steps = tr.steps.map((x) => `${x.a}:${x['r']}`);
    expect(steps).toEqual(expect.arrayContaining(['raiseup:2', 'copy:1']));
    expect(tr.steps.find((x) => x.a === 'copy')).toMatchObject({ r: 1, f: 2 });
  });

  it('fills skipped incarnations, infers a PUT a crash hid, moves a PUT before its step-down and a GET before a crash', () => {
    const base = LOLKV_SMALL.slice(0, 7);
    const records: RecordLike[] = [
      ...base,
      rec(60, 1, 'lolkv.replicate', { key: 'user7', term: 1, inc: 1, seg: 0, off: 0 }),
      rec(61, 1, 'lolkv.replicate', { key: 'user7', term: 1, inc: 3, seg: 0, off: 128 }),
      rec(62, 1, 'lolkv.step-down', { term: 1, reason: 'lost-majority' }),
      rec(63, 1, 'lolkv.replicate', { key: 'user7', term: 1, inc: 4, seg: 0, off: 256 }),
      rec(70, 1, 'fault.crash', { boot: 0 }),
      rec(100, 0, 'lolkv.elect-start', { term: 2 }),
      rec(101, 2, 'lolkv.vote', { term: 2, candidate: 0, granted: true }),
      rec(102, 0, 'lolkv.leader', { term: 2 }),
      rec(103, 0, 'lolkv.sync', { term: 2, objects: 3, fetched: 0 }),
      rec(104, 0, 'lolkv.catchup', { node: 2 }),
      rec(110, 2, 'fault.crash', { boot: 0 }),
      rec(111, 0, 'lolkv.get', { key: 'user7', term: 2, inc: 5 }),
    ];
    const { events, notes } = selectLolkvEvents(records, { servers: [0, 1, 2] });
    const order = events.map((e) => `${e.kind}@${e.node}:${e.fields['inc'] ?? ''}`);
    // the incarnation-4 PUT had taken its incarnation before the step-down
    expect(order.indexOf('lolkv.replicate@1:4')).toBeLessThan(order.indexOf('lolkv.step-down@1:'));
    // incarnation 5 was written locally but its event lost in the crash
    expect(order.indexOf('lolkv.replicate@1:5')).toBe(order.indexOf('fault.crash@1:') - 1);
    expect(events.find((e) => e.fields['inc'] === 5 && e.kind === 'lolkv.replicate')!.fields['inferred']).toBe(true);
    // the GET's read check READ replica 2 before it crashed
    expect(order.indexOf('lolkv.get@0:5')).toBeLessThan(order.indexOf('fault.crash@2:'));
    expect(notes.join(' ')).toMatch(/inferred/);
    const tr = buildLolkvTrace(records, { servers: [0, 1, 2] });
    const skip = tr.steps.find((x) => x.a === 'skipinc')!;
    expect(skip).toMatchObject({ r: 1, term: 1, inc: 2 });
    expect(tr.steps.indexOf(skip) + 1).toBe(tr.steps.findIndex((x) => x.a === 'put' && x['inc'] === 3));
  });

  it('validates a prefix', () => {
    const tr = buildLolkvTrace(LOLKV_SMALL, { servers: [0, 1, 2], maxEvents: 5 });
    expect(tr.events.filter((e) => e.kind.startsWith('lolkv.')).length).toBe(5);
    expect(tr.truncatedEvents).toBeGreaterThan(0);
  });
});

describe('Rowan-KV trace module', () => {
  it('parses the CM configuration description', () => {
    expect(parseShardsDescription('0:12 1:0+2 2:01>0 0:', 4)).toEqual([
      { primary: 0, backups: [1, 2], joining: -1, handoff: -1 },
      { primary: 1, backups: [0], joining: 2, handoff: -1 },
      { primary: 2, backups: [0, 1], joining: -1, handoff: 0 },
      { primary: 0, backups: [], joining: -1, handoff: -1 },
    ]);
    expect(() => parseShardsDescription('0:12', 2)).toThrow(/expected 2/);
  });

  it('matches a PUT to its SENDs and their landing, and maps events to steps', () => {
    const records: RecordLike[] = [
      rec(0, 0, 'cm.connected', { to: 1, service: 'rk.rowan', qp: 3, peerQp: 4 }),
      rec(0, 0, 'cm.connected', { to: 2, service: 'rk.rowan', qp: 5, peerQp: 6 }),
      rec(1, 0, 'rowankv.config', { epoch: 1 }),
      rec(2, 0, 'rowankv.activate', { shard: 0, epoch: 1, objects: 0, fetched: 0 }),
      rec(10, 0, 'rowankv.append', { key: 'k', shard: 0, ver: 2 ** 32, off: 64 }),
      rec(11, 0, 'rc.send', { qp: 3, to: 1, wrId: 1, bytes: 100, signaled: false }),
      rec(12, 0, 'rc.send', { qp: 5, to: 2, wrId: 2, bytes: 100, signaled: false }),
      rec(20, 1, 'rc.recv', { qp: 4, wrId: 0, bytes: 100, status: 'success' }),
      rec(21, 2, 'rc.recv', { qp: 6, wrId: 0, bytes: 100, status: 'success' }),
      rec(30, 0, 'rowankv.commit', { key: 'k', shard: 0, ver: 2 ** 32, epoch: 1 }),
      rec(31, 0, 'rowankv.get', { key: 'k', ver: 2 ** 32 }),
    ];
    const tr = buildRowankvTrace(records, { servers: [0, 1, 2], shards: 1, replicas: 3 });
    expect(tr.events.map((e) => e.kind)).toEqual(['rowankv.config', 'rowankv.activate', 'rowankv.append', 'rowankv.land', 'rowankv.land', 'rowankv.commit']);
    expect(tr.events.filter((e) => e.kind === 'rowankv.land').map((e) => e.node)).toEqual([1, 2]);
    expect(tr.steps.map((s) => s.a)).toEqual(['adopt', 'promote', 'put', 'land', 'land', 'droptargets', 'complete']);
    expect(tr.dropped).toEqual({ 'rowankv.get': 1 });
    expect(tr.dataText).toContain('TrShard == {"s0.1"}');
    expect(tr.dataText).toContain('[epoch |-> 1, primary |-> 0, backups |-> {1, 2}]');
  });
});

describe('reading TLC', () => {
  const tr = buildLolkvTrace(LOLKV_SMALL, { servers: [0, 1, 2] });
  it('valid when the end of the trace was reached', () => {
    const out = ['<<"tv-progress", 2>>', `<<"tv-progress", ${tr.steps.length + 1}>>`, '"tv-accepted"', 'Model checking completed. No error has been found.'].join('\n');
    expect(readValidationOutput(out, tr, 'ok')).toEqual({ verdict: 'valid', maxStep: tr.steps.length + 1 });
  });
  it('rejected at the highest step reached, naming its event', () => {
    const out = ['<<"tv-progress", 2>>', '<<"tv-progress", 4>>', 'Model checking completed. No error has been found.'].join('\n');
    const v = readValidationOutput(out, tr, 'ok');
    expect(v.verdict).toBe('rejected');
    expect(v.firstRejected!.step).toEqual({ index: 4, action: tr.steps[3]!.a });
    expect(v.firstRejected!.index).toBe(tr.steps[3]!.ev);
    expect(v.firstRejected!.event).toContain(tr.events[tr.steps[3]!.ev - 1]!.kind);
  });
  it('inconclusive past the budget; error when TLC failed', () => {
    expect(readValidationOutput('<<"tv-progress", 3>>\n<<"tv-budget", "time">>', tr, 'ok').verdict).toBe('inconclusive');
    expect(readValidationOutput('Error: boom', tr, 'error', 'boom')).toMatchObject({ verdict: 'error', reason: 'boom' });
  });
});
