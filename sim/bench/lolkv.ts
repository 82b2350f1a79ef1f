import { runScenario } from '../harness.js';
import { type Scenario, parseScenario } from '../scenario.js';

/**
 * LoLKV vs the Mu-style log baseline, as seeded simulations: the scenario builder shared by
 * `kvlab bench lolkv` and `kvlab report lolkv`, one measured point (`runPoint`), and the bench.
 *
 * Everything here is deterministic except the wall-clock figures of the bench, which come from
 * the `clock` the caller passes (the simulator itself never reads a clock).
 *
 * One configuration for every figure (no per-figure tuning): 3 replicas on the 56 Gbit/s preset
 * (≈ 1 µs one way, so ≈ 2 µs round trip), DDIO off, the Optane-like PM preset, the default memory
 * costs, the default CPU costs of request handling (src/protocols/lolkv/cpu.ts) and pipeline depth
 * (8 request coroutines per worker core) for both protocols, 64-byte values, `keys` keys loaded
 * before the run (YCSB's load phase), closed-loop clients with no think time — `clientsPerThread`
 * per server worker thread (8: one per request coroutine), pinned to a worker the way the LoLKV
 * client pins itself (clientId mod threads), so every worker has the same backlog and the measured
 * throughput is the servers' capacity, not the clients'.
 */

export type BenchProtocol = 'lolkv' | 'mu';

export interface PointSpec {
  protocol: BenchProtocol;
  /** Server worker threads (LoLKV: each with its own QPs; Mu: sharing one log and QP per follower). */
  threads: number;
  /** Closed-loop client threads per server worker thread. */
  clientsPerThread: number;
  /** YCSB core workload, or "W" for write-only (100% update, YCSB custom mix). */
  workload: 'A' | 'B' | 'C' | 'W';
  distribution: 'uniform' | 'zipfian-exact' | 'hotshard';
  /** zipfian-exact: θ. */
  zipfTheta: number;
  /** hotshard: share of operations on shard 0 of `shards`. */
  hotFraction: number;
  shards: number;
  keys: number;
  /** Operations per client after the load phase (the measured window starts after `warmupNs`). */
  opsPerClient: number;
  warmupNs: number;
  valueBytes: number;
  seed: number;
  /** Mu only: GETs as log commands (SMR, the default) or served with the read check. */
  muReads?: 'log' | 'read-check';
}

/** The defaults of every point (the bench's configuration: YCSB-A, uniform, 3 replicas, 8 threads). */
export const DEFAULT_POINT: PointSpec = {
  protocol: 'lolkv',
  threads: 8,
  clientsPerThread: 8,
  workload: 'A',
  distribution: 'uniform',
  zipfTheta: 0,
  hotFraction: 0.125,
  shards: 8,
  keys: 1000,
  opsPerClient: 125,
  warmupNs: 50_000,
  valueBytes: 64,
  seed: 1,
};

/** The simulated hardware every point runs on (stated in reports). */
export const BENCH_HARDWARE = {
  replicas: 3,
  clientNodes: 4,
  networkPreset: '56g' as const,
  ddio: false,
};

/** Client nodes for a point: up to 4, each with an equal share of the clients. */
function clientLayout(total: number): { nodes: number; perNode: number } {
  for (const nodes of [4, 2, 1]) if (total % nodes === 0) return { nodes, perNode: total / nodes };
  return { nodes: 1, perNode: total };
}

/** The scenario of one point (validated as a scenario file would be). */
export function pointScenario(spec: PointSpec): Scenario {
  const clients = spec.threads * spec.clientsPerThread;
  const { nodes, perNode } = clientLayout(clients);
  // Storage sized for the run (the same rule for every point): LoLKV gets a segment area far larger
  // than the live data, with its GC running; Mu's log is not recycled, so it must hold the load phase
  // plus every operation of the run (as if all were writes), with room for client retries.
  const logEntries = Math.min(1 << 24, 1 << Math.ceil(Math.log2(spec.keys + clients * spec.opsPerClient + 1024)));
  const tableSlots = Math.max(4096, 1 << Math.ceil(Math.log2(spec.keys * 4)));
  const options =
    spec.protocol === 'lolkv'
      ? { threads: spec.threads, segments: 256, segmentBytes: 16384, tableSlots, incarnations: 4096 }
      : { threads: spec.threads, logEntries, entryBytes: 256, tableSlots, ...(spec.muReads === undefined ? {} : { reads: spec.muReads }) };
  const ycsb = spec.workload === 'W' ? 'custom' : spec.workload;
  return parseScenario({
    name: `bench-${spec.protocol}`,
    description: 'kvlab bench/report lolkv point (sim/bench/lolkv.ts)',
    seed: spec.seed,
    protocol: { name: spec.protocol, options },
    cluster: { servers: BENCH_HARDWARE.replicas, clients: nodes, ddio: BENCH_HARDWARE.ddio, crashPolicy: 'tear' },
    network: { preset: BENCH_HARDWARE.networkPreset },
    workload: {
      kind: 'ycsb',
      ycsb,
      mix: { read: 0, update: 1, insert: 0, scan: 0, readModifyWrite: 0 },
      distribution: spec.distribution,
      zipfTheta: spec.zipfTheta,
      hotShard: { shards: spec.shards, fraction: spec.hotFraction },
      keys: spec.keys,
      valueSize: { kind: 'fixed', bytes: spec.valueBytes },
      clientsPerNode: perNode,
      mode: 'closed',
      thinkTimeNs: 0,
      opsPerClient: spec.opsPerClient,
      durationNs: 0,
      warmupNs: spec.warmupNs,
    },
    run: { load: true, finalReads: false, settleNs: 10_000 },
    // A performance run: the checks are the correctness sweeps' job (their cost is not the protocol's).
    checks: { linearizability: false, durability: false, liveness: false, invariants: false },
  });
}

