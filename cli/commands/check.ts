import { readFile, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { benchChecker, type CheckerBenchResult } from '../../src/check/bench.js';
import { describeOp, opValue } from '../../src/check/describe.js';
import { checkLinearizability } from '../../src/check/linearizability.js';
import { toOps, type Op } from '../../src/check/ops.js';
import { parseHistory, type ParsedHistory } from '../../src/check/parse.js';
import { renderTimelineHtml, type TimelineInput } from '../../src/check/timeline-html.js';
import { EXIT, InputError } from '../errors.js';

/**
 * `kvlab check <history.jsonl>... [--json] [--html FILE]` — linearizability of client histories.
 *
 * Every file is checked even when an earlier one is malformed or violates; the exit status is the
 * worst seen: 2 if any file was bad input, else 1 if any history is not linearizable, else 0.
 */

export interface CheckIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export const CHECK_USAGE = `usage: kvlab check <history.jsonl>... [--json] [--html FILE]

Checks each history for linearizability (per key, Wing–Gong–Lowe search).
  --json       one JSON object per file on stdout
  --html FILE  write a self-contained page with per-process timelines of the violating histories
               (of all histories when none violates)
Exit status: 0 all linearizable, 1 some history is not, 2 bad input.`;

interface Args {
  files: string[];
  json: boolean;
  html?: string;
  help: boolean;
}

export async function checkCommand(args: string[], io: CheckIo): Promise<number> {
  let parsed: Args;
  try {
    parsed = parseArgs(args);
  } catch (err) {
    return reportInputError(err, io);
  }
  if (parsed.help) {
    io.stdout(`${CHECK_USAGE}\n`);
    return EXIT.OK;
  }
  let status: number = EXIT.OK;
  const pages: TimelineInput[] = [];
  for (const file of parsed.files) {
    let result: FileResult;
    try {
      result = await checkFile(file);
    } catch (err) {
      status = reportInputError(err, io);
      continue;
    }
    if (!result.json.linearizable && status === EXIT.OK) status = EXIT.VIOLATION;
    io.stdout(parsed.json ? `${JSON.stringify(result.json)}\n` : human(result));
    if (parsed.html !== undefined) pages.push(result.page);
  }
  if (parsed.html !== undefined) {
    try {
      await writeFile(parsed.html, renderTimelineHtml(pages));
    } catch (err) {
      return reportInputError(new InputError('argv', '--html', `cannot write ${parsed.html} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`), io);
    }
  }
  return status;
}

/** The checker benchmark on the wall clock (src/ may not read one): 10k ops, 8 processes, 100 keys. */
export function runCheckerBench(opts: { seed?: number | string; ops?: number; processes?: number; keys?: number } = {}): CheckerBenchResult {
  return benchChecker({ ...opts, clock: () => performance.now() });
}

function parseArgs(args: string[]): Args {
  const out: Args = { files: [], json: false, help: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--json') out.json = true;
    else if (a === '-h' || a === '--help') out.help = true;
    else if (a === '--html' || a.startsWith('--html=')) {
      const v = a === '--html' ? args[++i] : a.slice('--html='.length);
      if (v === undefined || v === '') throw new InputError('argv', '--html', 'expects a file name');
      out.html = v;
    } else if (a.startsWith('-') && a !== '-') throw new InputError('argv', a, 'unknown flag (see kvlab check --help)');
    else out.files.push(a);
  }
  if (out.files.length === 0 && !out.help) throw new InputError('argv', 'files', 'expected at least one history file');
  return out;
}

interface FileJson {
  file: string;
  linearizable: boolean;
  ops: number;
  /** Wall time to parse and check the file. */
  wallMs: number;
  key?: string;
  minimalOps?: MinimalOpJson[];
  violatingKeys?: string[];
}

interface MinimalOpJson {
  process: number;
  f: string;
  key: string;
  /** As a completion event carries it: the value read for a get, else the invoked value. */
  value: unknown;
  /** ok, or info (outcome unknown, including never completed). */
  type: string;
  /** 0-based event indices (init and fault lines are not events); completeIndex null = never completed. */
  invokeIndex: number;
  completeIndex: number | null;
  /** 1-based lines in the file. */
  invokeLine: number;
  completeLine: number | null;
  invokeTimeNs?: number;
  completeTimeNs?: number;
}

interface FileResult {
  json: FileJson;
  history: ParsedHistory;
  ops: Op[];
  partial: string[];
  page: TimelineInput;
}

async function checkFile(file: string): Promise<FileResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(file, '', code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? (err as Error).message})`);
  }
  const t0 = performance.now();
  const history = parseHistory(text, file);
  const result = checkLinearizability(history);
  const wallMs = performance.now() - t0;
  const ops = toOps(history);
  const json: FileJson = { file, linearizable: result.linearizable, ops: result.ops, wallMs: Math.round(wallMs * 1000) / 1000 };
  const first = result.violations[0];
  const page: TimelineInput = { file, history, ops, linearizable: result.linearizable, wallMs, eventLines: history.eventLines };
  let partial: string[] = [];
  if (first) {
    json.key = first.key;
    json.minimalOps = (first.minimalOps ?? []).map((op) => minimalOpJson(op, history));
    json.violatingKeys = result.violations.map((v) => v.key);
    page.violation = first;
    page.otherViolatingKeys = json.violatingKeys.slice(1);
    partial = first.partialLinearization.map((s) => describeOp(s.op));
  }
  return { json, history, ops, partial, page };
}

function minimalOpJson(op: Op, history: ParsedHistory): MinimalOpJson {
  const out: MinimalOpJson = {
    process: op.process,
    f: op.f,
    key: op.key,
    value: opValue(op),
    type: op.status,
    invokeIndex: op.invokeIndex,
    completeIndex: op.completeIndex,
    invokeLine: history.eventLines[op.invokeIndex]!,
    completeLine: op.completeIndex === null ? null : history.eventLines[op.completeIndex]!,
  };
  if (op.invokeTimeNs !== undefined) out.invokeTimeNs = op.invokeTimeNs;
  if (op.completeTimeNs !== undefined) out.completeTimeNs = op.completeTimeNs;
  return out;
}

function human(r: FileResult): string {
  const j = r.json;
  const head = `${j.linearizable ? '✓' : '✗'} ${j.file}  ${j.ops} ops  ${j.wallMs.toFixed(1)} ms`;
  if (j.linearizable) return `${head}\n`;
  const lines = [`${head}  key ${JSON.stringify(j.key)} not linearizable; a 1-minimal violating set of ${j.minimalOps!.length} ops:`];
  const minimal = r.page.violation!.minimalOps ?? [];
  const width = Math.max(...minimal.map((op) => describeOp(op).length));
  minimal.forEach((op, i) => {
    const m = j.minimalOps![i]!;
    const at = m.completeLine === null ? `line ${m.invokeLine}, never completed` : `lines ${m.invokeLine}–${m.completeLine}`;
    const times = m.invokeTimeNs === undefined ? '' : `  t=${m.invokeTimeNs}–${m.completeTimeNs ?? '∞'} ns`;
    lines.push(`    ${describeOp(op).padEnd(width)}  ${at}${times}`);
  });
  lines.push(`  longest partial linearization: ${r.partial.length === 0 ? '(none: no op can go first)' : r.partial.join(', ')}`);
  if (j.violatingKeys!.length > 1) lines.push(`  also not linearizable: keys ${j.violatingKeys!.slice(1).map((k) => JSON.stringify(k)).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function reportInputError(err: unknown, io: CheckIo): number {
  if (err instanceof InputError) {
    io.stderr(`kvlab: ${err.message}\n`);
    return EXIT.BAD_INPUT;
  }
  throw err;
}
