import { InputError } from './errors.js';

/**
 * Command-line flags: `--name value`, `--name=value`, boolean `--flag`. Anything not declared is
 * an error naming the flag; values are checked against their declared type.
 */

export type FlagType = 'bool' | 'int' | 'string' | 'range' | 'shard';

export interface FlagSpec {
  [name: string]: FlagType;
}

export type FlagValue = boolean | number | string | [number, number];

export interface Parsed {
  flags: Record<string, FlagValue>;
  positional: string[];
}

export function parseFlags(args: readonly string[], spec: FlagSpec): Parsed {
  const flags: Record<string, FlagValue> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--') || a === '--') {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const type = spec[name];
    if (type === undefined) throw new InputError('argv', `--${name}`, `unknown flag (known: ${Object.keys(spec).map((k) => `--${k}`).join(', ') || 'none'})`);
    if (type === 'bool') {
      if (eq >= 0) {
        const v = a.slice(eq + 1);
        if (v !== 'true' && v !== 'false') throw new InputError('argv', `--${name}`, `expected true or false, got ${JSON.stringify(v)}`);
        flags[name] = v === 'true';
      } else flags[name] = true;
      continue;
    }
    let raw: string;
    if (eq >= 0) raw = a.slice(eq + 1);
    else {
      const next = args[i + 1];
      if (next === undefined) throw new InputError('argv', `--${name}`, 'missing value');
      raw = next;
      i++;
    }
    flags[name] = convert(name, type, raw);
  }
  return { flags, positional };
}

function convert(name: string, type: FlagType, raw: string): FlagValue {
  switch (type) {
    case 'int': {
      if (!/^-?\d+$/.test(raw)) throw new InputError('argv', `--${name}`, `expected an integer, got ${JSON.stringify(raw)}`);
      const v = Number(raw);
      if (!Number.isSafeInteger(v)) throw new InputError('argv', `--${name}`, `integer out of range: ${raw}`);
      return v;
    }
    case 'range': {
      const m = /^(\d+)\.\.(\d+)$/.exec(raw);
      if (m === null) throw new InputError('argv', `--${name}`, `expected a range A..B, got ${JSON.stringify(raw)}`);
      const a = Number(m[1]);
      const b = Number(m[2]);
      if (b < a) throw new InputError('argv', `--${name}`, `empty range ${raw} (B < A)`);
      return [a, b];
    }
    case 'shard': {
      const m = /^(\d+)\/(\d+)$/.exec(raw);
      if (m === null) throw new InputError('argv', `--${name}`, `expected i/n, got ${JSON.stringify(raw)}`);
      const i = Number(m[1]);
      const n = Number(m[2]);
      if (n < 1 || i >= n) throw new InputError('argv', `--${name}`, `shard index must be in [0, n): got ${raw}`);
      return [i, n];
    }
    default:
      return raw;
  }
}

export function flagInt(p: Parsed, name: string, def: number, min = -Infinity, max = Infinity): number {
  const v = p.flags[name];
  if (v === undefined) return def;
  if (typeof v !== 'number') throw new InputError('argv', `--${name}`, 'expected an integer');
  if (v < min || v > max) throw new InputError('argv', `--${name}`, `must be in [${min}, ${max}], got ${v}`);
  return v;
}

export function flagStr(p: Parsed, name: string): string | undefined {
  const v = p.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function flagBool(p: Parsed, name: string): boolean {
  return p.flags[name] === true;
}

/** Exactly `n` positional arguments (named for the error message). */
export function positionals(p: Parsed, names: string[], opts: { variadicLast?: boolean } = {}): string[] {
  if (p.positional.length < names.length) throw new InputError('argv', `<${names[p.positional.length]}>`, 'missing argument');
  if (!opts.variadicLast && p.positional.length > names.length) throw new InputError('argv', p.positional[names.length]!, 'unexpected argument');
  return p.positional;
}
