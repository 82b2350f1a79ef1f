import { writeFileSync } from 'node:fs';
import type { RunResult } from '../../sim/harness.js';
import { runScenario } from '../../sim/harness.js';
import { MemoryRecorder, renderTimeline, writeTrace } from '../../sim/trace/index.js';
import { EXIT, InputError } from '../errors.js';
import { flagBool, flagInt, flagStr, parseFlags, positionals } from '../flags.js';
import { type Io, fmtInt, fmtNs, wallMs } from '../io.js';
import { loadScenario } from '../load.js';
import { historyJsonl } from '../history-file.js';

export const RUN_HELP = `kvlab run <scenario> [--seed N] [--json] [--history FILE] [--trace FILE]
  Runs one seed of a scenario in the simulator and checks it.`;

/** `kvlab run`: one seed, checks, a summary (or JSON); exit 1 on a violation. */
export async function runCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { seed: 'int', json: 'bool', history: 'string', trace: 'string', help: 'bool' });
  if (flagBool(p, 'help')) {
    io.stdout(RUN_HELP);
    return EXIT.OK;
  }
  const [file] = positionals(p, ['scenario']);
  const sc = loadScenario(file!);
  const seed = flagInt(p, 'seed', sc.seed, 0, Number.MAX_SAFE_INTEGER);
  const tracePath = flagStr(p, 'trace');
  const recorder = tracePath !== undefined ? new MemoryRecorder() : null;
  const t0 = wallMs();
  const r = runScenario(sc, { seed, recorder });
  const ms = wallMs() - t0;
  const historyPath = flagStr(p, 'history');
  if (historyPath !== undefined) writeOut(historyPath, historyJsonl(r.history));
  if (tracePath !== undefined && recorder !== null) {
    writeOut(tracePath, writeTrace({ scenario: sc.name, seed, traceHash: r.traceHash, events: r.events, virtualTimeNs: r.virtualTimeNs }, recorder.records));
  }
  if (flagBool(p, 'json')) {
    io.stdout(JSON.stringify(summaryJson(r, ms)));
  } else {
    printSummary(io, r, ms, file!);
  }
  if (r.result === 'violation' && !flagBool(p, 'json')) printExcerpt(io, sc, seed, file!);
  return r.result === 'ok' ? EXIT.OK : EXIT.VIOLATION;
}

export function summaryJson(r: RunResult, ms: number) {
  return {
    scenario: r.scenario,
    protocol: r.protocol,
    seed: r.seed,
    traceHash: r.traceHash,
    events: r.events,
    eventsByKind: r.eventsByKind,
    virtualTimeNs: r.virtualTimeNs,
    wallMs: Math.round(ms * 10) / 10,
    result: r.result,
    violations: r.violations,
    stats: r.stats,
    faults: r.faults,
    lastHealNs: r.lastHealNs,
    ...(r.swarm ? { swarmKinds: r.swarm.kinds } : {}),
  };
}

export function replayCommandFor(file: string, seed: number): string {
  return `kvlab replay ${file} --seed ${seed} --timeline`;
}

function printSummary(io: Io, r: RunResult, ms: number, file: string): void {
  const mark = r.result === 'ok' ? 'ok' : 'VIOLATION';
  io.stdout(`${r.scenario} (${r.protocol})  seed ${r.seed}  ${mark}`);
  io.stdout(`  trace ${r.traceHash}  ${fmtInt(r.events)} events  ${fmtNs(r.virtualTimeNs)} virtual  ${fmtInt(ms)} ms wall`);
  const s = r.stats;
  io.stdout(`  ops ${fmtInt(s.ops)} (ok ${fmtInt(s.ok)}, fail ${fmtInt(s.fail)}, info ${fmtInt(s.info)})  latency p50 ${fmtNs(s.latencyNs.p50)}  p99 ${fmtNs(s.latencyNs.p99)}`);
  if (r.swarm) io.stdout(`  swarm: kinds ${r.swarm.kinds.join(', ')}; ${r.swarm.faults.length} faults drawn`);
  for (const f of r.faults) io.stdout(`  fault @ ${fmtNs(f.atNs)}: ${f.text}`);
  for (const v of r.violations) {
    io.stdout(`  ✗ ${v.kind}: ${v.message}`);
    for (const op of (v.minimalOps ?? []) as Record<string, unknown>[]) io.stdout(`      ${JSON.stringify(op)}`);
  }
  if (r.result === 'violation') {
    io.stdout(`  seed ${r.seed} fails; replay it with:`);
    io.stdout(`    ${replayCommandFor(file, r.seed)}`);
  }
}

/** The shortest failing excerpt: the timeline around the first violation (re-run with a recorder). */
function printExcerpt(io: Io, sc: Parameters<typeof runScenario>[0], seed: number, file: string): void {
  const rec = new MemoryRecorder({ keep: 'last', maxRecords: 20_000 });
  const r = runScenario(sc, { seed, recorder: rec });
  const v = rec.records.find((x) => x.kind === 'violation');
  const lines = renderTimeline(rec.records, {
    summary: false,
    excludeKinds: ['step', 'rc.', 'ud.', 'cm.', 'mr.'],
    ...(v !== undefined ? { aroundNs: v.t, aroundWindowNs: 50_000 } : {}),
    maxLines: 30,
  });
  if (lines.length === 0) return;
  io.stdout(`  last protocol and client events${v !== undefined ? ' before the violation' : ''} (${file}, seed ${seed}, trace ${r.traceHash}):`);
  for (const l of lines.slice(-30)) io.stdout(`    ${l}`);
}

export function writeOut(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new InputError(path, '', `cannot write: ${(e as Error).message}`);
  }
}
