import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { runScenario } from '../../sim/harness.js';
import { MemoryRecorder, perfettoJson, renderTimeline } from '../../sim/trace/index.js';
import { EXIT } from '../errors.js';
import { flagBool, flagInt, flagStr, parseFlags } from '../flags.js';
import { historyJsonl } from '../history-file.js';
import { type Io, fmtInt, fmtNs, wallMs } from '../io.js';
import { loadScenario } from '../load.js';
import { replayCommandFor, writeOut } from './run.js';
import { runPool } from './sweep.js';

export const DEMO_HELP = `kvlab demo [--seeds N] [--workers K] [--out DIR]
  kvlab's main job on its built-in defaults: for every protocol's swarm scenario, sweep N seeds
  (default 100) twice each (determinism), then replay one faulty seed with a timeline, a history
  and a Perfetto trace, and write a summary to DIR (default out/demo).`;

/** Swarm scenarios the demo sweeps, in order; missing files are skipped. */
const SWARMS = ['scenarios/swarm.json', 'scenarios/lolkv-swarm.json', 'scenarios/rowankv-swarm.json'];

export async function demoCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { seeds: 'int', workers: 'int', out: 'string', help: 'bool' });
  if (flagBool(p, 'help')) {
    io.stdout(DEMO_HELP);
    return EXIT.OK;
  }
  const n = flagInt(p, 'seeds', 100, 1, 1_000_000);
  const workers = flagInt(p, 'workers', availableParallelism(), 1, 256);
  const outDir = flagStr(p, 'out') ?? join('out', 'demo');
  mkdirSync(outDir, { recursive: true });
  const md: string[] = ['# kvlab demo', ''];
  let failing = 0;
  for (const file of SWARMS) {
    if (!existsSync(file)) continue;
    const sc = loadScenario(file);
    io.stdout(`\n== ${sc.name} (${sc.protocol.name}): ${n} seeds × 2 runs, ${workers} workers`);
    const seeds = Array.from({ length: n }, (_, i) => i + 1);
    const t0 = wallMs();
    const outcomes = await runPool(file, seeds, Math.min(workers, n), 2, io);
    const ms = wallMs() - t0;
    const first = outcomes.filter((o) => o.attempt === 0);
    const bad = first.filter((o) => o.result !== 'ok');
    const mismatched = seeds.filter((s) => new Set(outcomes.filter((o) => o.seed === s).map((o) => o.traceHash)).size > 1);
    const events = first.reduce((a, o) => a + o.events, 0);
    failing += bad.length + mismatched.length;
    io.stdout(`   ${fmtInt(n - bad.length)}/${n} seeds ok, ${mismatched.length === 0 ? 'every trace hash reproduced' : `${mismatched.length} DETERMINISM FAILURES`}, ${fmtInt(events)} events, ${fmtInt(ms)} ms wall`);
    for (const o of bad.slice(0, 5)) io.stdout(`   ✗ seed ${o.seed}: ${o.violations.map((v) => `${v.kind}: ${v.message}`).join('; ')}\n     ${replayCommandFor(file, o.seed)}`);
    md.push(`## ${sc.name} (${sc.protocol.name})`, '', `- ${n} seeds, each run twice: ${n - bad.length} ok, ${bad.length} violating, ${mismatched.length} non-deterministic`, `- ${fmtInt(events)} simulated events in ${fmtInt(ms)} ms wall`);

    // Replay the seed with the most faults (or the first violating one) and keep its artifacts.
    const pick = bad[0] ?? [...first].sort((a, b) => (b.swarmKinds?.length ?? 0) - (a.swarmKinds?.length ?? 0) || a.seed - b.seed)[0]!;
    const rec = new MemoryRecorder();
    const r = runScenario(sc, { seed: pick.seed, recorder: rec });
    const base = join(outDir, `${sc.name}-seed${pick.seed}`);
    const timeline = renderTimeline(rec.records, { excludeKinds: ['rc.', 'ud.', 'cm.', 'mr.'], meta: { scenario: sc.name, seed: pick.seed, traceHash: r.traceHash, events: r.events, virtualTimeNs: r.virtualTimeNs } });
    writeOut(`${base}.timeline.txt`, `${timeline.join('\n')}\n`);
    writeOut(`${base}.history.jsonl`, historyJsonl(r.history));
    writeOut(`${base}.perfetto.json`, perfettoJson(rec.records, { scenario: sc.name, seed: pick.seed, traceHash: r.traceHash, virtualTimeNs: r.virtualTimeNs }));
    io.stdout(`   replayed seed ${pick.seed}: trace ${r.traceHash} (${r.traceHash === pick.traceHash ? 'same as in the sweep' : 'DIFFERENT from the sweep'}), ${r.faults.length} faults, ${fmtNs(r.virtualTimeNs)} virtual`);
    for (const f of r.faults.slice(0, 8)) io.stdout(`     ${fmtNs(f.atNs).padStart(12)}  ${f.text}`);
    io.stdout(`   artifacts: ${base}.{timeline.txt,history.jsonl,perfetto.json}`);
    md.push(`- replayed seed ${pick.seed}: trace \`${r.traceHash}\`, ${r.faults.length} faults; artifacts \`${base}.*\``, '');
  }
  writeOut(join(outDir, 'summary.md'), `${md.join('\n')}\n`);
  io.stdout(`\nsummary: ${join(outDir, 'summary.md')}`);
  return failing === 0 ? EXIT.OK : EXIT.VIOLATION;
}
