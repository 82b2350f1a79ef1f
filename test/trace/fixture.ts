import { Access, type Task } from '../../src/platform/index.js';
import { SimCluster } from '../../sim/cluster.js';
import { EV } from '../../sim/kernel.js';
import { DEFAULT_MEMORY_COSTS } from '../../sim/memory.js';
import { NETWORK_100G } from '../../sim/network.js';
import { OPTANE_PRESET } from '../../sim/pm-device.js';
import { MemoryRecorder, type MemoryRecorderOptions, type TraceMeta, traceMetaFor } from '../../sim/trace/index.js';

export const CRASH_AT_NS = 20_000;

export interface RecordedRun {
  cluster: SimCluster;
  rec: MemoryRecorder;
  meta: TraceMeta;
}

/**
 * A small real run: 3 servers and 1 client node. Writers on nodes 0 and 2 RDMA-WRITE 128 B to
 * their peers every 2 µs; the client (node 3) brackets each write to node 0 with
 * client.invoke / client.ok notes. Node 1 crashes at 20 µs (scheduled through the kernel).
 */
export function recordRun(seed: number, opts: MemoryRecorderOptions & { crash?: boolean; ops?: number; record?: boolean; failAtNs?: number } = {}): RecordedRun {
  const cluster = new SimCluster(
    { servers: 3, clients: 1, network: NETWORK_100G, pm: OPTANE_PRESET, memoryCosts: DEFAULT_MEMORY_COSTS, ddio: true, crashPolicy: 'tear' },
    seed,
  );
  const rec = new MemoryRecorder(opts);
  if (opts.record ?? true) cluster.sim.recorder = rec;
  const keys: number[] = [];
  cluster.onBoot = (node, p) => {
    const mem = p.memory.dram('kv', 1 << 16);
    keys[node.nodeId] = p.fabric.registerMemory(mem, Access.ALL).rkey;
    p.fabric.listen('kv', { cq: p.fabric.createCq({ capacity: 64, overrunIgnoring: true }) });
  };
  cluster.bootAll();
  const ops = opts.ops ?? 12;
  const writer = (nodeId: number, name: string, peer: number, client: boolean) => {
    const p = cluster.nodes[nodeId]!.platform!;
    p.rt.spawn(name, function* (): Task<void> {
      const cq = p.fabric.createCq({ capacity: 8 });
      const conn = yield* p.fabric.connect(peer, 'kv', { cq });
      if (conn === null) return;
      const payload = new Uint8Array(128).fill(nodeId + 1);
      for (let k = 0; k < ops; k++) {
        if (client) p.rt.trace('client.invoke', { process: nodeId * 10, f: 'put', key: `k${k}` });
        yield* conn.qp.write(payload, { rkey: keys[peer]!, offset: (nodeId * 1024 + k * 128) % (1 << 16) }, { wrId: k });
        const c = yield* cq.next();
        if (c === null || c.status !== 'success') {
          if (client) p.rt.trace('client.info', { process: nodeId * 10, f: 'put', key: `k${k}` });
          p.rt.trace('app.write-failed', { peer, status: c === null ? 'none' : c.status });
          return;
        }
        if (client) p.rt.trace('client.ok', { process: nodeId * 10, f: 'put', key: `k${k}` });
        yield* p.rt.sleep(2_000);
      }
    });
  };
  writer(0, 'w0', 1, false);
  writer(0, 'w1', 2, false);
  writer(2, 'w0', 1, false);
  writer(2, 'w1', 0, false);
  writer(3, 'client', 0, true);
  if (opts.crash ?? true) cluster.sim.schedule(CRASH_AT_NS, EV.CALL, 1, () => cluster.crash(1));
  if (opts.failAtNs !== undefined) cluster.sim.schedule(opts.failAtNs, EV.CALL, 2, () => cluster.sim.fail('invariant', 'acknowledged write lost', 2));
  cluster.sim.run(400_000);
  const meta = traceMetaFor(cluster.sim, rec, { scenario: 'trace-fixture', cluster: cluster.info });
  return { cluster, rec, meta };
}
