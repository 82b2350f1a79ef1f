import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../cli/load.js';
import { runScenario } from '../sim/harness.js';
import { ROOT, kvlab } from './helpers.js';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Strips comments and string literals, so prose about `Date.now` does not trip the scan. */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1')
    .replace(/`(?:\\.|[^`\\])*`/g, '``')
    .replace(/'(?:\\.|[^'\\])*'/g, "''")
    .replace(/"(?:\\.|[^"\\])*"/g, '""');
}

const FORBIDDEN: [RegExp, string][] = [
  [/\bMath\.random\b/, 'Math.random'],
  [/\bDate\b/, 'Date'],
  [/\bperformance\./, 'performance (wall clock)'],
  [/\bprocess\.hrtime\b/, 'process.hrtime'],
  [/\bset(Timeout|Interval|Immediate)\b/, 'timers'],
  [/\bqueueMicrotask\b/, 'queueMicrotask'],
  [/\bPromise\b/, 'Promise (the microtask queue would decide an order)'],
  [/\basync\b/, 'async'],
  [/\bawait\b/, 'await'],
  [/\bcrypto\b/, 'crypto randomness'],
  [/from 'node:(fs|net|child_process|worker_threads|os)'/, 'I/O'],
];

describe('determinism guards', () => {
  it('src/ and sim/ read no wall clock, timers, unseeded randomness or I/O, and create no Promise', () => {
    const offenders: string[] = [];
    for (const file of [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'sim'))]) {
      const text = readFileSync(file, 'utf8');
      // Keep import specifiers (they are strings) for the I/O check.
      const imports = text.match(/^import .* from '[^']+';$/gm)?.join('\n') ?? '';
      const body = code(text);
      for (const [re, what] of FORBIDDEN) {
        if (re.test(body) || (what === 'I/O' && re.test(imports))) offenders.push(`${relative(ROOT, file)}: ${what}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the scan itself catches a planted Math.random (the check can fail)', () => {
    const body = code("const x = Math.random(); // Date.now in a comment is fine\nconst s = 'Date';");
    expect(FORBIDDEN.filter(([re]) => re.test(body)).map(([, w]) => w)).toEqual(['Math.random']);
  });

  it('the same scenario and seed give the same trace hash twice in one process', () => {
    const sc = loadScenario(join(ROOT, 'scenarios/swarm.json'));
    const a = runScenario(sc, { seed: 11 });
    const b = runScenario(sc, { seed: 11 });
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.events).toBe(b.events);
    expect(a.history.events).toEqual(b.history.events);
    expect(runScenario(sc, { seed: 12 }).traceHash).not.toBe(a.traceHash);
  });

  it('the same seed gives the same trace hash in two separate processes', () => {
    const runs = [kvlab(['run', 'scenarios/swarm.json', '--seed', '5', '--json']), kvlab(['run', 'scenarios/swarm.json', '--seed', '5', '--json'])];
    const [a, b] = runs.map((r) => JSON.parse(r.stdout) as { traceHash: string; events: number });
    expect(a!.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(a!.traceHash).toBe(b!.traceHash);
    expect(a!.events).toBe(b!.events);
  });
});
