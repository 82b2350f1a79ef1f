import { runScenario } from '../../sim/harness.js';
import { MemoryRecorder, perfettoJson, renderTimeline } from '../../sim/trace/index.js';
import { EXIT, InputError } from '../errors.js';
import { flagBool, flagInt, flagStr, parseFlags, positionals } from '../flags.js';
import { type Io, fmtInt, fmtNs, wallMs } from '../io.js';
import { loadScenario } from '../load.js';
import { summaryJson, writeOut } from './run.js';

export const REPLAY_HELP = `kvlab replay <scenario> --seed N [--timeline] [--all] [--node I] [--around NS] [--perfetto FILE] [--hash H] [--json]
  Re-runs a seed with full recording, checks the trace hash reproduces (against a plain run of
  the same seed, and against --hash when given), prints the timeline, exports Perfetto JSON.`;

export async function replayCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { seed: 'int', timeline: 'bool', all: 'bool', node: 'int', around: 'int', perfetto: 'string', hash: 'string', json: 'bool', help: 'bool' });
  if (flagBool(p, 'help')) {
    io.stdout(REPLAY_HELP);
    return EXIT.OK;
  }
  const [file] = positionals(p, ['scenario']);
  const sc = loadScenario(file!);
  if (p.flags['seed'] === undefined) throw new InputError('argv', '--seed', 'required: the seed to replay');
  const seed = flagInt(p, 'seed', 0, 0, Number.MAX_SAFE_INTEGER);
  const expected = flagStr(p, 'hash');
  if (expected !== undefined && !/^[0-9a-f]{16}$/.test(expected)) throw new InputError('argv', '--hash', `expected 16 hex digits, got ${JSON.stringify(expected)}`);

  const plain = runScenario(sc, { seed });
  const rec = new MemoryRecorder({ threadSteps: flagBool(p, 'all') });
  const t0 = wallMs();
  const r = runScenario(sc, { seed, recorder: rec });
  const ms = wallMs() - t0;
  const reproduced = r.traceHash === plain.traceHash && (expected === undefined || expected === r.traceHash);

  const perfetto = flagStr(p, 'perfetto');
  if (perfetto !== undefined) {
    writeOut(perfetto, perfettoJson(rec.records, { scenario: sc.name, seed, traceHash: r.traceHash, virtualTimeNs: r.virtualTimeNs, cluster: { servers: range(0, sc.cluster.servers), clients: range(sc.cluster.servers, sc.cluster.servers + sc.cluster.clients) } }));
  }
  if (flagBool(p, 'json')) {
    io.stdout(JSON.stringify({ ...summaryJson(r, ms), reproduced, plainTraceHash: plain.traceHash, ...(expected ? { expectedTraceHash: expected } : {}), records: rec.total }));
    return reproduced ? (r.result === 'ok' ? EXIT.OK : EXIT.VIOLATION) : EXIT.VIOLATION;
  }
  if (flagBool(p, 'timeline')) {
    const node = p.flags['node'];
    const around = p.flags['around'];
    const lines = renderTimeline(rec.records, {
      threadSteps: flagBool(p, 'all'),
      ...(typeof node === 'number' ? { nodes: [node] } : {}),
      ...(typeof around === 'number' ? { aroundNs: around } : {}),
      meta: { scenario: sc.name, seed, traceHash: r.traceHash, events: r.events, virtualTimeNs: r.virtualTimeNs },
    });
    for (const l of lines) io.stdout(l);
  }
  io.stdout(`${sc.name} seed ${seed}: ${r.result}, trace ${r.traceHash}, ${fmtInt(r.events)} events, ${fmtNs(r.virtualTimeNs)} virtual, ${fmtInt(rec.total)} records`);
  for (const v of r.violations) io.stdout(`  ✗ ${v.kind}: ${v.message}`);
  io.stdout(
    reproduced
      ? `trace hash reproduced: ${r.traceHash} (plain run ${plain.traceHash}${expected ? `, expected ${expected}` : ''})`
      : `TRACE HASH MISMATCH: recorded ${r.traceHash}, plain run ${plain.traceHash}${expected ? `, expected ${expected}` : ''}`,
  );
  if (perfetto !== undefined) io.stdout(`Perfetto trace written to ${perfetto} (open it at https://ui.perfetto.dev)`);
  if (!reproduced) return EXIT.VIOLATION;
  return r.result === 'ok' ? EXIT.OK : EXIT.VIOLATION;
}

function range(a: number, b: number): number[] {
  const out: number[] = [];
  for (let i = a; i < b; i++) out.push(i);
  return out;
}
