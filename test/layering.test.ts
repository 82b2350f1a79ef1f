import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    if (e === 'node_modules' || e === 'dist' || e === 'build') continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/**
 * Relative imports of a file, resolved to repository paths (".js" → ".ts"). Type-only imports are
 * left out of the cycle check (they vanish at compile time) but not of the layering checks.
 */
function imports(file: string, withTypes = true): string[] {
  let text = readFileSync(file, 'utf8');
  if (!withTypes) text = text.replace(/^import type [^;]*;$/gm, '');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g)) {
    const spec = m[1] ?? m[2]!;
    out.push(relative(ROOT, resolve(dirname(file), spec.replace(/\.js$/, '.ts'))));
  }
  return out;
}

const DIRS = ['src', 'sim', 'cli', 'native', 'reports', 'spec'];
const files = DIRS.flatMap((d) => {
  try {
    return sources(join(ROOT, d));
  } catch {
    return [];
  }
});
const graph = new Map(files.map((f) => [relative(ROOT, f), imports(f)]));
const runtimeGraph = new Map(files.map((f) => [relative(ROOT, f), imports(f, false)]));

describe('layering (DESIGN.md)', () => {
  it('src/protocols imports only src/platform, src/kv, src/check, src/workload and itself', () => {
    const bad: string[] = [];
    for (const [f, deps] of graph) {
      if (!f.startsWith('src/protocols/')) continue;
      for (const d of deps) if (!/^src\/(platform|kv|check|workload|protocols)\//.test(d)) bad.push(`${f} → ${d}`);
    }
    expect(bad).toEqual([]);
  });

  it('src/ never imports sim/, native/, cli/ or reports/', () => {
    const bad = [...graph].flatMap(([f, deps]) => (f.startsWith('src/') ? deps.filter((d) => /^(sim|native|cli|reports)\//.test(d)).map((d) => `${f} → ${d}`) : []));
    expect(bad).toEqual([]);
  });

  it('sim/ never imports native/, and nothing but the CLI imports reports/', () => {
    const bad = [...graph].flatMap(([f, deps]) =>
      deps.filter((d) => (f.startsWith('sim/') && d.startsWith('native/')) || (d.startsWith('reports/') && !f.startsWith('cli/') && !f.startsWith('reports/'))).map((d) => `${f} → ${d}`),
    );
    expect(bad).toEqual([]);
  });

  it('protocol code never asks which backend runs it', () => {
    const bad = [...graph.keys()].filter((f) => f.startsWith('src/protocols/') && /\b(isNative|isSim|KVLAB_BACKEND|process\.env)\b/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(bad).toEqual([]);
  });

  it('there are no import cycles (at run time)', () => {
    const state = new Map<string, 'active' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, stack: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'active') {
        cycles.push([...stack.slice(stack.indexOf(f)), f].join(' → '));
        return;
      }
      state.set(f, 'active');
      for (const d of runtimeGraph.get(f) ?? []) if (runtimeGraph.has(d)) visit(d, [...stack, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
