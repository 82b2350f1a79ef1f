import { describe, expect, it } from 'vitest';
import { type Task } from '../../src/platform/index.js';
import { makeCluster, plat } from './helpers.js';

/** SpawnOptions.core: threads bound to one core time-share it (CPU work serializes, waiting does not). */
describe('cores', () => {
  it('CPU work of threads on one core serializes; threads on other cores run in parallel', () => {
    const c = makeCluster({ memoryCosts: { jitterNs: 0 } });
    const p = plat(c, 0);
    const done: Record<string, number> = {};
    const worker = (name: string) =>
      function* (): Task<void> {
        yield* p.rt.compute(100);
        yield* p.rt.compute(100);
        done[name] = p.rt.now();
      };
    p.rt.spawn('a', worker('a'), { core: 0 });
    p.rt.spawn('b', worker('b'), { core: 0 });
    p.rt.spawn('c', worker('c'), { core: 1 });
    p.rt.spawn('d', worker('d'));
    c.sim.run();
    expect(done['c']).toBe(200);
    expect(done['d']).toBe(200);
    // a and b interleave on core 0: 400 ns of work in all, so the later one ends at 400.
    expect(Math.max(done['a']!, done['b']!)).toBe(400);
    expect(Math.min(done['a']!, done['b']!)).toBe(300);
  });

  it('a sleeping thread leaves its core free', () => {
    const c = makeCluster({ memoryCosts: { jitterNs: 0 } });
    const p = plat(c, 0);
    const done: Record<string, number> = {};
    p.rt.spawn(
      'sleeper',
      function* (): Task<void> {
        yield* p.rt.sleep(1000);
        done['sleeper'] = p.rt.now();
      },
      { core: 0 },
    );
    p.rt.spawn(
      'busy',
      function* (): Task<void> {
        yield* p.rt.compute(500);
        done['busy'] = p.rt.now();
      },
      { core: 0 },
    );
    c.sim.run();
    expect(done).toEqual({ sleeper: 1000, busy: 500 });
  });

  it('memory operations are CPU work on the core', () => {
    const c = makeCluster({ memoryCosts: { jitterNs: 0, dramAccessNs: 50 } });
    const p = plat(c, 0);
    const mem = p.memory.dram('m', 64);
    const ends: number[] = [];
    for (let i = 0; i < 3; i++)
      p.rt.spawn(
        `t${i}`,
        function* (): Task<void> {
          yield* mem.load64(0);
          ends.push(p.rt.now());
        },
        { core: 7 },
      );
    c.sim.run();
    expect(ends).toEqual([50, 100, 150]);
  });

  it('a crash frees the cores: the next boot starts idle', () => {
    const c = makeCluster({ memoryCosts: { jitterNs: 0 } });
    const p = plat(c, 0);
    p.rt.spawn('hog', function* (): Task<void> {
      yield* p.rt.compute(1_000_000);
    }, { core: 0 });
    c.sim.schedule(10, 99, 0, () => c.crash(0));
    c.sim.schedule(20, 99, 0, () => c.restart(0));
    c.sim.run(30);
    const q = plat(c, 0);
    let at = -1;
    q.rt.spawn('fresh', function* (): Task<void> {
      yield* q.rt.compute(5);
      at = q.rt.now();
    }, { core: 0 });
    c.sim.run(100);
    expect(at).toBe(35);
  });
});
