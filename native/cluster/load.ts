/**
 * A load generator node of a native cluster (`kvlab load`, `kvlab crashtest`): one NativeNode (a
 * client entry of the cluster file) running the workload's client threads against the replicas
 * with the protocol's client library, unchanged, through the same workload driver and checkers
 * the simulator's harness uses (src/workload, src/check):
 *
 *   1. load phase: every thread writes its share of the keys (YCSB load), all recorded;
 *   2. run phase: each thread runs the workload until the duration ends (or `stop()` says so);
 *   3. final reads (optional): every written key is read back once the cluster is whole again;
 *   4. checks: linearizability of the whole history (WGL per key), and with final reads the
 *      durability of acknowledged writes.
 *
 * All client threads run in this one process, so their history shares one clock. The history
 * starts with the load phase: values left in the store by earlier runs are overwritten before any
 * read of this run, so the checker may assume every key starts absent.
 */
import { type History, type HistoryEvent, writtenKeys } from '../../src/check/history.js';
import { checkDurability } from '../../src/check/durability.js';
import { checkLinearizability } from '../../src/check/linearizability.js';
import { Future, type Task, allOf } from '../../src/platform/index.js';
import type { KvClient } from '../../src/protocols/protocol.js';
import { PROTOCOLS } from '../../src/protocols/registry.js';
import type { WorkloadConfig } from '../../src/workload/config.js';
import { ProcessIds, runClient } from '../../src/workload/driver.js';
import { KeySpace } from '../../src/workload/keyspace.js';
import { loadKeys } from '../../src/workload/load.js';
import { type StatsReport, WorkloadStats } from '../../src/workload/stats.js';
import { NativeNode, settle } from '../adapter/node.js';
import { errorText } from '../adapter/scheduler.js';
import { type ClusterConfig, clusterInfo, clusterNodeOptions } from './config.js';

export interface LoadOptions {
  /** Which client entry of the cluster file this process is (default 0). */
  client?: number;
  workload: WorkloadConfig;
  /** Client threads (default workload.clientsPerNode). */
  threads?: number;
  /** Run phase length in ns (the workload's opsPerClient/durationNs are ignored). */
  durationNs: number;
  /** Ends the run phase early (checked before every operation). */
  stop?: () => boolean;
  /** Read every written key back at the end (needed for the durability check). Default true. */
  finalReads?: boolean;
  /** Called about once a second in the run phase. */
  progress?: (p: LoadProgress) => void;
  /** Called when the run phase starts (after the load phase). */
  onRunStart?: () => void;
  /** How long to wait for the cluster to answer before the load phase (default 30 s). */
  probeTimeoutNs?: number;
  /** Live run-phase outcome counters (updated as operations complete), e.g. for a fault injector. */
  counters?: { ok: number; fail: number; info: number };
}

/** No replica answered the probe before the load phase. */
export class ClusterUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterUnavailable';
  }
}

export interface LoadProgress {
  phase: 'load' | 'run' | 'final-reads';
  elapsedS: number;
  ok: number;
  fail: number;
  info: number;
  /** ok ops per second over the last interval. */
  rate: number;
}

export interface LoadViolation {
  kind: 'linearizability' | 'durability' | 'panic' | 'stalled';
  message: string;
}

export interface LoadResult {
  protocol: string;
  workload: string;
  threads: number;
  clientNode: number;
  loadPhase: { ops: number; ok: number; seconds: number };
  /** Run phase only (the load phase and final reads are not in these figures). */
  run: {
    seconds: number;
    ops: number;
    ok: number;
    fail: number;
    info: number;
    throughputOpsPerSec: number;
    latencyUs: { p50: number; p99: number; p999: number; mean: number; max: number };
    byOp: Record<string, { count: number; throughputOpsPerSec: number; p50Us: number; p99Us: number }>;
  };
  history: { events: number; ops: number; keys: number };
  check: { linearizable: boolean; durabilityChecked: boolean; lostWrites: number; checkSeconds: number };
  violations: LoadViolation[];
  result: 'ok' | 'violation';
  /** The history (not printed; `--history FILE` writes it). */
  historyEvents: HistoryEvent[];
}

const us = (ns: number) => Math.round(ns / 100) / 10;

export async function runLoad(cfg: ClusterConfig, opts: LoadOptions): Promise<LoadResult> {
  const clientIndex = opts.client ?? 0;
  if (clientIndex >= cfg.clients.length) throw new Error(`client ${clientIndex} is not in ${cfg.file} (clients 0..${cfg.clients.length - 1})`);
  const proto = PROTOCOLS[cfg.protocol.name]!;
  const info = clusterInfo(cfg);
  const nodeId = cfg.servers.length + clientIndex;
  const panics: string[] = [];
  const node = new NativeNode(clusterNodeOptions(cfg, nodeId, (p) => panics.push(`thread ${p.thread}: ${errorText(p.error)}`)));
  try {
    return await drive(node, cfg, opts, proto, info, nodeId, panics);
  } finally {
    node.shutdown();
  }
}

