import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../cli/errors.js';
import type { Io } from '../../cli/io.js';
import { findTlcJar, resolveTarget, runTlc, tlcCommand } from '../../cli/commands/tlc.js';

// What CI asserts: every CI .cfg in spec/ passes TLC, every spec/mustfail/*.cfg is rejected with a
// counterexample. Needs Java and the TLC jar (spec/fetch-tlc.sh); skipped, saying so, without them.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const specDir = join(root, 'spec');
const jar = findTlcJar(specDir);
const javaOk = spawnSync(process.env['KVLAB_JAVA'] || 'java', ['-version'], { stdio: 'ignore' }).status === 0;
const why = !javaOk ? 'java is not installed' : jar === null ? 'the TLC jar is missing (run spec/fetch-tlc.sh)' : '';
if (why !== '') console.warn(`test/spec/tlc-models: SKIPPED: ${why}`);

const ciCfgs = readdirSync(specDir).filter((f) => f.endsWith('.cfg') && !f.endsWith('.deep.cfg')).sort();
const mustFail = readdirSync(join(specDir, 'mustfail')).filter((f) => f.endsWith('.cfg')).sort();
const WORKERS = 2;
const LONG = 15 * 60_000;

function captureIo(): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, isTty: false, stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) };
}

describe.skipIf(why !== '')('TLC on the specs', () => {
  it('has CI and must-fail configurations', () => {
    expect(ciCfgs).toEqual(expect.arrayContaining(['LoLKV.cfg', 'RowanKV.cfg']));
    expect(mustFail.length).toBeGreaterThanOrEqual(7);
  });

  for (const cfg of ciCfgs) {
    it(`${cfg} passes`, async () => {
      const run = await runTlc(resolveTarget(join(specDir, cfg), false), { workers: WORKERS, jar: jar! });
      expect(run.inputProblem, run.output.slice(-3000)).toBeNull();
      expect(run.result.verdict, run.output.slice(-3000)).toBe('ok');
      expect(run.result.distinctStates).toBeGreaterThan(1000);
      console.info(`${cfg}: ok, ${run.result.distinctStates} distinct / ${run.result.generatedStates} generated states, depth ${run.result.depth}, ${Math.round(run.wallMs)} ms`);
    }, LONG);
  }

  for (const cfg of mustFail) {
    it(`mustfail/${cfg} is rejected with a counterexample`, async () => {
      const run = await runTlc(resolveTarget(join(specDir, 'mustfail', cfg), false), { workers: WORKERS, jar: jar! });
      expect(run.inputProblem).toBeNull();
      expect(run.result.verdict, run.output.slice(-3000)).toBe('violation');
      expect(run.result.invariant).toBeTruthy();
      const ce = run.result.counterexample!;
      expect(ce.length).toBeGreaterThan(1);
      expect(ce[0]!.action).toBe('Initial predicate');
      expect(Object.keys(ce[0]!.vars).length).toBeGreaterThan(3);
      console.info(`mustfail/${cfg}: ${run.result.invariant} violated, ${ce.length} states, ${Math.round(run.wallMs)} ms`);
    }, LONG);
  }
});

describe.skipIf(why !== '')('kvlab tlc', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'kvlab-tlc-test-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  const fixtures = join(root, 'test', 'spec', 'fixtures');
  copyFileSync(join(fixtures, 'Tiny.tla'), join(tmp, 'Tiny.tla'));
  writeFileSync(join(tmp, 'Tiny.cfg'), 'CONSTANT Max = 2\nSPECIFICATION Spec\nINVARIANT Small\nCHECK_DEADLOCK FALSE\n');
  writeFileSync(join(tmp, 'Tiny.viol.cfg'), 'CONSTANT Max = 4\nSPECIFICATION Spec\nINVARIANT Small\nCHECK_DEADLOCK FALSE\n');
  writeFileSync(join(tmp, 'Tiny.deep.cfg'), 'CONSTANT Max = 2\nSPECIFICATION Spec\nINVARIANT Small\nCHECK_DEADLOCK FALSE\n');
  writeFileSync(join(tmp, 'Tiny.bad.cfg'), 'CONSTANT Max == 2\nSPECIFICATIONX Spec\n');
  writeFileSync(join(tmp, 'Nope.cfg'), 'CONSTANT Max = 2\n');

  it('--json on a passing model', async () => {
    const io = captureIo();
    expect(await tlcCommand([join(tmp, 'Tiny.cfg'), '--json', '--workers', '1'], io)).toBe(0);
    const j = JSON.parse(io.out.join(''));
    expect(j).toMatchObject({ verdict: 'ok', generatedStates: 3, distinctStates: 3, depth: 3 });
    expect(typeof j.wallMs).toBe('number');
  }, LONG);

  it('--json on a violation: exit 1, invariant and the counterexample as states', async () => {
    const io = captureIo();
    expect(await tlcCommand([join(tmp, 'Tiny.viol.cfg'), '--json', '--workers', '1'], io)).toBe(1);
    const j = JSON.parse(io.out.join(''));
    expect(j.verdict).toBe('violation');
    expect(j.invariant).toBe('Small');
    expect(j.counterexample).toEqual([{ x: '0', y: '"a"' }, { x: '1', y: '"a"' }, { x: '2', y: '"b"' }, { x: '3', y: '"b"' }]);
  }, LONG);

  it('human output on a violation names the invariant and prints the behavior', async () => {
    const io = captureIo();
    expect(await tlcCommand([join(tmp, 'Tiny.viol.cfg'), '--workers', '1'], io)).toBe(1);
    const text = io.out.join('\n');
    expect(text).toMatch(/VIOLATION: invariant Small violated/);
    expect(text).toMatch(/4\. Next/);
    expect(text).toMatch(/x = 3/);
  }, LONG);

  it('--deep picks <Name>.deep.cfg; a .tla picks <Name>.cfg', async () => {
    expect(resolveTarget(join(tmp, 'Tiny.cfg'), true).cfg).toBe(join(tmp, 'Tiny.deep.cfg'));
    expect(resolveTarget(join(tmp, 'Tiny.tla'), false).cfg).toBe(join(tmp, 'Tiny.cfg'));
    expect(resolveTarget(join(specDir, 'mustfail', 'LoLKV.noStateSync.cfg'), false).tla).toBe(join(specDir, 'LoLKV.tla'));
  });

  it('bad input is an InputError (exit 2 in main): missing file, missing spec, cfg syntax', async () => {
    await expect(tlcCommand([join(tmp, 'Missing.cfg')], captureIo())).rejects.toThrow(InputError);
    await expect(tlcCommand([join(tmp, 'Nope.cfg')], captureIo())).rejects.toThrow(/no module Nope\.tla/);
    await expect(tlcCommand([join(tmp, 'Tiny.bad.cfg'), '--workers', '1'], captureIo())).rejects.toThrow(/Tiny\.bad\.cfg: line 1: syntax error/);
    await expect(tlcCommand([join(tmp, 'Tiny.cfg'), '--workers', 'x'], captureIo())).rejects.toThrow(InputError);
  }, LONG);
});
