import seedrandom from 'seedrandom';
import { generateHistory } from './generate.js';
import { checkLinearizability } from './linearizability.js';

export interface CheckerBenchResult {
  ops: number;
  processes: number;
  keys: number;
  /** Wall time of the check alone (not of generating the history). */
  wallMs: number;
  linearizable: boolean;
}

export interface CheckerBenchOptions {
  /**
   * Wall clock in ms (e.g. `() => performance.now()`), injected because nothing under src/ may
   * read a wall clock: the caller in cli/ owns time.
   */
  clock: () => number;
  ops?: number;
  processes?: number;
  keys?: number;
  seed?: number | string;
}

/**
 * The checker benchmark: a deterministic (seeded) history of 10,000 operations by 8 processes on
 * 100 keys — gets, puts, appends and cas, 1% info and 1% fail outcomes — checked once.
 */
export function benchChecker(opts: CheckerBenchOptions): CheckerBenchResult {
  const ops = opts.ops ?? 10_000;
  const processes = opts.processes ?? 8;
  const keys = opts.keys ?? 100;
  const random = seedrandom.alea(`${opts.seed ?? 1}/check-bench`);
  const history = generateHistory({ ops, processes, keys, infoRate: 0.01, failRate: 0.01, timed: true }, random);
  const t0 = opts.clock();
  const result = checkLinearizability(history);
  const wallMs = opts.clock() - t0;
  return { ops: result.ops, processes, keys, wallMs, linearizable: result.linearizable };
}
