import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kvlab } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kvlab-bad-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** Bad input: exit status 2, exactly one line on stderr naming file, field and reason, no stack trace. */
function expectBadInput(args: string[], ...mustContain: string[]) {
  const r = kvlab(args);
  expect(r.status, r.stderr + r.stdout).toBe(2);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^kvlab: /);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack frames
  for (const s of mustContain) expect(lines[0]).toContain(s);
  return lines[0]!;
}

describe('bad input: one line, file + field + reason, exit 2', () => {
  it('missing file', () => {
    expectBadInput(['run', join(dir, 'nope.json')], 'nope.json', 'no such file');
  });

  it('malformed JSON names the line', () => {
    const f = file('malformed.json', '{\n  "name": "x",\n  "cluster": { "servers": 3,, }\n}\n');
    expectBadInput(['run', f], 'malformed.json', 'line 3', 'malformed JSON');
  });

  it('malformed YAML names the line', () => {
    const f = file('malformed.yaml', 'name: x\ncluster:\n  servers: [3\n');
    expectBadInput(['run', f], 'malformed.yaml', 'malformed YAML');
  });

  it('unknown field', () => {
    const f = file('unknown.json', JSON.stringify({ cluster: { servrs: 3 } }));
    expectBadInput(['run', f], 'unknown.json', 'cluster.servrs', 'unknown field');
  });

  it('wrong type', () => {
    const f = file('type.json', JSON.stringify({ cluster: { servers: 'three' } }));
    expectBadInput(['run', f], 'type.json', 'cluster.servers', 'expected integer, got string');
  });

  it('impossible value', () => {
    const f = file('value.json', JSON.stringify({ cluster: { servers: 0 } }));
    expectBadInput(['run', f], 'value.json', 'cluster.servers', 'must be >= 1');
  });

  it('impossible value across fields (a fault on a server that does not exist)', () => {
    const f = file('fault.json', JSON.stringify({ cluster: { servers: 3 }, faults: { schedule: [{ kind: 'crash', node: 7 }] } }));
    expectBadInput(['run', f], 'fault.json', 'faults.schedule[0].node', 'does not exist');
  });

  it('unknown enum value and unknown protocol', () => {
    expectBadInput(['run', file('enum.json', JSON.stringify({ cluster: { crashPolicy: 'maybe' } }))], 'cluster.crashPolicy', 'must be one of');
    expectBadInput(['run', file('proto.json', JSON.stringify({ protocol: { name: 'paxos9' } }))], 'protocol.name', 'unknown protocol');
  });

  it('bad protocol option', () => {
    expectBadInput(['run', file('opt.json', JSON.stringify({ protocol: { name: 'register', options: { workers: -1 } } }))], 'protocol.options.workers');
  });

  it('bad flags', () => {
    expectBadInput(['run', 'scenarios/smoke.json', '--sed', '1'], 'argv', '--sed', 'unknown flag');
    expectBadInput(['run', 'scenarios/smoke.json', '--seed', 'x'], '--seed', 'expected an integer');
    expectBadInput(['run', 'scenarios/smoke.json', '--seed'], '--seed', 'missing value');
    expectBadInput(['sweep', 'scenarios/smoke.json', '--seeds', '5..2'], '--seeds', 'empty range');
    expectBadInput(['sweep', 'scenarios/smoke.json', '--seeds', '1..2', '--shard', '3/2'], '--shard');
    expectBadInput(['replay', 'scenarios/smoke.json'], '--seed', 'required');
    expectBadInput(['frobnicate'], 'unknown command');
    expectBadInput(['bench', 'nope'], 'unknown bench');
    expectBadInput(['bench', 'sim-core', '--ops-per-client', '5'], '--ops-per-client', 'only the lolkv bench');
    expectBadInput(['bench', 'lolkv', '--ops-per-client', '0'], '--ops-per-client', 'must be in [1, 100000]');
  });

  it('a directory is not a scenario', () => {
    expectBadInput(['run', dir], 'is a directory');
  });
});

describe('commands on good input', () => {
  it('run --json has the documented fields', () => {
    const r = kvlab(['run', 'scenarios/smoke.json', '--seed', '3', '--json']);
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of ['seed', 'traceHash', 'events', 'virtualTimeNs', 'wallMs', 'result']) expect(j).toHaveProperty(k);
    expect(j.result).toBe('ok');
    expect(j.seed).toBe(3);
  });

  it('replay reproduces the trace hash of run and prints the timeline', () => {
    const run = JSON.parse(kvlab(['run', 'scenarios/crash.json', '--seed', '4', '--json']).stdout);
    const r = kvlab(['replay', 'scenarios/crash.json', '--seed', '4', '--timeline', '--hash', run.traceHash]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`trace hash reproduced: ${run.traceHash}`);
    expect(r.stdout).toMatch(/fault\.crash/);
    const bad = kvlab(['replay', 'scenarios/crash.json', '--seed', '4', '--hash', '0000000000000000']);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('TRACE HASH MISMATCH');
  });

  it('sweep --json, shards partition the range, --check-determinism', () => {
    const whole = JSON.parse(kvlab(['sweep', 'scenarios/smoke.json', '--seeds', '1..6', '--workers', '2', '--json']).stdout);
    expect(whole).toMatchObject({ seeds: 6, ok: 6, violations: [] });
    expect(typeof whole.wallMs).toBe('number');
    const a = JSON.parse(kvlab(['sweep', 'scenarios/smoke.json', '--seeds', '1..6', '--shard', '0/2', '--json']).stdout);
    const b = JSON.parse(kvlab(['sweep', 'scenarios/smoke.json', '--seeds', '1..6', '--shard', '1/2', '--json']).stdout);
    expect(a.seeds + b.seeds).toBe(6);
    const det = kvlab(['sweep', 'scenarios/swarm.json', '--seeds', '1..4', '--workers', '2', '--check-determinism']);
    expect(det.status).toBe(0);
    expect(det.stdout).toContain('identical trace hashes');
  });
});
