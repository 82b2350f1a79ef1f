import { Future, allOf, type Task } from '../src/platform/index.js';
import { type History, type HistoryEvent, writtenKeys } from '../src/check/history.js';
import { checkLinearizability, type KeyViolation } from '../src/check/linearizability.js';
import { checkDurability } from '../src/check/durability.js';
import type { KvClient, ServerHandle } from '../src/protocols/protocol.js';
import { PROTOCOLS } from '../src/protocols/registry.js';
import { type ClientRunStats, ProcessIds, runClient } from '../src/workload/driver.js';
import { KeySpace } from '../src/workload/keyspace.js';
import { loadKeys } from '../src/workload/load.js';
import { type StatsReport, WorkloadStats } from '../src/workload/stats.js';
import { SimCluster } from './cluster.js';
import { eventsByKind } from './event-kinds.js';
import { FaultInjector, type FaultRecord } from './faults.js';
import type { Recorder } from './kernel.js';
import { type FaultSpec, type Scenario, clusterParams, scenarioForSeed } from './scenario.js';

/**
 * Runs one scenario with one seed in the simulator: boots the cluster and the protocol, runs the
 * workload's clients while the fault injector does its work, lets the system settle, reads every
 * written key back, and then checks the run: protocol panics and invariants, linearizability of
 * the client history, durability of acknowledged writes, and liveness after the last fault heals.
 * Everything that happens is decided by the seed.
 */

export type ViolationKind = 'linearizability' | 'durability' | 'liveness' | 'invariant' | 'panic';

export interface RunViolation {
  kind: ViolationKind;
  message: string;
  /** Linearizability: the key and the smallest set of operations that cannot be linearized. */
  key?: string;
  minimalOps?: unknown[];
}

export interface RunStats {
  ops: number;
  ok: number;
  fail: number;
  info: number;
  /** Client operations completed per second of virtual time. */
  opsPerVirtualSecond: number;
  latencyNs: { p50: number; p99: number; p999: number };
  /** Per-operation-type counts, latency percentiles and throughput from the workload driver. */
  workload: StatsReport;
}

export interface RunResult {
  scenario: string;
  protocol: string;
  seed: number;
  traceHash: string;
  events: number;
  /** `events` by kind (sim/event-kinds.ts). */
  eventsByKind: Record<string, number>;
  virtualTimeNs: number;
  result: 'ok' | 'violation';
  violations: RunViolation[];
  history: History;
  faults: FaultRecord[];
  /** Swarm mode: the kinds the seed enabled and the faults it drew. */
  swarm: { kinds: string[]; faults: FaultSpec[] } | null;
  lastHealNs: number;
  stats: RunStats;
}

export interface RunOptions {
  seed: number;
  recorder?: Recorder | null;
}

