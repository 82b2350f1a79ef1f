import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../cli/load.js';
import { runScenario } from '../../sim/harness.js';
import { MemoryRecorder } from '../../sim/trace/index.js';

describe('Mu-style log baseline', () => {
  it('smoke: no faults, every operation ok, all PUTs through one log', () => {
    const sc = loadScenario('scenarios/mu-smoke.json');
    const rec = new MemoryRecorder({ threadSteps: false });
    const r = runScenario(sc, { seed: 1, recorder: rec });
    expect(r.violations).toEqual([]);
    expect(r.stats.ok).toBe(r.stats.ops);
    const offs = rec.records.filter((x) => x.kind === 'mu.replicate').map((x) => Number(x.fields!['seg']));
    expect(offs.length).toBeGreaterThan(100);
    expect(new Set(offs).size).toBe(offs.length); // every entry its own log slot
    expect(Math.max(...offs)).toBe(offs.length - 1); // a dense log: one shared tail
  });

  it('swarm: the first 12 seeds run clean', async () => {
    const sc = loadScenario('scenarios/mu-swarm.json');
    for (let seed = 1; seed <= 12; seed++) {
      expect(runScenario(sc, { seed }).violations, `seed ${seed}`).toEqual([]);
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
});
