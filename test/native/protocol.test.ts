/**
 * Protocol code through the native adapter, unchanged: the simulator-core loop written against
 * Platform only (native/bench/core-loop.ts, also run on the simulator here), and the example
 * register protocol (src/protocols/register: RDMA WRITE/READ/CAS, SEND into a multi-packet SRQ,
 * UD RPC from clients, PM log with recovery) on three server nodes and a client node.
 */
import { afterAll, expect, it } from 'vitest';
import { type ClusterInfo, type Platform, type Task } from '../../src/platform/index.js';
import { registerProtocol } from '../../src/protocols/register/index.js';
import { SimCluster } from '../../sim/cluster.js';
import { DEFAULT_MEMORY_COSTS } from '../../sim/memory.js';
import { NETWORK_100G } from '../../sim/network.js';
import { OPTANE_PRESET } from '../../sim/pm-device.js';
import { settle } from '../../native/adapter/index.js';
import { coreLoopSetup, coreLoopStart } from '../../native/bench/core-loop.js';
import { cleanupDirs, cluster, describeNative, panics, run } from './helpers.js';

describeNative('protocol code on the native backend', () => {
  afterAll(() => {
    cleanupDirs();
    expect(panics).toEqual([]);
  });

  it('the simulator-core loop (Platform only) runs natively: WRITE + completion + CAS, 3 nodes × 8 coroutines', async () => {
    const c = cluster(3);
    try {
      const ps = c.nodes.map((n) => n.platform);
      const nodes = ps.map((p) => coreLoopSetup(p));
      const { done, result } = coreLoopStart(ps, nodes, { coroutines: 24, opsPerCoroutine: 200 });
      await settle(done, 60_000);
      expect(result).toEqual({ ops: 24 * 200, failures: 0, casWordsOk: true });
    } finally {
      c.shutdown();
    }
  });

  it('… and the very same loop runs on the simulator', () => {
    const sim = new SimCluster({ servers: 3, clients: 0, network: NETWORK_100G, pm: OPTANE_PRESET, memoryCosts: DEFAULT_MEMORY_COSTS, ddio: true, crashPolicy: 'tear' }, 7);
    const nodes: ReturnType<typeof coreLoopSetup>[] = [];
    sim.onBoot = (node, p) => {
      nodes[node.nodeId] = coreLoopSetup(p);
    };
    sim.bootAll();
    const { done, result } = coreLoopStart(
      sim.nodes.map((n) => n.platform!),
      nodes,
      { coroutines: 24, opsPerCoroutine: 50 },
    );
    sim.sim.run();
    expect(sim.sim.violation).toBeNull();
    expect(done.done).toBe(true);
    expect(result).toEqual({ ops: 24 * 50, failures: 0, casWordsOk: true });
  });

  it('the register protocol: puts, gets and CAS from a client over UD; replication to two backups; recovery of the primary from its PM log', async () => {
    const c = cluster(4);
    const info: ClusterInfo = { servers: [0, 1, 2], clients: [3] };
    const opts = registerProtocol.options.parse({ logBytes: 1 << 20, attemptTimeoutNs: 50_000_000, opDeadlineNs: 5_000_000_000, reconnectNs: 20_000_000 }, 'options');
    try {
      const handles = [0, 1, 2].map((i) => registerProtocol.server(c.nodes[i]!.platform, info, opts));
      const cp: Platform = c.nodes[3]!.platform;
      const client = registerProtocol.client(cp, info, opts, 0);
      const results = await run(
        cp,
        function* (): Task<unknown[]> {
          const out: unknown[] = [];
          for (let i = 0; i < 20; i++) out.push((yield* client.put(`k${i % 5}`, `v${i}`)).type);
          out.push(yield* client.get('k3'));
          out.push(yield* client.cas!('k3', 'v18', 'swapped'));
          out.push(yield* client.cas!('k3', 'v18', 'again'));
          out.push(yield* client.get('k3'));
          out.push(yield* client.get('missing'));
          return out;
        },
        60_000,
      );
      expect(results.slice(0, 20).every((t) => t === 'ok')).toBe(true);
      expect(results.slice(20)).toEqual([
        { type: 'ok', value: 'v18' },
        { type: 'ok', value: true },
        { type: 'ok', value: false },
        { type: 'ok', value: 'swapped' },
        { type: 'ok', value: null },
      ]);
      expect(handles[0]!.role()).toBe('primary');
      expect(handles[0]!.checkInvariants?.() ?? []).toEqual([]);
      for (const h of handles.slice(1)) expect(h.checkInvariants?.() ?? []).toEqual([]);
      // The backups hold the primary's log (RDMA WRITEs into their PM): same bytes in the first slots.
      const primaryLog = c.nodes[0]!.memory.pmRegions.get('reg.log')!;
      for (const b of [1, 2]) {
        const backupLog = c.nodes[b]!.memory.pmRegions.get('reg.log')!;
        expect(Buffer.compare(Buffer.from(backupLog.peek(0, 256 * 20)), Buffer.from(primaryLog.peek(0, 256 * 20)))).toBe(0);
      }
      // Restart the primary: it recovers the index from its PM log and serves the same values.
      const n0 = c.restart(0);
      expect(n0.bootCount).toBe(1);
      registerProtocol.server(n0.platform, info, opts);
      const after = await run(
        cp,
        function* (): Task<unknown[]> {
          return [yield* client.get('k3'), yield* client.get('k4'), (yield* client.put('k4', 'after-restart')).type, yield* client.get('k4')];
        },
        60_000,
      );
      expect(after).toEqual([{ type: 'ok', value: 'swapped' }, { type: 'ok', value: 'v19' }, 'ok', { type: 'ok', value: 'after-restart' }]);
    } finally {
      c.shutdown();
    }
  });
});
