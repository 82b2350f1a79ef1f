import { describe, expect, it } from 'vitest';
import { runSimCore } from '../../sim/bench/sim-core.js';

// The sim-core benchmark's workload (its speed is measured by `kvlab bench sim-core`, never here):
// it must be deterministic and do the work it claims — every coroutine's WRITE/completion/CAS loop.
describe('sim-core benchmark workload', () => {
  it('is deterministic and runs every coroutine to the end (≥ 6 events per operation)', () => {
    let t = 0;
    const clock = () => (t += 5);
    const a = runSimCore({ coroutines: 20, opsPerCoroutine: 10, seed: 3, clock });
    const b = runSimCore({ coroutines: 20, opsPerCoroutine: 10, seed: 3, clock });
    const c = runSimCore({ coroutines: 20, opsPerCoroutine: 10, seed: 4, clock });
    expect(a.traceHash).toBe(b.traceHash);
    expect(a.events).toBe(b.events);
    expect(c.traceHash).not.toBe(a.traceHash);
    expect(a.events).toBeGreaterThanOrEqual(20 * 10 * 6);
    // one more operation per coroutine is at least 6 more events each
    const d = runSimCore({ coroutines: 20, opsPerCoroutine: 11, seed: 3, clock });
    expect(d.events - a.events).toBeGreaterThanOrEqual(20 * 6);
    expect(a.eventsPerSecond).toBe(Math.round(a.events / (a.wallMs / 1000)));
  });
});
