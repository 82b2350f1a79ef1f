import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SweepOutcome, SweepTask } from '../sweep-worker.js';
import { EXIT, InputError } from '../errors.js';
import { flagBool, flagInt, flagStr, parseFlags, positionals } from '../flags.js';
import { type Io, Progress, fmtInt, wallMs } from '../io.js';
import { loadScenario } from '../load.js';
import { replayCommandFor, writeOut } from './run.js';

export const SWEEP_HELP = `kvlab sweep <scenario> --seeds A..B [--workers K] [--shard i/n] [--check-determinism] [--json] [--out FILE]
  Runs every seed of the range (or this shard of it: seeds with (seed - A) mod n = i) in K worker
  threads. --check-determinism runs each seed twice (in different workers when K > 1) and fails
  on any trace-hash difference. --out writes every seed's outcome as JSON (shards merge by file).`;

export interface SweepSummary {
  scenario: string;
  seeds: number;
  ok: number;
  violations: { seed: number; kind: string; message: string; replay: string }[];
  determinism: { checked: boolean; mismatches: { seed: number; hashes: string[] }[] };
  shard: [number, number] | null;
  workers: number;
  wallMs: number;
  eventsTotal: number;
}

export async function sweepCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { seeds: 'range', workers: 'int', shard: 'shard', 'check-determinism': 'bool', json: 'bool', out: 'string', help: 'bool' });
  if (flagBool(p, 'help')) {
    io.stdout(SWEEP_HELP);
    return EXIT.OK;
  }
  const [file] = positionals(p, ['scenario']);
  const sc = loadScenario(file!); // validate up front: bad input fails before any worker starts
  const range = p.flags['seeds'] as [number, number] | undefined;
  if (range === undefined) throw new InputError('argv', '--seeds', 'required: a seed range A..B');
  const shard = (p.flags['shard'] as [number, number] | undefined) ?? null;
  const seeds: number[] = [];
  for (let s = range[0]; s <= range[1]; s++) if (shard === null || (s - range[0]) % shard[1] === shard[0]) seeds.push(s);
  const workers = Math.max(1, Math.min(flagInt(p, 'workers', availableParallelism(), 1, 256), seeds.length || 1));
  const checkDet = flagBool(p, 'check-determinism');

  const t0 = wallMs();
  const outcomes = await runPool(file!, seeds, workers, checkDet ? 2 : 1, io);
  const ms = wallMs() - t0;

  const bySeed = new Map<number, SweepOutcome[]>();
  for (const o of outcomes) {
    const l = bySeed.get(o.seed) ?? [];
    l.push(o);
    bySeed.set(o.seed, l);
  }
  const summary: SweepSummary = {
    scenario: sc.name,
    seeds: seeds.length,
    ok: 0,
    violations: [],
    determinism: { checked: checkDet, mismatches: [] },
    shard,
    workers,
    wallMs: Math.round(ms),
    eventsTotal: 0,
  };
  for (const seed of seeds) {
    const runs = (bySeed.get(seed) ?? []).sort((a, b) => a.attempt - b.attempt);
    const first = runs[0]!;
    summary.eventsTotal += first.events;
    const hashes = [...new Set(runs.map((r) => r.traceHash))];
    if (hashes.length > 1) summary.determinism.mismatches.push({ seed, hashes: runs.map((r) => r.traceHash) });
    if (first.result === 'ok') summary.ok++;
    else for (const v of first.violations) summary.violations.push({ seed, kind: v.kind, message: v.message, replay: replayCommandFor(file!, seed) });
  }
  const outPath = flagStr(p, 'out');
  if (outPath !== undefined) writeOut(outPath, JSON.stringify({ summary, outcomes }, null, 1));

  if (flagBool(p, 'json')) io.stdout(JSON.stringify(summary));
  else {
    const failedSeeds = new Set(summary.violations.map((v) => v.seed)).size;
    io.stdout(`${sc.name}: ${fmtInt(seeds.length)} seeds${shard ? ` (shard ${shard[0]}/${shard[1]})` : ''}, ${workers} workers, ${fmtInt(ms)} ms wall, ${fmtInt(summary.eventsTotal)} events`);
    io.stdout(`  ok ${summary.ok}, failing seeds ${failedSeeds}`);
    for (const v of summary.violations.slice(0, 20)) io.stdout(`  ✗ seed ${v.seed} ${v.kind}: ${v.message}\n      replay: ${v.replay}`);
    if (summary.violations.length > 20) io.stdout(`  … ${summary.violations.length - 20} more violations`);
    if (checkDet) {
      io.stdout(summary.determinism.mismatches.length === 0 ? `  determinism: every seed ran twice with identical trace hashes` : `  DETERMINISM FAILURE on ${summary.determinism.mismatches.length} seeds`);
      for (const m of summary.determinism.mismatches.slice(0, 10)) io.stdout(`    seed ${m.seed}: ${m.hashes.join(' vs ')}`);
    }
  }
  return summary.violations.length === 0 && summary.determinism.mismatches.length === 0 ? EXIT.OK : EXIT.VIOLATION;
}

/** Runs `attempts` × seeds on a pool of worker threads; a seed's attempts go to different workers when possible. */
export function runPool(file: string, seeds: readonly number[], workers: number, attempts: number, io: Io): Promise<SweepOutcome[]> {
  return new Promise((resolve, reject) => {
    const queue: SweepTask[] = [];
    for (let a = 0; a < attempts; a++) for (const seed of seeds) queue.push({ seed, attempt: a });
    const total = queue.length;
    const outcomes: SweepOutcome[] = [];
    const ranOn = new Map<number, number>();
    const progress = new Progress(io, total, 'sweep');
    let violations = 0;
    let live = workers;
    const pool: Worker[] = [];
    const takeFor = (w: number): SweepTask | null => {
      // Prefer a task whose earlier attempt ran on another worker.
      const i = queue.findIndex((t) => t.attempt === 0 || ranOn.get(t.seed) !== w);
      if (i >= 0) return queue.splice(i, 1)[0]!;
      return queue.shift() ?? null;
    };
    for (let w = 0; w < workers; w++) {
      const worker = new Worker(new URL('../sweep-worker.js', import.meta.url), { workerData: { file, worker: w } });
      pool.push(worker);
      const feed = () => {
        const t = takeFor(w);
        if (t !== null && t.attempt === 0) ranOn.set(t.seed, w);
        worker.postMessage(t);
      };
      worker.on('message', (m: SweepOutcome | 'ready') => {
        if (m !== 'ready') {
          outcomes.push(m);
          if (m.result !== 'ok' && m.attempt === 0) violations++;
          progress.update(outcomes.length, `${violations} failing`);
        }
        feed();
      });
      worker.on('error', (e) => {
        for (const x of pool) void x.terminate();
        reject(e);
      });
      worker.on('exit', () => {
        live--;
        if (live === 0) {
          progress.done();
          if (outcomes.length !== total) reject(new Error(`sweep workers exited with ${total - outcomes.length} seeds unfinished`));
          else resolve(outcomes);
        }
      });
    }
  });
}