export interface Percentiles {
  p50Ns: number;
  p99Ns: number;
  p999Ns: number;
}

export interface PointResult {
  spec: PointSpec;
  clients: number;
  result: 'ok' | 'violation';
  violations: string[];
  /** Measured window: client operations (ok + fail) per second of virtual time. */
  opsPerSecond: number;
  /** All operations of the window. */
  latency: Percentiles & { meanNs: number };
  /** Per YCSB operation type. */
  byOp: Record<string, Percentiles & { count: number; opsPerSecond: number }>;
  /** Operations in the measured window, and timeouts (info) among them. */
  measuredOps: number;
  info: number;
  fail: number;
  windowNs: number;
  /** Every client operation completed in the run (load phase included): the bench's "simulated ops". */
  simOps: number;
  events: number;
  /** `events` by kind (sim/event-kinds.ts). */
  eventsByKind: Record<string, number>;
  virtualTimeNs: number;
  traceHash: string;
  /** Share of the run's (non-load) operations per hash shard (`shards` shards), highest first. */
  shardShares: number[];
}

/** The shard of a YCSB "hashed" key name ("user" + decimal FNV-64 of the key number): that number mod S. */
export function shardOfKeyName(key: string, shards: number): number {
  const digits = key.startsWith('user') ? key.slice(4) : '';
  if (!/^\d+$/.test(digits)) return 0;
  return Number(BigInt(digits) % BigInt(shards));
}

/** Runs one point (pure: the seed decides everything). */
export function runPoint(spec: PointSpec): PointResult {
  const sc = pointScenario(spec);
  const r = runScenario(sc, { seed: spec.seed });
  const w = r.stats.workload;
  const byOp: PointResult['byOp'] = {};
  for (const [k, v] of Object.entries(w.byOp)) {
    if (v === undefined) continue;
    byOp[k] = { count: v.count, opsPerSecond: Math.round(v.throughputPerSec), p50Ns: v.latency.p50Ns, p99Ns: v.latency.p99Ns, p999Ns: v.latency.p999Ns };
  }
  const perShard = new Array<number>(spec.shards).fill(0);
  let simOps = 0;
  let runOps = 0;
  for (const e of r.history.events) {
    if (e.type === 'invoke') {
      if (e.f === 'put' && typeof e.value === 'string' && e.value.startsWith('vL')) continue; // load phase
      perShard[shardOfKeyName(e.key, spec.shards)]!++;
      runOps++;
    } else simOps++;
  }
  return {
    spec,
    clients: spec.threads * spec.clientsPerThread,
    result: r.result,
    violations: r.violations.map((v) => `${v.kind}: ${v.message}`),
    opsPerSecond: Math.round(w.total.throughputPerSec),
    latency: { p50Ns: w.total.latency.p50Ns, p99Ns: w.total.latency.p99Ns, p999Ns: w.total.latency.p999Ns, meanNs: w.total.latency.meanNs },
    byOp,
    measuredOps: w.total.count,
    info: w.total.info,
    fail: w.total.fail,
    windowNs: w.durationNs,
    simOps,
    events: r.events,
    eventsByKind: r.eventsByKind,
    virtualTimeNs: r.virtualTimeNs,
    traceHash: r.traceHash,
    shardShares: perShard.map((n) => (runOps === 0 ? 0 : n / runOps)).sort((a, b) => b - a),
  };
}

export interface LolkvBenchOptions {
  /** Wall-clock milliseconds (the CLI passes performance.now); only the bench's timing uses it. */
  clock: () => number;
  /** Optional CPU-time milliseconds of this process (the CLI passes process.cpuUsage). */
  cpuClock?: () => number;
  /** Timed LoLKV runs (the median is reported); the simulated figures are the same in every run. */
  runs?: number;
  opsPerClient?: number;
  seed?: number;
}

