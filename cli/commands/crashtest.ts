import { EXIT, InputError } from '../errors.js';
import { flagBool, flagInt, flagStr, parseFlags } from '../flags.js';
import type { Io } from '../io.js';
import { requireNative } from '../../native/cluster/cli-util.js';
import { nativeProtocolOptions } from '../../native/cluster/options.js';
import { SchemaError } from '../../src/kv/schema.js';
import { lolkvProtocol } from '../../src/protocols/lolkv/index.js';
import { runCrashtest } from '../../native/cluster/crashtest.js';
import { WORKLOAD_FLAGS, WORKLOAD_HELP, workloadFromFlags } from '../../native/cluster/workload-flags.js';
import { summary, writeHistory } from './load.js';

export const CRASHTEST_HELP = `kvlab crashtest [--cycles N] [--json] ...

Starts a fresh local 3-replica LoLKV cluster (one process per replica, loopback, ports
--base-port..+2, default 47300) and a load generator in this process, then N times (default 20):
SIGKILL a replica (the leader on odd cycles, a follower on even ones), keep it down --down-ms
(default 300), restart it from its PM files, wait until the cluster serves again, run load for
--interval-ms (default 1500). Then every written key is read back and the whole history is
checked: linearizable, no acknowledged write lost.
${WORKLOAD_HELP}
  --whole-cluster-every K   every K-th cycle SIGKILL all three replicas at once instead (their state
                      must come back from the PM files alone; default 0 = never)
  --options JSON      LoLKV options over the native defaults, e.g. '{"unsafe":{"skipStateSync":true}}'
  --persist M         auto (default; pmem_msync on a plain file), flush, msync (see kvlab cluster --help)
  --dir DIR           keep the cluster (data, logs) in DIR (default: a temporary directory, removed if clean)
  --history FILE      write the history (JSONL)
  --json              one JSON object on stdout
Exit status: 0 clean, 1 a violation (or the cluster did not recover), 2 bad input.`;

export async function crashtestCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { cycles: 'int', 'base-port': 'int', 'interval-ms': 'int', 'down-ms': 'int', dir: 'string', history: 'string', persist: 'string', 'whole-cluster-every': 'int', options: 'string', keep: 'bool', json: 'bool', help: 'bool', ...WORKLOAD_FLAGS });
  if (flagBool(p, 'help')) {
    io.stdout(CRASHTEST_HELP);
    return EXIT.OK;
  }
  if (p.positional.length > 0) throw new InputError('argv', p.positional[0]!, 'unexpected argument');
  const cycles = flagInt(p, 'cycles', 20, 1, 10_000);
  const basePort = flagInt(p, 'base-port', 47300, 1, 65000);
  const intervalMs = flagInt(p, 'interval-ms', 1500, 0, 3_600_000);
  const downMs = flagInt(p, 'down-ms', 300, 0, 3_600_000);
  const { workload, threads } = workloadFromFlags(p.flags);
  const persist = flagStr(p, 'persist') ?? 'auto';
  if (persist !== 'auto' && persist !== 'flush' && persist !== 'msync') throw new InputError('argv', '--persist', `expected auto, flush or msync, got ${JSON.stringify(persist)}`);
  let protocolOptions: Record<string, unknown> = {};
  const optText = flagStr(p, 'options');
  if (optText !== undefined) {
    try {
      protocolOptions = JSON.parse(optText) as Record<string, unknown>;
    } catch (e) {
      throw new InputError('argv', '--options', `not JSON (${(e as Error).message})`);
    }
    if (typeof protocolOptions !== 'object' || protocolOptions === null || Array.isArray(protocolOptions)) throw new InputError('argv', '--options', 'expected a JSON object');
    try {
      lolkvProtocol.options.parse(nativeProtocolOptions('lolkv', protocolOptions), 'options');
    } catch (e) {
      if (e instanceof SchemaError) throw new InputError('argv', '--options', `${e.path}: ${e.reason}`);
      throw e;
    }
  }
  requireNative();
  const json = flagBool(p, 'json');
  const dir = flagStr(p, 'dir');
  const t0 = performance.now();
  const r = await runCrashtest({
    cycles,
    workload,
    threads,
    basePort,
    intervalMs,
    downMs,
    persist,
    protocolOptions,
    wholeClusterEvery: flagInt(p, 'whole-cluster-every', 0, 0, 10_000),
    ...(dir === undefined ? {} : { dir }),
    keep: flagBool(p, 'keep'),
    log: (l) => io.stderr(`kvlab crashtest: ${l}`),
  });
  const historyFile = flagStr(p, 'history');
  if (historyFile !== undefined) writeHistory(historyFile, r.load);
  const wall = Math.round((performance.now() - t0) / 100) / 10;
  if (json) io.stdout(JSON.stringify({ result: r.result, completedCycles: r.completedCycles, cycles: r.cycles, problems: r.problems, load: summary(r.load), wallSeconds: wall }));
  else {
    const leaders = r.cycles.filter((c) => c.victimRole === 'leader').length;
    const wholes = r.cycles.filter((c) => c.victimRole === 'all').length;
    const l = r.load;
    io.stdout(
      [
        `${r.completedCycles}/${cycles} kill/restart cycles recovered (${leaders} leader kills, ${r.cycles.length - leaders - wholes} follower kills${wholes > 0 ? `, ${wholes} whole-cluster kills` : ''}) in ${wall} s`,
        `history: ${l.history.ops} ops on ${l.history.keys} keys (${l.run.ok} ok, ${l.run.fail} fail, ${l.run.info} info in the run phase); linearizable: ${l.check.linearizable ? 'yes' : 'NO'}; acknowledged writes lost: ${l.check.durabilityChecked ? l.check.lostWrites : 'not checked'}`,
        `throughput under faults ${l.run.throughputOpsPerSec} ops/s; p50 ${l.run.latencyUs.p50} µs, p99 ${l.run.latencyUs.p99} µs`,
        ...r.problems.slice(0, 10).map((x) => `VIOLATION ${x}`),
        r.result === 'ok' ? 'result: ok' : `result: VIOLATION (cluster kept in ${r.dir})`,
      ].join('\n'),
    );
  }
  return r.result === 'ok' ? EXIT.OK : EXIT.VIOLATION;
}