async function drive(
  node: NativeNode,
  cfg: ClusterConfig,
  opts: LoadOptions,
  proto: (typeof PROTOCOLS)[string],
  info: ReturnType<typeof clusterInfo>,
  nodeId: number,
  panics: string[],
): Promise<LoadResult> {
  const p = node.platform;
  const rt = p.rt;
  const w = opts.workload;
  const threads = opts.threads ?? w.clientsPerNode;
  // Client ids must never repeat across runs against the same cluster (servers deduplicate by
  // (clientId, reqId)): this node's boot counter is durable, so each run gets its own range.
  const idBase = 1 + (node.bootCount % 60000) * 65536;
  let idSeq = 0;
  const newClient = (): { id: number; c: KvClient } => {
    const id = idBase + idSeq++;
    return { id, c: proto.client(p, info, cfg.options, id) };
  };
  const events: HistoryEvent[] = [];
  const counts = opts.counters ?? { ok: 0, fail: 0, info: 0 };
  let phase: LoadProgress['phase'] = 'load';
  const sink = {
    invoke: (e: HistoryEvent) => void events.push(e),
    complete: (e: HistoryEvent) => {
      events.push(e);
      if (phase === 'run') counts[e.type as 'ok' | 'fail' | 'info']++;
    },
  };
  const processIds = new ProcessIds();
  const keySpace = new KeySpace(w.kind === 'mixed' ? w.mixed.keys : w.keys);
  const stats: WorkloadStats[] = [];
  const loaded = { ops: 0, ok: 0 };
  const loadDone: Future<void>[] = [];
  const runDone: Future<void>[] = [];
  const startRun = new Future<void>();
  let runEndNs = Infinity;
  const stopped = () => opts.stop?.() === true;

  // Probe: one GET (not part of the history: it changes nothing) until the cluster answers.
  {
    const { c } = newClient();
    const answered = new Future<boolean>();
    rt.spawn('probe', function* (): Task<void> {
      const end = rt.now() + (opts.probeTimeoutNs ?? 30e9);
      while (rt.now() < end) {
        const r = yield* c.get('kvlab-probe');
        if (r.type === 'ok') {
          answered.resolve(true);
          return;
        }
        yield* rt.sleep(100e6);
      }
      answered.resolve(false);
    });
    if (!(await settle(answered, 120_000))) {
      throw new ClusterUnavailable(`no replica of ${cfg.file} answered within ${Math.round((opts.probeTimeoutNs ?? 30e9) / 1e9)} s (${cfg.servers.map((a) => `${a.host}:${a.port}`).join(', ')}; is the cluster up? kvlab cluster status)`);
    }
  }
  const t0 = rt.now();
  for (let i = 0; i < threads; i++) {
    const { id, c } = newClient();
    const ws = new WorkloadStats();
    stats.push(ws);
    const ld = new Future<void>();
    loadDone.push(ld);
    const th = rt.spawn(`load${i}`, function* (): Task<void> {
      const r = yield* loadKeys(p, c, w, { clientId: id, processIds, sink, part: { index: i, of: threads } });
      loaded.ops += r.ok + r.fail + r.info;
      loaded.ok += r.ok;
      ld.resolve();
      yield startRun;
      yield* runClient(p, c, w, {
        clientId: id,
        processIds,
        sink,
        workloadStats: ws,
        keySpace,
        totalClients: threads,
        newClient: () => newClient().c,
        keepGoing: () => rt.now() < runEndNs && !stopped(),
      });
    });
    runDone.push(th.finished);
  }
  const report = (phaseNow: LoadProgress['phase'], startNs: number, last: { t: number; ok: number }) => {
    const now = rt.now();
    const rate = now > last.t ? ((counts.ok - last.ok) * 1e9) / (now - last.t) : 0;
    last.t = now;
    last.ok = counts.ok;
    opts.progress?.({ phase: phaseNow, elapsedS: Math.round((now - startNs) / 1e8) / 10, ...counts, rate: Math.round(rate) });
  };
  const last = { t: t0, ok: 0 };
  let runStart = t0;
  const ticker = setInterval(() => report(phase, phase === 'load' ? t0 : runStart, last), 1000);
  try {
    await settle(allOf(loadDone), 600_000);
    const loadSeconds = (rt.now() - t0) / 1e9;
    phase = 'run';
    runStart = rt.now();
    last.t = runStart;
    runEndNs = runStart + opts.durationNs;
    opts.onRunStart?.();
    startRun.resolve();
    await settle(allOf(runDone), opts.durationNs / 1e6 + 600_000);
    const runEnd = rt.now();
    const merged = new WorkloadStats();
    for (const s of stats) merged.merge(s);
    const rep: StatsReport = merged.report();

    const violations: LoadViolation[] = [];
    let finalOk = true;
    if (opts.finalReads ?? true) {
      phase = 'final-reads';
      finalOk = await finalReads(node, proto, cfg, info, idBase + 60000, events, processIds);
      if (!finalOk) violations.push({ kind: 'stalled', message: 'final reads did not complete within 60 s' });
    }
    clearInterval(ticker);
    for (const m of panics) violations.push({ kind: 'panic', message: m });
    const history: History = { init: null, events };
    const c0 = performance.now();
    const lin = checkLinearizability(history);
    for (const v of lin.violations) violations.push({ kind: 'linearizability', message: `key ${v.key}: ${v.minimalOps?.length ?? '?'} operations cannot be linearized${v.minimalOps ? `: ${JSON.stringify(v.minimalOps).slice(0, 2000)}` : ''}` });
    let lost = 0;
    const durabilityChecked = (opts.finalReads ?? true) && finalOk;
    if (durabilityChecked) {
      for (const l of checkDurability(history)) {
        lost++;
        violations.push({ kind: 'durability', message: `key ${l.key}: acknowledged write ${JSON.stringify(l.lostValue).slice(0, 80)} lost; final read returned ${JSON.stringify(l.finalValue).slice(0, 80)}` });
      }
    }
    const checkSeconds = (performance.now() - c0) / 1000;
    const runSeconds = (runEnd - runStart) / 1e9;
    const byOp: LoadResult['run']['byOp'] = {};
    for (const [k, v] of Object.entries(rep.byOp)) {
      if (v === undefined) continue;
      byOp[k] = { count: v.count, throughputOpsPerSec: Math.round((v.ok + v.fail) / runSeconds), p50Us: us(v.latency.p50Ns), p99Us: us(v.latency.p99Ns) };
    }
    const t = rep.total;
    return {
      protocol: cfg.protocol.name,
      workload: w.kind === 'ycsb' ? `ycsb-${w.ycsb}` : 'mixed',
      threads,
      clientNode: nodeId,
      loadPhase: { ops: loaded.ops, ok: loaded.ok, seconds: Math.round(loadSeconds * 100) / 100 },
      run: {
        seconds: Math.round(runSeconds * 100) / 100,
        ops: t.count,
        ok: t.ok,
        fail: t.fail,
        info: t.info,
        throughputOpsPerSec: Math.round((t.ok + t.fail) / runSeconds),
        latencyUs: { p50: us(t.latency.p50Ns), p99: us(t.latency.p99Ns), p999: us(t.latency.p999Ns), mean: us(t.latency.meanNs), max: us(t.latency.maxNs) },
        byOp,
      },
      history: { events: events.length, ops: lin.ops, keys: lin.keys },
      check: { linearizable: lin.linearizable, durabilityChecked, lostWrites: lost, checkSeconds: Math.round(checkSeconds * 100) / 100 },
      violations,
      result: violations.length === 0 ? 'ok' : 'violation',
      historyEvents: events,
    };
  } finally {
    clearInterval(ticker);
  }
}