export interface LolkvBenchResult {
  bench: 'lolkv';
  config: { workload: string; distribution: string; replicas: number; threads: number; clients: number; keys: number; valueBytes: number; opsPerClient: number; network: string; seed: number };
  /** Simulated client operations (load phase included) completed per wall second, LoLKV run, median of `runs`. */
  simOpsPerWallSecond: number;
  simOpsPerWallSecondRuns: number[];
  /** The same per CPU second of this process (less sensitive to other load on the machine). */
  simOpsPerCpuSecond: number | null;
  simEventsPerWallSecond: number;
  wallMsMedian: number;
  throughputRatioVsMu: number;
  lolkv: ProtocolFigures;
  mu: ProtocolFigures;
  deterministic: boolean;
}

export interface ProtocolFigures {
  opsPerSecond: number;
  p50Ns: number;
  p99Ns: number;
  p999Ns: number;
  simOps: number;
  events: number;
  /** Events per simulated client operation, by kind (THREAD_STEP: coroutine resumptions; the rest NIC, timers, faults). */
  eventsPerOpByKind: Record<string, number>;
  virtualTimeNs: number;
  traceHash: string;
  result: 'ok' | 'violation';
}

function figures(r: PointResult): ProtocolFigures {
  return {
    opsPerSecond: r.opsPerSecond,
    p50Ns: r.latency.p50Ns,
    p99Ns: r.latency.p99Ns,
    p999Ns: r.latency.p999Ns,
    simOps: r.simOps,
    events: r.events,
    eventsPerOpByKind: Object.fromEntries(Object.entries(r.eventsByKind).map(([k, n]) => [k, r.simOps === 0 ? 0 : Math.round((n / r.simOps) * 100) / 100])),
    virtualTimeNs: r.virtualTimeNs,
    traceHash: r.traceHash,
    result: r.result,
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * `kvlab bench lolkv`: LoLKV and Mu on YCSB-A, uniform keys, 3 replicas, 8 worker threads. Two
 * untimed warm-up runs (JIT), then `runs` timed LoLKV runs and one Mu run.
 */
export function runLolkvBench(opts: LolkvBenchOptions): LolkvBenchResult {
  const runs = Math.max(1, opts.runs ?? 3);
  const spec: PointSpec = { ...DEFAULT_POINT, opsPerClient: opts.opsPerClient ?? DEFAULT_POINT.opsPerClient, seed: opts.seed ?? DEFAULT_POINT.seed };
  // Two untimed runs of the full size: after one short run the first timed run was still ≈ 20%
  // slower than the next ones (code not yet optimized by the JIT).
  runPoint(spec);
  runPoint(spec);
  const timed: { r: PointResult; wallMs: number; cpuMs: number | null }[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = opts.cpuClock?.() ?? null;
    const t0 = opts.clock();
    const r = runPoint(spec);
    const wallMs = opts.clock() - t0;
    const cpuMs = c0 === null ? null : opts.cpuClock!() - c0;
    timed.push({ r, wallMs, cpuMs });
  }
  const mu = runPoint({ ...spec, protocol: 'mu' });
  const lol = timed[0]!.r;
  const rates = timed.map((t) => Math.round(t.r.simOps / (t.wallMs / 1000)));
  const cpuRates = timed.flatMap((t) => (t.cpuMs === null ? [] : [Math.round(t.r.simOps / (t.cpuMs / 1000))]));
  const wallMsMedian = median(timed.map((t) => t.wallMs));
  return {
    bench: 'lolkv',
    config: {
      workload: 'YCSB-A',
      distribution: spec.distribution,
      replicas: BENCH_HARDWARE.replicas,
      threads: spec.threads,
      clients: spec.threads * spec.clientsPerThread,
      keys: spec.keys,
      valueBytes: spec.valueBytes,
      opsPerClient: spec.opsPerClient,
      network: `${BENCH_HARDWARE.networkPreset} (≈1 µs one way)`,
      seed: spec.seed,
    },
    simOpsPerWallSecond: median(rates),
    simOpsPerWallSecondRuns: rates,
    simOpsPerCpuSecond: cpuRates.length === 0 ? null : median(cpuRates),
    simEventsPerWallSecond: Math.round(lol.events / (wallMsMedian / 1000)),
    wallMsMedian: Math.round(wallMsMedian),
    throughputRatioVsMu: mu.opsPerSecond === 0 ? 0 : Math.round((lol.opsPerSecond / mu.opsPerSecond) * 1000) / 1000,
    lolkv: figures(lol),
    mu: figures(mu),
    deterministic: new Set(timed.map((t) => t.r.traceHash)).size === 1,
  };
}
