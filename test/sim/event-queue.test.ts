import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sim } from '../../sim/kernel.js';

/**
 * The kernel's event queue (a timing wheel with an overflow heap) must pop events in exactly
 * (time, scheduling order) order, whatever mix of near, same-instant and far-future events.
 */
describe('event queue order', () => {
  it('fires every event once, in (time, seq) order, across the wheel window and the overflow heap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 9_000 }), fc.constant(0), fc.constant(4095), fc.constant(4096))), { minLength: 1, maxLength: 400 }),
        (initial, plan) => {
          const sim = new Sim(1);
          let seq = 0;
          let step = 0;
          const fired: [number, number][] = [];
          const scheduled = new Set<number>();
          const fire = (mySeq: number) => {
            fired.push([sim.now, mySeq]);
            const [children, delay] = plan[step++ % plan.length]!;
            for (let c = 0; c < children && seq < 2000; c++) add(sim.now + delay + c * 7);
          };
          const add = (t: number) => {
            const mine = seq++;
            scheduled.add(mine);
            sim.schedule(t, 3, mine, fire, mine);
          };
          for (const t of initial) add(t);
          sim.run();
          expect(fired.length).toBe(scheduled.size);
          for (let i = 1; i < fired.length; i++) {
            const [t0, s0] = fired[i - 1]!;
            const [t1, s1] = fired[i]!;
            expect(t1 > t0 || (t1 === t0 && s1 > s0)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('run(until) stops before later events and resumes them in order', () => {
    const sim = new Sim(1);
    const out: number[] = [];
    for (const t of [10, 5000, 5000, 20_000, 4096]) sim.schedule(t, 3, t, (x: number) => out.push(x), t);
    sim.run(4096);
    expect(out).toEqual([10, 4096]);
    expect(sim.now).toBe(4096);
    sim.run();
    expect(out).toEqual([10, 4096, 5000, 5000, 20_000]);
  });
});
