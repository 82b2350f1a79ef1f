/**
 * The driver on the real simulator kernel (Sim + SimNode + SimRuntime) rather than the test
 * stepper: the same coroutine code, now scheduled by the simulator, hashed into its trace.
 */
import { describe, expect, it } from 'vitest';
import { Sim } from '../../sim/kernel.js';
import { DEFAULT_MEMORY_COSTS } from '../../sim/memory.js';
import { SimNode, SimRuntime } from '../../sim/node.js';
import { OPTANE_PRESET, PmDevice } from '../../sim/pm-device.js';
import type { HistoryEvent } from '../../src/check/history.js';
import { parseWorkload } from '../../src/workload/config.js';
import { ProcessIds, runClient } from '../../src/workload/driver.js';
import { KeySpace } from '../../src/workload/keyspace.js';
import { WorkloadStats } from '../../src/workload/stats.js';
import { FakeClient, MemStore } from './fake.js';

function simRun(seed: number) {
  const sim = new Sim(seed);
  const node = new SimNode(sim, 0, DEFAULT_MEMORY_COSTS, new PmDevice(OPTANE_PRESET), false);
  const rt = new SimRuntime(node);
  const store = new MemStore();
  const events: HistoryEvent[] = [];
  const ids = new ProcessIds();
  const cfg = parseWorkload({ ycsb: 'D', keys: 200, mode: 'open', arrivalRatePerSec: 500_000, opsPerClient: 400, opTimeoutNs: 50_000 });
  const keySpace = new KeySpace(cfg.keys);
  const stats = new WorkloadStats();
  const done: boolean[] = [];
  for (let c = 0; c < 2; c++) {
    const th = rt.spawn(`client${c}`, () =>
      runClient({ rt }, new FakeClient(rt, store, `c${c}`, { infoRate: 0.02, hangRate: 0.01 }, [3_000, 20_000]), cfg, {
        clientId: c,
        processIds: ids,
        sink: { invoke: (e) => events.push(e), complete: (e) => events.push(e) },
        workloadStats: stats,
        keySpace,
        totalClients: 2,
        newClient: (slot) => new FakeClient(rt, store, `c${c}/${slot}`, { infoRate: 0.02, hangRate: 0.01 }, [3_000, 20_000]),
      }),
    );
    th.finished.addWaiter({ wake: () => void done.push(true) });
  }
  sim.run(1e10);
  return { events, hash: sim.hash.hex(), stats: stats.report(), done: done.length, violation: sim.violation };
}

describe('driver on the simulator kernel', () => {
  it('runs to completion, deterministically', () => {
    const a = simRun(5);
    expect(a.violation).toBe(null);
    expect(a.done).toBe(2);
    expect(a.stats.arrivals).toBe(800);
    expect(a.events.filter((e) => e.type === 'invoke').length).toBe(a.stats.arrivals - a.stats.dropped);
    expect(a.events.filter((e) => e.type !== 'invoke').length).toBe(a.stats.arrivals - a.stats.dropped);
    const b = simRun(5);
    expect(b.hash).toBe(a.hash);
    expect(JSON.stringify(b.events)).toBe(JSON.stringify(a.events));
    expect(simRun(6).hash).not.toBe(a.hash);
  });
});
