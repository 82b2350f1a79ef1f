import { runLolkvBench } from '../../sim/bench/lolkv.js';
import { benchRowanDlwa } from '../../sim/bench/rowan-dlwa.js';
import { benchRowanKv } from '../../sim/bench/rowan-kv.js';
import { runSimCore } from '../../sim/bench/sim-core.js';
import { benchChecker } from '../../src/check/bench.js';
import { EXIT, InputError } from '../errors.js';
import { flagBool, flagInt, parseFlags, positionals } from '../flags.js';
import { type Io, fmtInt, wallMs } from '../io.js';

export const BENCH_HELP = `kvlab bench <name> [--json] [--runs N]
  sim-core   simulated events per wall second on one core, 1,000 coroutines doing fabric operations
  checker    linearizability checker on a 10,000-op, 8-process, 100-key history
  lolkv      LoLKV vs the Mu-style baseline: YCSB-A, uniform, 3 replicas, 8 threads, 64 clients
             (simulated throughput, ratio, p50/p99) and simulated client ops per wall second
  rowan-dlwa DLWA and throughput of RDMA WRITE into per-thread logs vs Rowan, 1..288 streams of 64–512 B
  rowankv    Rowan-KV vs RPC / RDMA WRITE / batched replication: throughput, median PUT latency, DLWA
Each bench runs once to warm up (lolkv: twice), then --runs times (default 5; lolkv: 3), and reports the median.
lolkv --ops-per-client N (default 125): a longer run weighs the start-up (election, state sync) less.`;

interface BenchArgs {
  runs: number;
  /** lolkv: operations per client (default 125; more weighs the start-up less). */
  opsPerClient: number | undefined;
}

type Bench = (a: BenchArgs) => Record<string, unknown>;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** CPU milliseconds of this process (user + system). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const BENCHES: Record<string, Bench> = {
  'sim-core': ({ runs }) => {
    const opts = { coroutines: 1000, opsPerCoroutine: 300, seed: 1, clock: wallMs };
    runSimCore(opts);
    // Also per CPU second of this process (all its threads, GC included): on a shared machine the
    // wall clock counts time the process spent descheduled; CPU time counts what one core did.
    const cpuMsPerRun: number[] = [];
    const rs = Array.from({ length: runs }, () => {
      const c0 = cpuMs();
      const r = runSimCore(opts);
      cpuMsPerRun.push(cpuMs() - c0);
      return r;
    });
    const eps = rs.map((r) => r.eventsPerSecond);
    const epcs = rs.map((r, i) => Math.round(r.events / (cpuMsPerRun[i]! / 1000)));
    const hashes = new Set(rs.map((r) => r.traceHash));
    return {
      bench: 'sim-core',
      coroutines: opts.coroutines,
      eventsPerRun: rs[0]!.events,
      eventsPerSecond: median(eps),
      eventsPerSecondRuns: eps,
      eventsPerCpuSecond: median(epcs),
      eventsPerCpuSecondRuns: epcs,
      wallMsMedian: median(rs.map((r) => r.wallMs)),
      virtualTimeNs: rs[0]!.virtualTimeNs,
      deterministic: hashes.size === 1,
      traceHash: rs[0]!.traceHash,
      peakRssBytes: peakRssBytes(),
    };
  },
  checker: ({ runs }) => {
    benchChecker({ clock: wallMs });
    const rs = Array.from({ length: runs }, () => benchChecker({ clock: wallMs }));
    return { bench: 'checker', ...rs[0], wallMs: median(rs.map((r) => r.wallMs)), wallMsRuns: rs.map((r) => r.wallMs), peakRssBytes: peakRssBytes() };
  },
  lolkv: ({ runs, opsPerClient }) => ({ ...runLolkvBench({ clock: wallMs, cpuClock: cpuMs, runs, ...(opsPerClient === undefined ? {} : { opsPerClient }) }), peakRssBytes: peakRssBytes() }),
  // Deterministic simulations: one run is the figure (wall time is reported for information).
  'rowan-dlwa': () => ({ bench: 'rowan-dlwa', ...benchRowanDlwa({ clock: wallMs }), peakRssBytes: peakRssBytes() }),
  rowankv: () => ({ bench: 'rowankv', ...benchRowanKv({ clock: wallMs }), peakRssBytes: peakRssBytes() }),
};

const DEFAULT_RUNS: Record<string, number> = { lolkv: 3, 'rowan-dlwa': 1, rowankv: 1 };

export async function benchCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { json: 'bool', runs: 'int', 'ops-per-client': 'int', help: 'bool' });
  if (flagBool(p, 'help') || p.positional.length === 0) {
    io.stdout(BENCH_HELP);
    return p.positional.length === 0 && !flagBool(p, 'help') ? EXIT.BAD_INPUT : EXIT.OK;
  }
  const [name] = positionals(p, ['name']);
  const bench = BENCHES[name!];
  if (bench === undefined) throw new InputError('argv', name!, `unknown bench (known: ${Object.keys(BENCHES).join(', ')})`);
  const runs = flagInt(p, 'runs', DEFAULT_RUNS[name!] ?? 5, 1, 1000);
  if (p.flags['ops-per-client'] !== undefined && name !== 'lolkv') throw new InputError('argv', '--ops-per-client', 'only the lolkv bench takes it');
  const opsPerClient = p.flags['ops-per-client'] === undefined ? undefined : flagInt(p, 'ops-per-client', 125, 1, 100_000);
  const r = bench({ runs, opsPerClient });
  if (flagBool(p, 'json')) io.stdout(JSON.stringify(r));
  else for (const [k, v] of Object.entries(r)) io.stdout(`${k.padEnd(22)} ${typeof v === 'number' ? fmtInt(v) : JSON.stringify(v)}`);
  return EXIT.OK;
}
