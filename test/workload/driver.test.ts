import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../src/check/history.js';
import type { KvClient } from '../../src/protocols/protocol.js';
import { parseWorkload } from '../../src/workload/config.js';
import { type ClientRunStats, ProcessIds, runClient } from '../../src/workload/driver.js';
import { KeySpace, keyName } from '../../src/workload/keyspace.js';
import { type LoadResult, loadKeys } from '../../src/workload/load.js';
import { WorkloadStats } from '../../src/workload/stats.js';
import { BasicClient, FakeClient, type FakeFaults, MemStore, Stepper } from './fake.js';

interface Setup {
  seed?: number;
  workload: unknown;
  clients?: number;
  faults?: FakeFaults;
  latencyNs?: [number, number];
  /** Give the driver a client factory (open loop, timeouts). Default true. */
  factory?: boolean;
  basic?: boolean;
  keepGoing?: (n: number) => boolean;
  stop?: () => boolean;
  untilNs?: number;
}

function run(s: Setup) {
  const st = new Stepper(s.seed ?? 1);
  const rt = st.runtime(3);
  const store = new MemStore();
  const events: HistoryEvent[] = [];
  const ids = new ProcessIds(100);
  const cfg = parseWorkload(s.workload);
  const clients = s.clients ?? 1;
  const keySpace = cfg.kind === 'ycsb' ? new KeySpace(cfg.keys) : undefined;
  const perClient: WorkloadStats[] = [];
  const raw: ClientRunStats[] = [];
  const handles = [];
  const make = (name: string): KvClient => {
    const f = new FakeClient(rt, store, name, s.faults, s.latencyNs);
    return s.basic === true ? new BasicClient(f) : f;
  };
  for (let c = 0; c < clients; c++) {
    const ws = new WorkloadStats();
    const stats: ClientRunStats = { latenciesNs: [], ops: 0 };
    perClient.push(ws);
    raw.push(stats);
    const client = make(`c${c}`);
    handles.push(
      st.spawn(`client${c}`, () =>
        runClient({ rt }, client, cfg, {
          clientId: c,
          processIds: ids,
          sink: { invoke: (e) => events.push(e), complete: (e) => events.push(e) },
          workloadStats: ws,
          stats,
          totalClients: clients,
          ...(keySpace === undefined ? {} : { keySpace }),
          ...(s.factory === false ? {} : { newClient: (slot: number) => make(`c${c}/s${slot}`) }),
          ...(s.keepGoing === undefined ? {} : { keepGoing: s.keepGoing }),
          ...(s.stop === undefined ? {} : { stop: s.stop }),
        }),
      ),
    );
  }
  st.run(s.untilNs ?? Infinity);
  const total = new WorkloadStats();
  for (const w of perClient) total.merge(w);
  return { events, stats: total, raw, store, ids, finished: handles.every((h) => h.finished.done), now: st.now };
}

interface Shape {
  ops: number;
  infos: number;
  pending: number;
  maxConcurrent: number;
}

/** Jepsen well-formedness: one op at a time per process, nothing after info, completions match invocations. */
function checkHistory(events: readonly HistoryEvent[]): Shape {
  const state = new Map<number, HistoryEvent | 'idle' | 'retired'>();
  const written = new Set<string>();
  let ops = 0;
  let infos = 0;
  let lastTime = -1;
  let concurrent = 0;
  let maxConcurrent = 0;
  for (const e of events) {
    expect(e.time).toBeGreaterThanOrEqual(lastTime);
    lastTime = e.time!;
    const s = state.get(e.process) ?? 'idle';
    expect(s, `process ${e.process} after retirement`).not.toBe('retired');
    if (e.type === 'invoke') {
      expect(s, `process ${e.process} invoked twice`).toBe('idle');
      state.set(e.process, e);
      ops++;
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      if (e.f !== 'get') {
        const v = e.f === 'cas' ? (e.value as [string | null, string])[1] : (e.value as string);
        expect(written.has(v), `value ${v} written twice`).toBe(false);
        written.add(v);
      } else expect(e.value).toBe(null);
      continue;
    }
    expect(typeof s, `completion without invocation on ${e.process}`).toBe('object');
    const inv = s as HistoryEvent;
    expect(e.f).toBe(inv.f);
    expect(e.key).toBe(inv.key);
    if (e.f !== 'get') expect(e.value).toEqual(inv.value);
    concurrent--;
    if (e.type === 'info') {
      infos++;
      state.set(e.process, 'retired');
    } else state.set(e.process, 'idle');
  }
  let pending = 0;
  for (const s of state.values()) if (typeof s === 'object') pending++;
  return { ops, infos, pending, maxConcurrent };
}

