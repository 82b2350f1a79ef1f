import { describe, expect, it } from 'vitest';
import { type Task } from '../../src/platform/index.js';
import type { ServerHandle } from '../../src/protocols/protocol.js';
import { lolkvOptions } from '../../src/protocols/lolkv/options.js';
import { lolkvProtocol } from '../../src/protocols/lolkv/index.js';
import { SimCluster } from '../../sim/cluster.js';
import { DEFAULT_MEMORY_COSTS } from '../../sim/memory.js';
import { NETWORK_56G } from '../../sim/network.js';
import { OPTANE_PRESET } from '../../sim/pm-device.js';
import type { SimMemory } from '../../sim/memory.js';

/**
 * Loads a 1,000,000-key store into a simulated 3-replica LoLKV cluster (every PUT replicated and
 * applied through the real protocol, no shortcuts) and reports peak RSS; the store must fit in
 * 4 GiB. Slow (about a minute): run with KVLAB_SLOW=1 npx vitest run test/lolkv/load-1m.test.ts
 */

const KEYS = Number(process.env.KVLAB_LOAD_KEYS ?? 1_000_000);
const CLIENT_THREADS = 32;

describe.skipIf(process.env.KVLAB_SLOW === undefined)('LoLKV 1M-key load', () => {
  it(`loads ${KEYS} keys on 3 replicas within 4 GiB`, async () => {
    const objBytes = 136; // 50-byte header + 16-byte key + 64-byte value, padded
    const segmentBytes = 64 * 1024;
    const segments = Math.ceil((KEYS * objBytes) / segmentBytes) + 64;
    const opts = lolkvOptions.parse({ threads: 8, segments, segmentBytes, tableSlots: 2 * KEYS + 1024, incarnations: 1 << 16 }, 'options');
    const cluster = new SimCluster(
      { servers: 3, clients: 2, network: NETWORK_56G, pm: { ...OPTANE_PRESET }, memoryCosts: { ...DEFAULT_MEMORY_COSTS }, ddio: false, crashPolicy: 'tear' },
      1,
    );
    const handles: (ServerHandle | null)[] = [null, null, null];
    cluster.onBoot = (node, p) => {
      if (node.nodeId < 3) handles[node.nodeId] = lolkvProtocol.server(p, cluster.info, opts);
    };
    cluster.bootAll();
    let peakRss = process.memoryUsage().rss;
    const sample = () => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    };
    const value = (i: number) => `v${String(i).padStart(10, '0')}`.padEnd(64, 'x');
    const key = (i: number) => `user${String(i).padStart(12, '0')}`;
    let done = 0;
    let retried = 0;
    let bad = 0;
    const t0 = performance.now();
    let finishedNs = 0;
    for (let t = 0; t < CLIENT_THREADS; t++) {
      const node = cluster.info.clients[t % 2]!;
      const p = cluster.nodes[node]!.platform!;
      const client = lolkvProtocol.client(p, cluster.info, opts, t + 1);
      p.rt.spawn(`loader${t}`, function* (): Task<void> {
        for (let i = t; i < KEYS; i += CLIENT_THREADS) {
          // A loader retries until the PUT is acknowledged (the first ones wait out the initial
          // election and state sync of the empty store, longer than the client deadline).
          while ((yield* client.put(key(i), value(i))).type !== 'ok') retried++;
          if (++done % 50_000 === 0) sample();
        }
        if (done === KEYS) {
          finishedNs = p.rt.now();
          cluster.sim.halt();
        }
      });
    }
    // In slices, so that vitest's worker stays responsive during a long synchronous simulation.
    while (finishedNs === 0 && cluster.sim.violation === null && cluster.sim.now < 60_000_000_000) {
      cluster.sim.run(cluster.sim.now + 5_000_000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    sample();
    const loadWallMs = performance.now() - t0;
    // Read back a sample through the protocol.
    const cp = cluster.nodes[cluster.info.clients[0]!]!.platform!;
    const reader = lolkvProtocol.client(cp, cluster.info, opts, 999);
    let checked = 0;
    cp.rt.spawn('reader', function* (): Task<void> {
      const rng = cp.rt.rng('sample');
      for (let k = 0; k < 2000; k++) {
        const i = rng.int(KEYS);
        const r = yield* reader.get(key(i));
        if (r.type !== 'ok' || r.value !== value(i)) bad++;
        checked++;
      }
      cluster.sim.halt();
    });
    const until = cluster.sim.now + 10_000_000_000;
    while (checked < 2000 && cluster.sim.violation === null && cluster.sim.now < until) {
      cluster.sim.run(cluster.sim.now + 5_000_000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    sample();
    const leader = handles.findIndex((h) => h?.role() === 'leader');
    const table = cluster.nodes[leader]!.memory.pmRegions.get('lolkv.table') as SimMemory;
    let slotsUsed = 0;
    for (let s = 0; s < opts.tableSlots; s++) if (table.peek64(s * 8) !== 0) slotsUsed++;
    const maxRssBytes = process.resourceUsage().maxRSS * 1024;
    const gib = (b: number) => (b / 2 ** 30).toFixed(2);
    console.log(
      `1M load: ${done} PUTs (${retried} retried after a client timeout) in ${(finishedNs / 1e6).toFixed(1)} ms virtual, ${(loadWallMs / 1000).toFixed(1)} s wall, ` +
        `${cluster.sim.events} events; leader table ${slotsUsed} keys; ${checked} sampled GETs, ${bad} wrong; ` +
        `peak RSS ${gib(Math.max(peakRss, maxRssBytes))} GiB (maxRSS ${gib(maxRssBytes)} GiB); PM per replica ${((segments * segmentBytes + opts.tableSlots * 8) / 2 ** 20).toFixed(0)} MiB`,
    );
    expect(cluster.sim.violation).toBeNull();
    expect(done).toBe(KEYS);
    expect(slotsUsed).toBe(KEYS);
    expect(bad).toBe(0);
    expect(Math.max(peakRss, maxRssBytes)).toBeLessThan(4 * 2 ** 30);
    for (const h of handles) expect(h?.checkInvariants?.() ?? []).toEqual([]);
  }, 3_600_000);
});
