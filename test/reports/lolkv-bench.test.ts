import { describe, expect, it } from 'vitest';
import { DEFAULT_POINT, pointScenario, runLolkvBench, runPoint, shardOfKeyName } from '../../sim/bench/lolkv.js';

/** `kvlab bench lolkv` as a pure function: the fields it promises, and determinism of its simulated figures. */
describe('sim/bench/lolkv', () => {
  it('reports LoLKV and Mu figures, the ratio and the simulator speed', () => {
    let t = 0;
    const clock = () => (t += 1000); // a fake clock: every read is one second later
    const r = runLolkvBench({ clock, runs: 2, opsPerClient: 20 });
    expect(r.bench).toBe('lolkv');
    expect(r.config).toMatchObject({ workload: 'YCSB-A', distribution: 'uniform', replicas: 3, threads: 8 });
    for (const p of [r.lolkv, r.mu]) {
      expect(p.result).toBe('ok');
      expect(p.opsPerSecond).toBeGreaterThan(100_000);
      expect(p.p50Ns).toBeGreaterThan(1000);
      expect(p.p99Ns).toBeGreaterThanOrEqual(p.p50Ns);
    }
    expect(r.throughputRatioVsMu).toBeCloseTo(r.lolkv.opsPerSecond / r.mu.opsPerSecond, 2);
    expect(r.deterministic).toBe(true);
    // simOps per (fake) second: each timed run spans exactly one second of the fake clock.
    expect(r.simOpsPerWallSecond).toBe(r.lolkv.simOps);
    expect(r.simOpsPerCpuSecond).toBeNull();
  });

  it('runs a point the same way twice (same trace hash and figures)', () => {
    const spec = { ...DEFAULT_POINT, threads: 2, clientsPerThread: 2, keys: 100, opsPerClient: 20, distribution: 'hotshard' as const, workload: 'W' as const, hotFraction: 1 };
    const a = runPoint(spec);
    const b = runPoint(spec);
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.opsPerSecond).toBe(b.opsPerSecond);
    // every non-load operation went to the popular shard
    expect(a.shardShares[0]).toBe(1);
  });

  it('builds valid scenarios for both protocols and names shards as the hotshard distribution does', () => {
    for (const protocol of ['lolkv', 'mu'] as const) {
      const sc = pointScenario({ ...DEFAULT_POINT, protocol });
      expect(sc.protocol.name).toBe(protocol);
      expect(sc.cluster.servers).toBe(3);
      expect(sc.workload.clientsPerNode * sc.cluster.clients).toBe(DEFAULT_POINT.threads * DEFAULT_POINT.clientsPerThread);
    }
    // key 0 is "user6284781860667377211" (YCSB): its shard is that number mod S
    expect(shardOfKeyName('user6284781860667377211', 8)).toBe(Number(6284781860667377211n % 8n));
  });
});
