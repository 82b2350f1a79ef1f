import { type RunResult, runScenario } from '../../sim/harness.js';
import type { Scenario } from '../../sim/scenario.js';

/** Lets vitest's worker RPC breathe between long synchronous simulator runs. */
export function breathe(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Runs seeds first..last; stops at the first violation (returned) or returns null. */
export async function sweepUntilViolation(sc: Scenario, first: number, last: number): Promise<{ seed: number; run: RunResult } | null> {
  for (let seed = first; seed <= last; seed++) {
    const run = runScenario(sc, { seed });
    if (run.result === 'violation') return { seed, run };
    await breathe();
  }
  return null;
}