describe('closed loop', () => {
  it('runs YCSB A and records a well-formed, complete history', () => {
    const r = run({ workload: { ycsb: 'A', keys: 100, opsPerClient: 300 }, clients: 3 });
    expect(r.finished).toBe(true);
    const h = checkHistory(r.events);
    expect(h).toMatchObject({ ops: 900, infos: 0, pending: 0 });
    expect(h.maxConcurrent).toBeLessThanOrEqual(3);
    const rep = r.stats.report();
    expect(rep.total.count).toBe(900);
    expect(rep.byOp.read!.count + rep.byOp.update!.count).toBe(900);
    expect(rep.total.latency.p50Ns).toBeGreaterThanOrEqual(1000);
    expect(rep.total.latency.p999Ns).toBeLessThanOrEqual(5000);
    expect(rep.total.throughputPerSec).toBeGreaterThan(0);
    expect(r.raw.map((x) => x.ops)).toEqual([300, 300, 300]);
    expect(r.raw[0]!.latenciesNs.length).toBe(300);
    // The history's keys are YCSB's.
    expect(r.events.every((e) => /^user\d+$/.test(e.key))).toBe(true);
  });

  it('F: a read-modify-write is a get then a put of the same key by the same process', () => {
    const r = run({ workload: { ycsb: 'F', keys: 50, opsPerClient: 400 } });
    checkHistory(r.events);
    const rep = r.stats.report();
    const rmw = rep.byOp.readModifyWrite!.count;
    expect(rmw).toBeGreaterThan(150);
    const puts = r.events.filter((e) => e.type === 'invoke' && e.f === 'put');
    expect(puts.length).toBe(rmw);
    for (const put of puts) {
      const i = r.events.indexOf(put);
      const getOk = r.events[i - 1]!;
      expect(getOk).toMatchObject({ type: 'ok', f: 'get', key: put.key, process: put.process });
    }
  });

  it('E: scans are counted but not recorded; inserts are puts of new keys', () => {
    const r = run({ workload: { ycsb: 'E', keys: 100, opsPerClient: 500 } });
    const h = checkHistory(r.events);
    const rep = r.stats.report();
    expect(rep.byOp.scan!.count).toBeGreaterThan(400);
    expect(h.ops).toBe(rep.byOp.insert!.count);
    expect(r.events.every((e) => e.f === 'put')).toBe(true);
    expect(new Set(r.events.map((e) => e.key)).size).toBe(h.ops);
  });

  it('E on a client without scan: scans are removed from the mix and reported', () => {
    const r = run({ workload: { ycsb: 'E', keys: 100, opsPerClient: 50 }, basic: true });
    const rep = r.stats.report();
    expect(rep.disabledOps).toEqual(['scan']);
    expect(rep.byOp.insert!.count).toBe(50);
  });

  it('retires a process after info and continues under a fresh one', () => {
    const r = run({ workload: { kind: 'mixed', opsPerClient: 400 }, clients: 2, faults: { infoRate: 0.15, failRate: 0.1 } });
    expect(r.finished).toBe(true);
    const h = checkHistory(r.events);
    expect(h.infos).toBeGreaterThan(20);
    expect(h.pending).toBe(0);
    // Two starting ids, one more per info.
    expect(r.ids.issued - 100).toBe(2 + h.infos);
    expect(new Set(r.events.map((e) => e.process)).size).toBe(2 + h.infos);
    const rep = r.stats.report();
    expect(rep.total.info).toBe(h.infos);
    expect(rep.total.count).toBe(800);
  });

  it('records cas as [expected, new]; a cas that does not swap is a fail', () => {
    const r = run({ workload: { kind: 'mixed', mixed: { keys: 1, get: 1, put: 0, append: 0, cas: 1 }, opsPerClient: 300 }, clients: 3 });
    checkHistory(r.events);
    const cas = r.events.filter((e) => e.f === 'cas' && e.type !== 'invoke');
    expect(cas.some((e) => e.type === 'ok')).toBe(true);
    expect(cas.some((e) => e.type === 'fail')).toBe(true);
    for (const e of cas) expect(Array.isArray(e.value) && e.value.length === 2).toBe(true);
    // Clients learn values from their gets and cas from them: most cas after the first get swap or race.
    expect(cas.filter((e) => e.type === 'ok').every((e) => (e.value as unknown[])[0] !== undefined)).toBe(true);
  });

  it('waits thinkTimeNs between operations', () => {
    const r = run({ workload: { ycsb: 'C', opsPerClient: 10, thinkTimeNs: 1_000_000 } });
    expect(r.now).toBeGreaterThanOrEqual(10_000_000);
    expect(r.now).toBeLessThan(10_100_000);
  });

  it('stops at durationNs, on stop(), or as keepGoing says', () => {
    const byDuration = run({ workload: { ycsb: 'A', opsPerClient: 0, durationNs: 1_000_000 } });
    expect(byDuration.now).toBeLessThan(1_010_000);
    const n = checkHistory(byDuration.events).ops;
    expect(n).toBeGreaterThan(200);
    expect(n).toBeLessThan(1000);

    let t = 0;
    const stopped = run({ workload: { ycsb: 'A', opsPerClient: 0 }, stop: () => ++t > 50 });
    expect(checkHistory(stopped.events).ops).toBe(50);

    const kept = run({ workload: { ycsb: 'A', opsPerClient: 10 }, keepGoing: (issued) => issued < 25 });
    expect(checkHistory(kept.events).ops).toBe(25);
  });

  it('leaves warm-up operations out of the stats but not out of the history', () => {
    const r = run({ workload: { ycsb: 'A', opsPerClient: 0, durationNs: 2_000_000, warmupNs: 1_000_000 } });
    const h = checkHistory(r.events);
    const rep = r.stats.report();
    expect(rep.total.count).toBeLessThan(h.ops * 0.6);
    expect(rep.total.count).toBeGreaterThan(h.ops * 0.4);
    expect(rep.startNs).toBe(1_000_000);
  });
});

