import seedrandom from 'seedrandom';
import { describe, expect, it } from 'vitest';
import { benchChecker } from '../../src/check/bench.js';
import { generateHistory } from '../../src/check/generate.js';

// No timing assertions: wall time depends on the machine. Only shape and determinism.
describe('benchChecker', () => {
  it('checks a 10,000-operation, 8-process, 100-key linearizable history', () => {
    let ticks = 0;
    const r = benchChecker({ clock: () => ticks++ });
    expect(r).toEqual({ ops: 10_000, processes: 8, keys: 100, wallMs: 1, linearizable: true });
  });

  it('generates the same history from the same seed', () => {
    const o = { ops: 500, processes: 8, keys: 10, infoRate: 0.01, failRate: 0.01, timed: true };
    const a = generateHistory(o, seedrandom.alea('s'));
    expect(generateHistory(o, seedrandom.alea('s'))).toEqual(a);
    expect(generateHistory(o, seedrandom.alea('t'))).not.toEqual(a);
  });
});
