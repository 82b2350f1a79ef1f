import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkTrace, findSpecDir, validateCommand } from '../../cli/commands/validate.js';
import { findTlcJar } from '../../cli/commands/tlc.js';
import { InputError } from '../../cli/errors.js';
import type { Io } from '../../cli/io.js';
import { buildLolkvTrace } from '../../sim/validate/index.js';
import { LOLKV_SMALL, rec } from './fixtures/validate-small.js';

// Trace validation end to end (simulator run -> trace module -> TLC): swarm seeds of LoLKV and
// Rowan-KV validate, runs with a safety mechanism switched off are rejected at the first event the
// spec cannot take. Needs Java and the TLC jar (spec/fetch-tlc.sh); skipped, saying so, without them.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const specDir = join(root, 'spec');
const jar = findTlcJar(specDir);
const javaOk = spawnSync(process.env['KVLAB_JAVA'] || 'java', ['-version'], { stdio: 'ignore' }).status === 0;
const why = !javaOk ? 'java is not installed' : jar === null ? 'the TLC jar is missing (run spec/fetch-tlc.sh)' : '';
if (why !== '') console.warn(`test/spec/validate-tlc: SKIPPED: ${why}`);
const LONG = 5 * 60_000;

function captureIo(): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, isTty: false, stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) };
}

async function validate(args: string[]): Promise<{ code: number; json: Record<string, any> }> {
  const io = captureIo();
  const code = await validateCommand([...args, '--json'], io);
  return { code, json: JSON.parse(io.out.join('')) };
}

