import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCommand } from '../../cli/commands/check.js';
import { h, toJsonl } from './builder.js';

let dir: string;
const file = (name: string): string => join(dir, name);

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await checkCommand(args, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kvlab-check-'));
  await writeFile(file('good.jsonl'), toJsonl(h().put(0, 'x', 'a').ok(0).get(1, 'x').ok(1, 'a').build()));
  const stale = h().at(0).put(0, 'x', 'a').at(10).ok(0).at(20).put(0, 'x', 'b').at(30).ok(0).at(40).get(1, 'x').at(50).ok(1, 'a').build();
  await writeFile(file('stale.jsonl'), `${toJsonl(stale)}{"fault": "crash n2", "time": 35}\n`);
  await writeFile(file('bad.jsonl'), '{"init": null}\n{"process": 0, "type": "done", "f": "get", "key": "x", "value": null}\n');
  await writeFile(file('empty.jsonl'), '');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('kvlab check', () => {
  it('exits 0 and prints ✓ when every history is linearizable', async () => {
    const r = await run([file('good.jsonl'), file('empty.jsonl')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^✓ .*good\.jsonl {2}2 ops {2}\d+\.\d ms$/);
    expect(lines[1]).toMatch(/^✓ .*empty\.jsonl {2}0 ops/);
  });

  it('exits 1 on a violation and prints the minimal operations', async () => {
    const r = await run([file('stale.jsonl')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^✗ .*stale\.jsonl {2}3 ops .* key "x" not linearizable; a 1-minimal violating set of 3 ops:/);
    expect(r.stdout).toContain('p1 get → "a" ok');
    expect(r.stdout).toContain('lines 6–7  t=40–50 ns');
  });

  it('--json prints one object per file with the documented shape', async () => {
    const r = await run(['--json', file('good.jsonl'), file('stale.jsonl')]);
    expect(r.code).toBe(1);
    const [good, stale] = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(Object.keys(good)).toEqual(['file', 'linearizable', 'ops', 'wallMs']);
    expect(good).toMatchObject({ file: file('good.jsonl'), linearizable: true, ops: 2 });
    expect(typeof good.wallMs).toBe('number');
    expect(stale).toMatchObject({ file: file('stale.jsonl'), linearizable: false, ops: 3, key: 'x', violatingKeys: ['x'] });
    expect(stale.minimalOps).toEqual([
      { process: 0, f: 'put', key: 'x', value: 'a', type: 'ok', invokeIndex: 0, completeIndex: 1, invokeLine: 2, completeLine: 3, invokeTimeNs: 0, completeTimeNs: 10 },
      { process: 0, f: 'put', key: 'x', value: 'b', type: 'ok', invokeIndex: 2, completeIndex: 3, invokeLine: 4, completeLine: 5, invokeTimeNs: 20, completeTimeNs: 30 },
      { process: 1, f: 'get', key: 'x', value: 'a', type: 'ok', invokeIndex: 4, completeIndex: 5, invokeLine: 6, completeLine: 7, invokeTimeNs: 40, completeTimeNs: 50 },
    ]);
  });

  it('exits 2 on malformed input with one line on stderr and no stack trace', async () => {
    const r = await run([file('bad.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`kvlab: ${file('bad.jsonl')}: line 2: type: must be one of invoke, ok, fail, info\n`);
  });

  it('bad input wins over a violation, and the other files are still checked', async () => {
    const r = await run([file('stale.jsonl'), file('bad.jsonl'), file('good.jsonl')]);
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n').filter((l) => /^[✓✗]/.test(l))).toHaveLength(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('exits 2 for a missing file, an unknown flag, no files, or --html without a file', async () => {
    const missing = await run([file('nope.jsonl')]);
    expect(missing).toMatchObject({ code: 2, stderr: `kvlab: ${file('nope.jsonl')}: no such file\n` });
    expect(await run(['--colour', file('good.jsonl')])).toMatchObject({ code: 2, stderr: 'kvlab: argv: --colour: unknown flag (see kvlab check --help)\n' });
    expect(await run([])).toMatchObject({ code: 2, stderr: 'kvlab: argv: files: expected at least one history file\n' });
    expect(await run([file('good.jsonl'), '--html'])).toMatchObject({ code: 2, stderr: 'kvlab: argv: --html: expects a file name\n' });
  });

  it('--help prints usage and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: kvlab check/);
  });

  it('--html writes a self-contained page with timelines, highlights and fault markers', async () => {
    const out = file('report.html');
    const r = await run(['--html', out, file('good.jsonl'), file('stale.jsonl')]);
    expect(r.code).toBe(1);
    const html = await readFile(out, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).toContain('stroke="#c62828"'); // minimal ops outlined
    expect(html).toContain('crash n2');
    expect(html).not.toMatch(/<script|<link|\ssrc=|\shref=/);
    // Only the violating history is drawn when some violate.
    expect(html).not.toContain('<h2>' + file('good.jsonl'));
    expect(html).toContain('<h2>' + file('stale.jsonl'));
  });

  it('--html draws every history when none violates', async () => {
    const out = file('all.html');
    expect((await run([`--html=${out}`, file('good.jsonl')])).code).toBe(0);
    const html = await readFile(out, 'utf8');
    expect(html).toContain('<h2>' + file('good.jsonl'));
    expect(html).toContain('No history violates linearizability');
  });
});