describe('open loop', () => {
  it('produces ≈ rate × duration Poisson arrivals, several in flight', () => {
    // 100k/s for 20 ms: 2000 expected arrivals per client (Poisson sd ≈ 45).
    const r = run({
      workload: { ycsb: 'A', mode: 'open', arrivalRatePerSec: 100_000, durationNs: 20_000_000, opsPerClient: 0, maxOutstanding: 64 },
      clients: 2,
      latencyNs: [20_000, 60_000],
    });
    expect(r.finished).toBe(true);
    const rep = r.stats.report();
    for (const a of [rep.arrivals / 2]) expect(Math.abs(a - 2000)).toBeLessThan(4 * 45);
    expect(rep.dropped).toBe(0);
    const h = checkHistory(r.events);
    expect(h.ops).toBe(rep.arrivals);
    expect(h.pending).toBe(0);
    expect(h.maxConcurrent).toBeGreaterThan(4);
    // Throughput follows the offered load, not the latency.
    expect(Math.abs(rep.total.throughputPerSec - 200_000)).toBeLessThan(20_000);
  });

  it('drops arrivals beyond maxOutstanding and never exceeds it', () => {
    const r = run({
      workload: { ycsb: 'A', mode: 'open', arrivalRatePerSec: 1_000_000, opsPerClient: 2000, maxOutstanding: 3 },
      latencyNs: [20_000, 60_000],
    });
    const rep = r.stats.report();
    expect(rep.arrivals).toBe(2000);
    expect(rep.dropped).toBeGreaterThan(1000);
    const h = checkHistory(r.events);
    expect(h.ops).toBe(rep.arrivals - rep.dropped);
    expect(h.maxConcurrent).toBe(3);
  });

  it('gives up on a hung operation after opTimeoutNs: info, a fresh process, a fresh client', () => {
    const r = run({
      workload: { kind: 'mixed', mode: 'open', arrivalRatePerSec: 50_000, opsPerClient: 500, maxOutstanding: 8, opTimeoutNs: 200_000 },
      faults: { hangRate: 0.05 },
    });
    expect(r.finished).toBe(true);
    const h = checkHistory(r.events);
    expect(h.infos).toBeGreaterThan(5);
    expect(h.pending).toBe(0);
    const timedOut = r.events.filter((e) => e.type === 'info');
    expect(timedOut.length).toBe(h.infos);
  });
});