/** Reads every written key once (retrying until ok), as the simulator's harness does. */
async function finalReads(node: NativeNode, proto: (typeof PROTOCOLS)[string], cfg: ClusterConfig, info: ReturnType<typeof clusterInfo>, clientId: number, events: HistoryEvent[], processIds: ProcessIds): Promise<boolean> {
  const p = node.platform;
  const rt = p.rt;
  const keys = writtenKeys(events);
  const done = new Future<boolean>();
  const deadline = rt.now() + 60e9;
  // A few readers in parallel, each over its own share of the keys.
  const readers = 8;
  let left = readers;
  let okAll = true;
  for (let r = 0; r < readers; r++) {
    const c = proto.client(p, info, cfg.options, clientId + r);
    rt.spawn(`final${r}`, function* (): Task<void> {
      for (let i = r; i < keys.length; i += readers) {
        const key = keys[i]!;
        for (;;) {
          const process = processIds.next();
          events.push({ process, type: 'invoke', f: 'get', key, value: null, time: rt.now() });
          const res = yield* c.get(key);
          if (res.type === 'ok') {
            events.push({ process, type: 'ok', f: 'get', key, value: res.value, time: rt.now() });
            break;
          }
          events.push({ process, type: res.type === 'fail' ? 'fail' : 'info', f: 'get', key, value: null, time: rt.now() });
          if (rt.now() > deadline) {
            okAll = false;
            break;
          }
          yield* rt.sleep(10_000_000);
        }
      }
      if (--left === 0) done.resolve(okAll);
    });
  }
  if (keys.length === 0) return true;
  return settle(done, 120_000);
}