export function runScenario(scenario: Scenario, opts: RunOptions): RunResult {
  const sc = scenarioForSeed(scenario, opts.seed);
  const proto = PROTOCOLS[sc.protocol.name]!;
  const cluster = new SimCluster(clusterParams(sc), opts.seed);
  const sim = cluster.sim;
  if (opts.recorder) sim.recorder = opts.recorder;
  const handles: (ServerHandle | null)[] = cluster.nodes.map(() => null);
  cluster.onBoot = (node, p) => {
    if (cluster.info.servers.includes(node.nodeId)) handles[node.nodeId] = proto.server(p, cluster.info, sc.protocol.options);
  };
  cluster.bootAll();
  const roleOf = (n: number) => (cluster.nodes[n]!.alive ? (handles[n]?.role() ?? 'down') : 'down');

  // Faults: the schedule, plus the seed's draw in swarm mode.
  const injector = new FaultInjector(cluster, roleOf);
  let swarm: RunResult['swarm'] = null;
  const faults = [...(sc.faults.schedule as FaultSpec[])];
  if (sc.faults.swarm.enabled) {
    const drawn = FaultInjector.drawSwarm(sc, sim.rng('faults/swarm'));
    swarm = drawn;
    faults.push(...drawn.faults);
  }
  injector.schedule(faults);
  for (const f of faults) sim.note(-1, 'fault.planned', { kind: f.kind, atNs: f.atNs });

  // History: every client operation, in virtual time.
  const events: HistoryEvent[] = [];
  const sink = {
    invoke(e: HistoryEvent, node: number) {
      events.push(e);
      sim.note(node, 'client.invoke', { process: e.process, f: e.f, key: e.key });
    },
    complete(e: HistoryEvent, node: number) {
      events.push(e);
      sim.note(node, `client.${e.type}`, { process: e.process, f: e.f, key: e.key });
    },
  };
  const processIds = new ProcessIds();
  const clientStats: ClientRunStats[] = [];
  const workloadStats: WorkloadStats[] = [];
  const threads: { finished: Future<void> }[] = [];
  const workloadEndNs = Math.max(sc.workload.durationNs ?? 0, injector.lastHealNs);
  const totalClients = cluster.info.clients.length * sc.workload.clientsPerNode;
  // One key space for the whole run: YCSB's inserts (D, E) and "latest" see every client's keys.
  const keySpace = new KeySpace(sc.workload.kind === 'mixed' ? sc.workload.mixed.keys : sc.workload.keys);
  let clientSeq = 0;
  let finalPhase = false;
  const clientNodes = cluster.info.clients;
  // YCSB's load phase, then its run phase: every client waits until all have loaded, so the run
  // starts together. (Without the barrier a client that loaded late — one that backed off from a
  // leader still syncing — ran its operations late, and the measured window grew a tail in which
  // only some clients were running.)
  let loading = totalClients;
  const loaded = new Future<void>();

  for (const c of clientNodes) {
    const p = cluster.nodes[c]!.platform!;
    for (let i = 0; i < sc.workload.clientsPerNode; i++) {
      const clientId = ++clientSeq;
      const loadPart = clientId - 1;
      const newClient = () => proto.client(p, cluster.info, sc.protocol.options, ++clientSeq);
      const client: KvClient = proto.client(p, cluster.info, sc.protocol.options, clientId);
      const stats: ClientRunStats = newClientStats();
      const wstats = new WorkloadStats();
      clientStats.push(stats);
      workloadStats.push(wstats);
      const hsink = { invoke: (e: HistoryEvent) => sink.invoke(e, c), complete: (e: HistoryEvent) => sink.complete(e, c) };
      threads.push(
        p.rt.spawn(`client${clientId}`, function* (): Task<void> {
          if (sc.run.load) {
            yield* loadKeys(p, client, sc.workload, { clientId, processIds, sink: hsink, part: { index: loadPart, of: totalClients } });
            if (--loading === 0) loaded.resolve();
            yield loaded;
          }
          yield* runClient(p, client, sc.workload, {
            clientId,
            processIds,
            sink: hsink,
            stats,
            workloadStats: wstats,
            keySpace,
            totalClients,
            newClient,
            keepGoing: (opsDone) => opsDone < sc.workload.opsPerClient || p.rt.now() < workloadEndNs,
          });
        }),
      );
    }
  }

  // The coordinator: after the clients, settle, read every written key back, end the run.
  const coordNode = cluster.info.clients[0]!;
  const cp = cluster.nodes[coordNode]!.platform!;
  let finished = false;
  cp.rt.spawn('coordinator', function* (): Task<void> {
    yield allOf(threads.map((t) => t.finished));
    yield* cp.rt.sleep(sc.run.settleNs);
    if (sc.run.finalReads) {
      finalPhase = true;
      sim.note(coordNode, 'harness.final-reads');
      const keys = writtenKeys(events);
      const reader = proto.client(cp, cluster.info, sc.protocol.options, ++clientSeq);
      for (const key of keys) {
        for (;;) {
          const process = processIds.next();
          const t0 = cp.rt.now();
          sink.invoke({ process, type: 'invoke', f: 'get', key, value: null, time: t0 }, coordNode);
          const r = yield* reader.get(key);
          const t1 = cp.rt.now();
          if (r.type === 'ok') {
            sink.complete({ process, type: 'ok', f: 'get', key, value: r.value, time: t1 }, coordNode);
            break;
          }
          sink.complete({ process, type: r.type === 'fail' ? 'fail' : 'info', f: 'get', key, value: null, time: t1 }, coordNode);
          if (t1 > injector.lastHealNs + sc.run.livenessBoundNs + sc.run.settleNs) return; // a stall: reported below
          yield* cp.rt.sleep(10_000);
        }
      }
    }
    finished = true;
    sim.halt();
  });

  sim.run(sc.run.maxVirtualNs);

  const violations: RunViolation[] = [];
  if (sim.violation !== null) violations.push({ kind: sim.violation.kind === 'invariant' ? 'invariant' : 'panic', message: sim.violation.message });
  const history: History = { init: null, events, faults: injector.log.map((f) => ({ text: f.text, timeNs: f.atNs, afterEvent: countBefore(events, f.atNs) })) };

  if (sim.violation === null) {
    if (!finished) {
      violations.push({
        kind: 'liveness',
        message: `run did not finish by ${sim.now} ns of virtual time (${finalPhase ? 'final reads' : 'workload'} stalled; last fault healed at ${injector.lastHealNs} ns)`,
      });
    }
    if (sc.checks.invariants) {
      for (const n of cluster.info.servers) {
        if (!cluster.nodes[n]!.alive) continue;
        for (const msg of handles[n]?.checkInvariants?.() ?? []) violations.push({ kind: 'invariant', message: `node ${n}: ${msg}` });
      }
    }
    if (sc.checks.linearizability) {
      const lin = checkLinearizability(history);
      for (const v of lin.violations) violations.push(linViolation(v));
    }
    if (sc.checks.durability && sc.run.finalReads && finished) {
      for (const lost of checkDurability(history)) {
        violations.push({ kind: 'durability', message: `key ${lost.key}: acknowledged write ${JSON.stringify(lost.lostValue)} lost; final read returned ${JSON.stringify(lost.finalValue)}`, key: lost.key });
      }
    }
    if (sc.checks.liveness && finished) {
      const allUp = cluster.info.servers.every((n) => cluster.nodes[n]!.alive);
      if (allUp) for (const msg of livenessProblems(events, injector.lastHealNs, sc.run.livenessBoundNs)) violations.push({ kind: 'liveness', message: msg });
    }
  }

  return {
    scenario: sc.name,
    protocol: sc.protocol.name,
    seed: opts.seed,
    traceHash: sim.hash.hex(),
    events: sim.events,
    eventsByKind: eventsByKind(sim.eventsByCode),
    virtualTimeNs: sim.now,
    result: violations.length === 0 ? 'ok' : 'violation',
    violations,
    history,
    faults: injector.log,
    swarm,
    lastHealNs: injector.lastHealNs,
    stats: summarize(events, clientStats, workloadStats, sim.now),
  };
}