describe('timeouts in the closed loop', () => {
  it('with a client factory, the client moves on', () => {
    const r = run({ workload: { ycsb: 'A', opsPerClient: 300, opTimeoutNs: 100_000 }, faults: { hangRate: 0.05 } });
    expect(r.finished).toBe(true);
    const h = checkHistory(r.events);
    expect(h.ops).toBe(300);
    expect(h.infos).toBeGreaterThan(3);
  });

  it('without one, it records info and waits for the abandoned op before reusing the client', () => {
    const r = run({ workload: { ycsb: 'A', opsPerClient: 300, opTimeoutNs: 100_000 }, faults: { hangRate: 0.05 }, factory: false, untilNs: 1e9 });
    expect(r.finished).toBe(false); // the hung op never returns, so the client stays parked
    const h = checkHistory(r.events);
    expect(h.infos).toBe(1);
    expect(h.pending).toBe(0);
  });
});

describe('determinism', () => {
  const cfg = { kind: 'mixed', mode: 'open', arrivalRatePerSec: 200_000, opsPerClient: 300, valueSize: { kind: 'zippydb' } } as const;

  it('the same seed gives the identical history', () => {
    const a = run({ seed: 9, workload: cfg, clients: 3, faults: { infoRate: 0.05, failRate: 0.05 }, latencyNs: [2_000, 30_000] });
    const b = run({ seed: 9, workload: cfg, clients: 3, faults: { infoRate: 0.05, failRate: 0.05 }, latencyNs: [2_000, 30_000] });
    expect(a.events.length).toBeGreaterThan(800);
    expect(JSON.stringify(b.events)).toBe(JSON.stringify(a.events));
    expect(b.stats.report()).toEqual(a.stats.report());
  });

  it('another seed gives another history', () => {
    const a = run({ seed: 9, workload: cfg, clients: 3 });
    const b = run({ seed: 10, workload: cfg, clients: 3 });
    expect(JSON.stringify(b.events)).not.toBe(JSON.stringify(a.events));
  });

  it('values written have the configured sizes', () => {
    const r = run({ workload: { ycsb: 'A', opsPerClient: 4000, valueSize: { kind: 'zippydb' } } });
    const mean = r.stats.report().meanValueBytes;
    expect(Math.abs(mean - 90.8)).toBeLessThan(5);
  });
});

describe('load phase', () => {
  it('writes every initial key once, in shares, with values distinct from the run', () => {
    const st = new Stepper(3);
    const rt = st.runtime();
    const store = new MemStore();
    const events: HistoryEvent[] = [];
    const ids = new ProcessIds();
    const cfg = parseWorkload({ ycsb: 'A', keys: 101, opsPerClient: 50, valueSize: { kind: 'zippydb' } });
    const sink = { invoke: (e: HistoryEvent) => events.push(e), complete: (e: HistoryEvent) => events.push(e) };
    const results: LoadResult[] = [];
    for (let c = 0; c < 3; c++) {
      st.spawn(`load${c}`, function* () {
        results.push(yield* loadKeys({ rt }, new FakeClient(rt, store, `l${c}`), cfg, { clientId: c, processIds: ids, sink, part: { index: c, of: 3 } }));
        yield* runClient({ rt }, new FakeClient(rt, store, `c${c}`), cfg, { clientId: c, processIds: ids, sink });
      });
    }
    st.run();
    expect(results.reduce((a, r) => a + r.ok, 0)).toBe(101);
    expect(store.data.size).toBeGreaterThanOrEqual(101);
    for (let n = 0; n < 101; n++) expect(store.data.has(keyName(n, 'hashed'))).toBe(true);
    const h = checkHistory(events); // unique values across load and run
    expect(h.ops).toBe(101 + 150);
    expect(events.filter((e) => e.type === 'invoke' && typeof e.value === 'string' && e.value.startsWith('vL')).length).toBe(101);
  });
});
