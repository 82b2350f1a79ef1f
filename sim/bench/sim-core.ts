import { Access, type Task } from '../../src/platform/index.js';
import { SimCluster } from '../cluster.js';
import { DEFAULT_MEMORY_COSTS } from '../memory.js';
import { NETWORK_100G } from '../network.js';
import { OPTANE_PRESET } from '../pm-device.js';

export interface SimCoreResult {
  coroutines: number;
  events: number;
  virtualTimeNs: number;
  wallMs: number;
  eventsPerSecond: number;
  peakRssBytes: number;
  traceHash: string;
}

/**
 * The simulator-core benchmark: `coroutines` threads spread over 4 nodes, each looping
 * {RDMA WRITE 64 B to a peer; wait for its completion; CAS on local memory}.
 */
export function runSimCore(opts: { coroutines: number; opsPerCoroutine: number; seed: number; clock: () => number }): SimCoreResult {
  const nodes = 4;
  const cluster = new SimCluster(
    { servers: nodes, clients: 0, network: NETWORK_100G, pm: OPTANE_PRESET, memoryCosts: DEFAULT_MEMORY_COSTS, ddio: true, crashPolicy: 'tear' },
    opts.seed,
  );
  const keys: number[] = [];
  cluster.onBoot = (node, p) => {
    const mem = p.memory.dram('bench', 1 << 20);
    keys[node.nodeId] = p.fabric.registerMemory(mem, Access.ALL).rkey;
    p.fabric.listen('bench', { cq: p.fabric.createCq({ capacity: 16, overrunIgnoring: true }) });
  };
  cluster.bootAll();
  const per = Math.ceil(opts.coroutines / nodes);
  let started = 0;
  for (const node of cluster.nodes) {
    const p = node.platform!;
    const local = p.memory.dram('local', 1 << 16);
    for (let i = 0; i < per && started < opts.coroutines; i++, started++) {
      const peer = (node.nodeId + 1 + (i % (nodes - 1))) % nodes;
      const slot = i;
      p.rt.spawn(`w${i}`, function* (): Task<void> {
        const cq = p.fabric.createCq({ capacity: 4 });
        const conn = yield* p.fabric.connect(peer, 'bench', { cq });
        if (conn === null) throw new Error('connect failed');
        const payload = new Uint8Array(64);
        for (let k = 0; k < opts.opsPerCoroutine; k++) {
          yield* conn.qp.write(payload, { rkey: keys[peer]!, offset: (slot * 64) % (1 << 20) }, { wrId: k });
          const c = yield* cq.next();
          if (c === null || c.status !== 'success') throw new Error('write failed');
          yield* local.cas64((slot * 8) % (1 << 16), k, k + 1);
        }
      });
    }
  }
  const t0 = opts.clock();
  cluster.sim.run();
  const wallMs = opts.clock() - t0;
  if (cluster.sim.violation) throw new Error(cluster.sim.violation.message);
  return {
    coroutines: opts.coroutines,
    events: cluster.sim.events,
    virtualTimeNs: cluster.sim.now,
    wallMs,
    eventsPerSecond: Math.round(cluster.sim.events / (wallMs / 1000)),
    peakRssBytes: 0,
    traceHash: cluster.sim.hash.hex(),
  };
}
