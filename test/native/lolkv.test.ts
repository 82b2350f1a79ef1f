/**
 * LoLKV, unchanged, on the native backend: three replicas and a client node in this process
 * (LocalCluster, loopback), with the real-time option defaults of native/cluster/options.ts.
 */
import { afterAll, expect, it } from 'vitest';
import type { ClusterInfo, Platform, Task } from '../../src/platform/index.js';
import { lolkvProtocol } from '../../src/protocols/lolkv/index.js';
import { nativeProtocolOptions } from '../../native/cluster/options.js';
import { cleanupDirs, cluster, describeNative, panics, run } from './helpers.js';

describeNative('LoLKV on the native backend', () => {
  afterAll(() => {
    cleanupDirs();
    expect(panics).toEqual([]);
  });

  it('elects a leader, serves puts and gets from a client over UD, and survives a leader restart', async () => {
    const c = cluster(4, { seed: 3 });
    const info: ClusterInfo = { servers: [0, 1, 2], clients: [3] };
    const opts = lolkvProtocol.options.parse(nativeProtocolOptions('lolkv', { segments: 64, tableSlots: 4096 }), 'options');
    try {
      const handles = [0, 1, 2].map((i) => lolkvProtocol.server(c.nodes[i]!.platform, info, opts));
      const cp: Platform = c.nodes[3]!.platform;
      const client = lolkvProtocol.client(cp, info, opts, 1);
      const results = await run(
        cp,
        function* (): Task<unknown[]> {
          const out: unknown[] = [];
          for (let i = 0; i < 30; i++) out.push((yield* client.put(`k${i % 5}`, `v${i}`)).type);
          out.push(yield* client.get('k3'));
          out.push(yield* client.get('missing'));
          return out;
        },
        60_000,
      );
      expect(results.slice(0, 30).every((t) => t === 'ok')).toBe(true);
      expect(results.slice(30)).toEqual([{ type: 'ok', value: 'v28' }, { type: 'ok', value: null }]);
      const roles = handles.map((h) => h.role());
      expect(roles.filter((r) => r === 'leader')).toHaveLength(1);
      const leader = roles.indexOf('leader');
      // Restart the leader: a new one is elected; the acknowledged values are still there.
      const n = c.restart(leader);
      handles[leader] = lolkvProtocol.server(n.platform, info, opts);
      const after = await run(
        cp,
        function* (): Task<unknown[]> {
          return [yield* client.get('k3'), (yield* client.put('k3', 'after')).type, yield* client.get('k3'), yield* client.get('k4')];
        },
        60_000,
      );
      expect(after).toEqual([{ type: 'ok', value: 'v28' }, 'ok', { type: 'ok', value: 'after' }, { type: 'ok', value: 'v29' }]);
      for (const h of handles) expect(h.checkInvariants?.() ?? []).toEqual([]);
    } finally {
      c.shutdown();
    }
  });
});
