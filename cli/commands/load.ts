import { writeFileSync } from 'node:fs';
import { EXIT, InputError } from '../errors.js';
import { flagBool, flagInt, flagStr, parseFlags } from '../flags.js';
import type { Io } from '../io.js';
import { requireNative, resolveConfig } from '../../native/cluster/cli-util.js';
import { ClusterUnavailable, type LoadResult, runLoad } from '../../native/cluster/load.js';
import { WORKLOAD_FLAGS, WORKLOAD_HELP, workloadFromFlags } from '../../native/cluster/workload-flags.js';

export const LOAD_HELP = `kvlab load [--dir DIR | --config FILE] [--duration S] [--workload A] [--json] ...

Runs a workload against a native cluster (\`kvlab cluster up\`, or \`kvlab serve\` processes) from
this process (client entry --client I of the cluster file, default 0): a load phase writing every
key, then --duration seconds (default 10) of the workload, then one read of every written key.
Prints throughput and p50/p99 latency of the run phase and checks the whole history:
linearizability (WGL per key) and durability of acknowledged writes.
${WORKLOAD_HELP}
  --client I          which client entry of the cluster file this process is (default 0)
  --history FILE      write the history (JSONL, the \`kvlab check\` format)
  --wait S            wait this long for the cluster to answer first (default 30; then exit 3)
  --no-final-reads    skip the final reads (and the durability check)
  --json              one JSON object on stdout
Exit status: 0 ok, 1 a violation (non-linearizable, lost write, stalled), 2 bad input, 3 no replica answered.`;

export async function loadCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { dir: 'string', config: 'string', duration: 'int', client: 'int', history: 'string', wait: 'int', 'no-final-reads': 'bool', json: 'bool', help: 'bool', ...WORKLOAD_FLAGS });
  if (flagBool(p, 'help')) {
    io.stdout(LOAD_HELP);
    return EXIT.OK;
  }
  if (p.positional.length > 0) throw new InputError('argv', p.positional[0]!, 'unexpected argument');
  const { cfg } = resolveConfig(flagStr(p, 'config'), flagStr(p, 'dir'));
  const duration = flagInt(p, 'duration', 10, 1, 86_400);
  const client = flagInt(p, 'client', 0, 0, Math.max(0, cfg.clients.length - 1));
  if (cfg.clients.length === 0) throw new InputError(cfg.file, 'clients', 'the cluster file lists no client entries (kvlab load needs one)');
  const { workload, threads } = workloadFromFlags(p.flags);
  requireNative();
  const json = flagBool(p, 'json');
  const historyFile = flagStr(p, 'history');
  if (!json) io.stderr(`kvlab load: ${cfg.protocol.name}, ${workload.kind === 'ycsb' ? `YCSB-${workload.ycsb}` : 'mixed'}, ${threads} threads, ${duration} s, against ${cfg.servers.map((s) => `${s.host}:${s.port}`).join(' ')}`);
  let r: LoadResult;
  try {
    r = await runLoad(cfg, {
    client,
    workload,
    threads,
    durationNs: duration * 1e9,
    finalReads: !flagBool(p, 'no-final-reads'),
    probeTimeoutNs: flagInt(p, 'wait', 30, 1, 3600) * 1e9,
    progress: (x) => {
      if (!json) io.stderr(`  ${x.phase} ${x.elapsedS.toFixed(1)} s: ${x.ok} ok, ${x.fail} fail, ${x.info} info, ${x.rate} ops/s`);
    },
    });
  } catch (e) {
    if (!(e instanceof ClusterUnavailable)) throw e;
    io.stderr(`kvlab load: ${e.message}`);
    return 3;
  }
  if (historyFile !== undefined) writeHistory(historyFile, r);
  io.stdout(json ? JSON.stringify(summary(r)) : human(r));
  return r.result === 'ok' ? EXIT.OK : EXIT.VIOLATION;
}

export function writeHistory(file: string, r: LoadResult): void {
  const lines = [JSON.stringify({ init: null }), ...r.historyEvents.map((e) => JSON.stringify(e))];
  writeFileSync(file, `${lines.join('\n')}\n`);
}

export function summary(r: LoadResult): Omit<LoadResult, 'historyEvents'> {
  const { historyEvents: _h, ...rest } = r;
  return rest;
}

export function human(r: LoadResult): string {
  const l = r.run.latencyUs;
  const lines = [
    `${r.protocol} ${r.workload}, ${r.threads} client threads (node ${r.clientNode})`,
    `load phase: ${r.loadPhase.ok}/${r.loadPhase.ops} puts ok in ${r.loadPhase.seconds} s`,
    `run: ${r.run.ops} ops in ${r.run.seconds} s (${r.run.ok} ok, ${r.run.fail} fail, ${r.run.info} info)`,
    `throughput ${r.run.throughputOpsPerSec} ops/s; latency p50 ${l.p50} µs, p99 ${l.p99} µs, p99.9 ${l.p999} µs, max ${l.max} µs`,
    ...Object.entries(r.run.byOp).map(([k, v]) => `  ${k.padEnd(16)} ${String(v.count).padStart(9)} ops  ${String(v.throughputOpsPerSec).padStart(7)} ops/s  p50 ${v.p50Us} µs  p99 ${v.p99Us} µs`),
    `history: ${r.history.ops} ops on ${r.history.keys} keys; linearizable: ${r.check.linearizable ? 'yes' : 'NO'}; durability: ${r.check.durabilityChecked ? `${r.check.lostWrites} acknowledged writes lost` : 'not checked'} (checked in ${r.check.checkSeconds} s)`,
    ...r.violations.slice(0, 10).map((v) => `VIOLATION ${v.kind}: ${v.message}`),
    r.result === 'ok' ? 'result: ok' : 'result: VIOLATION',
  ];
  return lines.join('\n');
}