describe.skipIf(why !== '')('trace validation with TLC', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kvlab-validate-test-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('a synthetic LoLKV trace is a behavior of LoLKV.tla; with an older version installed last it is rejected there', async () => {
    expect(findSpecDir()).toBe(specDir);
    const ok = buildLolkvTrace(LOLKV_SMALL, { servers: [0, 1, 2] });
    const a = await checkTrace(ok, specDir, join(tmp, 'ok'), jar!);
    expect(a.verdict.verdict, a.tlc.output.slice(-2000)).toBe('valid');
    // the incarnation check off: incarnation 1 applied over incarnation 2
    const bad = LOLKV_SMALL.map((r) => {
      if (r.kind === 'lolkv.apply' && r.fields!['inc'] === 1) return { ...r, t: 85, fields: { ...r.fields, replaced: true } };
      if (r.kind === 'lolkv.apply' && r.fields!['inc'] === 2) return { ...r, fields: { ...r.fields, replaced: false } };
      if (r.kind === 'lolkv.get' && r.fields!['inc'] === 1) return { ...r, t: 86 };
      return r;
    }).sort((x, y) => x.t - y.t);
    const b = await checkTrace(buildLolkvTrace([...bad, rec(87, 1, 'lolkv.get', { key: 'user7', term: 1, inc: 2 })], { servers: [0, 1, 2] }), specDir, join(tmp, 'bad'), jar!);
    expect(b.verdict.verdict).toBe('rejected');
    expect(b.verdict.firstRejected!.kind).toBe('lolkv.apply');
    expect(b.verdict.firstRejected!.event).toMatch(/inc=1 replaced=true applied=true/);
  }, LONG);

  // 1: plain; 7: a WRITE flushed by a NIC failure had landed and a later sync adopted it; 9: a GET
  // whose lookup preceded an apply of its key; 89: a GET looked up while a follower knew the term
  // only from heartbeats (lolkv.adopt-term); 49: a sync that did not READ a replica fenced for its
  // term (not connected yet) and so did not adopt its uncommitted object (lolkv.sync sources);
  // 168: followers down at a GET's lookup, caught up before its read check passed
  for (const seed of [1, 7, 9, 89, 49, 168]) {
    it(`lolkv-swarm seed ${seed} validates against LoLKV.tla`, async () => {
      const { code, json } = await validate(['scenarios/lolkv-swarm.json', '--seed', String(seed)]);
      expect(json.verdict, JSON.stringify(json)).toBe('valid');
      expect(code).toBe(0);
      expect(json).toMatchObject({ valid: true, protocol: 'lolkv', seed, spec: 'LoLKV.tla', truncatedEvents: 0 });
      expect(json.events).toBeGreaterThan(300);
      expect(typeof json.wallMs).toBe('number');
      console.info(`lolkv-swarm seed ${seed}: valid, ${json.events} events, ${json.steps} steps, ${json.distinctStates} states, ${json.wallMs} ms`);
    }, LONG);
  }

  it('a LoLKV run with the incarnation check off is rejected at the apply that installs an older version', async () => {
    const { code, json } = await validate(['scenarios/lolkv-bug-incarnation.json', '--seed', '1', '--unsafe', 'skipIncarnationCheck']);
    expect(json.verdict, JSON.stringify(json)).toBe('rejected');
    expect(code).toBe(1);
    expect(json.valid).toBe(false);
    expect(json.firstRejected.kind).toBe('lolkv.apply');
    expect(json.firstRejected.event).toMatch(/lolkv\.apply .*applied=true/);
    expect(json.firstRejected.index).toBeGreaterThan(0);
    expect(json.firstRejected.index).toBeLessThanOrEqual(json.events);
    console.info(`skipIncarnationCheck: rejected at event ${json.firstRejected.index}: ${json.firstRejected.event}`);
  }, LONG);

  it('a LoLKV run without the read check is rejected at the GET of a deposed leader (a stale read)', async () => {
    const { code, json } = await validate(['scenarios/lolkv-bug-readcheck.json', '--seed', '30', '--unsafe', 'skipReadCheck']);
    expect(json.verdict, JSON.stringify(json)).toBe('rejected');
    expect(code).toBe(1);
    expect(json.firstRejected.kind).toBe('lolkv.get');
    expect(json.firstRejected.event).toMatch(/^@\d+ node \d lolkv\.get key=k\d+ term=\d+ inc=\d+ id=\d+$/);
    console.info(`skipReadCheck: rejected at event ${json.firstRejected.index}: ${json.firstRejected.event}`);
  }, LONG);

  it('a LoLKV run without state sync is rejected at its sync (it READ no follower); the same seed validates with sync on', async () => {
    const off = await validate(['scenarios/lolkv-bug-sync.json', '--seed', '1', '--unsafe', 'skipStateSync']);
    expect(off.json.verdict, JSON.stringify(off.json)).toBe('rejected');
    expect(off.code).toBe(1);
    expect(off.json.firstRejected.kind).toBe('lolkv.sync');
    expect(off.json.firstRejected.event).toMatch(/lolkv\.sync term=1 .*sources=$/);
    console.info(`skipStateSync: rejected at event ${off.json.firstRejected.index}: ${off.json.firstRejected.event}`);
    const on = await validate(['scenarios/lolkv-bug-sync.json', '--seed', '1']);
    expect(on.json.verdict, JSON.stringify(on.json)).toBe('valid');
    expect(on.code).toBe(0);
  }, LONG);

  it('rowankv-swarm seeds 1..2 validate against RowanKV.tla (a range, two at a time)', async () => {
    const io = captureIo();
    const code = await validateCommand(['scenarios/rowankv-swarm.json', '--seeds', '1..2', '--workers', '2', '--json'], io);
    const json = JSON.parse(io.out.join(''));
    expect(json, JSON.stringify(json)).toMatchObject({ valid: true, protocol: 'rowankv', seeds: 2, range: [1, 2], workers: 2, validSeeds: 2, rejected: 0, failures: [] });
    expect(code).toBe(0);
    expect(json.perSeed.map((x: { seed: number }) => x.seed)).toEqual([1, 2]);
    expect(io.err.filter((l) => /^\[\d\/2\] seed \d valid/.test(l))).toHaveLength(2); // a progress line per seed
    console.info(`rowankv-swarm seeds 1..2: valid, ${json.wallMs} ms wall`);
  }, LONG);

  it('a Rowan-KV run that acknowledges before the backups ACK is rejected at that commit', async () => {
    const { code, json } = await validate(['scenarios/rowankv-swarm.json', '--seed', '3', '--unsafe', 'ackBeforeBackups']);
    expect(json.verdict, JSON.stringify(json)).toBe('rejected');
    expect(code).toBe(1);
    expect(json.firstRejected.kind).toBe('rowankv.commit');
    console.info(`ackBeforeBackups: rejected at event ${json.firstRejected.index}: ${json.firstRejected.event}`);
  }, LONG);

  it('bad input exits 2 (thrown to main); a missing jar exits 3', async () => {
    await expect(validateCommand(['scenarios/mu-smoke.json', '--seed', '1'], captureIo())).rejects.toBeInstanceOf(InputError);
    await expect(validateCommand(['scenarios/lolkv-swarm.json', '--unsafe', 'noSuchSwitch'], captureIo())).rejects.toBeInstanceOf(InputError);
    await expect(validateCommand(['scenarios/lolkv-swarm.json', '--seed', '1', '--seeds', '1..3'], captureIo())).rejects.toThrow(/either --seed N or --seeds/);
    await expect(validateCommand(['scenarios/lolkv-swarm.json', '--seed', '1', '--workers', '2'], captureIo())).rejects.toThrow(/only with --seeds/);
    await expect(validateCommand(['scenarios/lolkv-swarm.json', '--seeds', '3..1'], captureIo())).rejects.toBeInstanceOf(InputError);
    const saved = process.env['KVLAB_TLC_JAR'];
    process.env['KVLAB_TLC_JAR'] = join(tmp, 'missing.jar');
    try {
      const io = captureIo();
      expect(await validateCommand(['scenarios/lolkv-swarm.json', '--seed', '1', '--json'], io)).toBe(3);
      expect(JSON.parse(io.out.join(''))).toMatchObject({ valid: false, verdict: 'error' });
    } finally {
      if (saved === undefined) delete process.env['KVLAB_TLC_JAR'];
      else process.env['KVLAB_TLC_JAR'] = saved;
    }
  });
});