function linViolation(v: KeyViolation): RunViolation {
  const ops = v.minimalOps ?? [];
  return {
    kind: 'linearizability',
    message: `key ${v.key}: ${ops.length} operations cannot be linearized`,
    key: v.key,
    minimalOps: ops,
  };
}

function countBefore(events: readonly HistoryEvent[], t: number): number {
  let n = 0;
  for (const e of events) if ((e.time ?? 0) <= t) n++;
  return n;
}

/**
 * Liveness after the last fault heals at `healNs`: an operation pending at healNs must complete
 * by healNs + bound; one invoked later must complete (not time out) within `bound`.
 */
export function livenessProblems(events: readonly HistoryEvent[], healNs: number, boundNs: number): string[] {
  const problems: string[] = [];
  const pending = new Map<number, HistoryEvent>();
  for (const e of events) {
    if (e.type === 'invoke') {
      pending.set(e.process, e);
      continue;
    }
    const inv = pending.get(e.process);
    pending.delete(e.process);
    if (inv === undefined) continue;
    const ti = inv.time ?? 0;
    const tc = e.time ?? 0;
    if (ti >= healNs && e.type === 'info') problems.push(`${inv.f} ${inv.key} by process ${inv.process} invoked at ${ti} ns, after the last fault healed (${healNs} ns), timed out at ${tc} ns`);
    else if (ti < healNs && tc > healNs + boundNs) problems.push(`${inv.f} ${inv.key} by process ${inv.process} pending when the last fault healed completed only at ${tc} ns (bound ${boundNs} ns)`);
    else if (ti >= healNs && tc - ti > boundNs) problems.push(`${inv.f} ${inv.key} by process ${inv.process} took ${tc - ti} ns (bound ${boundNs} ns)`);
    if (problems.length >= 5) break;
  }
  return problems;
}

function newClientStats(): ClientRunStats {
  return { latenciesNs: [], ops: 0 };
}

function summarize(events: readonly HistoryEvent[], clients: readonly ClientRunStats[], wstats: readonly WorkloadStats[], endNs: number): RunStats {
  const merged = new WorkloadStats();
  for (const w of wstats) merged.merge(w);
  let ok = 0;
  let fail = 0;
  let info = 0;
  for (const e of events) {
    if (e.type === 'ok') ok++;
    else if (e.type === 'fail') fail++;
    else if (e.type === 'info') info++;
  }
  const lat = clients.flatMap((c) => c.latenciesNs).sort((a, b) => a - b);
  const q = (p: number) => (lat.length === 0 ? 0 : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!);
  return {
    ops: ok + fail + info,
    ok,
    fail,
    info,
    opsPerVirtualSecond: endNs > 0 ? Math.round((ok / endNs) * 1e9) : 0,
    latencyNs: { p50: q(0.5), p99: q(0.99), p999: q(0.999) },
    workload: merged.report(),
  };
}
