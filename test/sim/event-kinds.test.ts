import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../cli/load.js';
import { eventsByKind } from '../../sim/event-kinds.js';
import { runScenario } from '../../sim/harness.js';
import { MemoryRecorder } from '../../sim/trace/index.js';

describe('events by kind', () => {
  it('a LoLKV run: the kinds add up to the event count, and THREAD_STEP matches the recorded steps (queued and inline)', () => {
    const sc = loadScenario('scenarios/lolkv-smoke.json');
    const rec = new MemoryRecorder({ threadSteps: true });
    const r = runScenario(sc, { seed: 1, recorder: rec });
    expect(r.violations).toEqual([]);
    const kinds = r.eventsByKind;
    expect(Object.values(kinds).reduce((a, b) => a + b, 0)).toBe(r.events);
    expect(Object.keys(kinds).filter((k) => k.startsWith('code'))).toEqual([]);
    // No faults in the smoke scenario, so no thread dies with a step pending: every THREAD_STEP
    // event is one recorded step.
    const steps = rec.records.filter((x) => x.kind === 'step').length;
    expect(kinds.THREAD_STEP).toBe(steps);
    for (const k of ['ARRIVE', 'ACK', 'UD_ARRIVE', 'TIMER']) expect(kinds[k]).toBeGreaterThan(0);
    expect(kinds.FAULT).toBeUndefined();
    // Counting does not perturb the run.
    expect(runScenario(sc, { seed: 1 }).eventsByKind).toEqual(kinds);
  });

  it('fault events are counted as FAULT', () => {
    const r = runScenario(loadScenario('scenarios/crash.json'), { seed: 1 });
    expect(r.eventsByKind.FAULT).toBeGreaterThan(0);
    expect(Object.values(r.eventsByKind).reduce((a, b) => a + b, 0)).toBe(r.events);
  });

  it('names unknown codes by number and leaves out kinds that did not occur', () => {
    const byCode = new Float64Array(256);
    byCode[1] = 5;
    byCode[99] = 2;
    expect(eventsByKind(byCode)).toEqual({ THREAD_STEP: 5, code99: 2 });
  });
});
