import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../cli/load.js';
import { runScenario } from '../../sim/harness.js';
import type { Scenario } from '../../sim/scenario.js';
import { sweepUntilViolation } from './sweep-util.js';

/**
 * Each LoLKV safety mechanism has a test-only switch under protocol.options.unsafe. With the switch
 * on, a sweep of a scenario tailored to the mechanism must find a violation of the expected kind
 * within 500 seeds; the violating seed must replay with the same trace hash and the same
 * violations; and with the switch off the very same seed must run clean (so the violation is the
 * planted bug's, not the scenario's).
 */

const MAX_SEEDS = 500;

interface Case {
  unsafe: string;
  scenario: string;
  /** Kinds the run must show (at least one of its violations is of one of them). */
  kinds: string[];
}

const CASES: Case[] = [
  { unsafe: 'skipReadCheck', scenario: 'scenarios/lolkv-bug-readcheck.json', kinds: ['linearizability'] },
  { unsafe: 'skipTermFencing', scenario: 'scenarios/lolkv-bug-fencing.json', kinds: ['linearizability', 'durability'] },
  { unsafe: 'skipStateSync', scenario: 'scenarios/lolkv-bug-sync.json', kinds: ['linearizability', 'durability'] },
  { unsafe: 'skipIncarnationCheck', scenario: 'scenarios/lolkv-bug-incarnation.json', kinds: ['linearizability'] },
  { unsafe: 'skipTornCheck', scenario: 'scenarios/lolkv-bug-torn.json', kinds: ['linearizability', 'durability'] },
  // Reusing a slot or segment too early also shows as a key held by two slots (the hash table's invariant).
  { unsafe: 'skipGcSafety', scenario: 'scenarios/lolkv-bug-gc.json', kinds: ['linearizability', 'invariant'] },
];

function withSwitch(sc: Scenario, name: string, on: boolean): Scenario {
  const opts = sc.protocol.options as { unsafe: Record<string, boolean> };
  expect(Object.keys(opts.unsafe)).toContain(name);
  expect(Object.values(opts.unsafe).every((v) => v === false)).toBe(true); // off by default
  return { ...sc, protocol: { ...sc.protocol, options: { ...opts, unsafe: { ...opts.unsafe, [name]: on } } } };
}

describe('LoLKV planted bugs: each safety switch is caught by a sweep', () => {
  for (const c of CASES) {
    it(`${c.unsafe}: a violation within ${MAX_SEEDS} seeds of ${c.scenario}, replayable, absent with the switch off`, async () => {
      const base = loadScenario(c.scenario);
      const unsafe = withSwitch(base, c.unsafe, true);
      const found = await sweepUntilViolation(unsafe, 1, MAX_SEEDS);
      expect(found, `no violation in ${MAX_SEEDS} seeds`).not.toBeNull();
      const { seed, run } = found!;
      console.log(`${c.unsafe}: seed ${seed} → ${run.violations[0]!.kind}: ${run.violations[0]!.message.slice(0, 140)}`);
      expect(run.violations.some((v) => c.kinds.includes(v.kind)), `kinds ${run.violations.map((v) => v.kind).join(', ')}`).toBe(true);
      const replay = runScenario(unsafe, { seed });
      expect(replay.traceHash).toBe(run.traceHash);
      expect(replay.violations.map((v) => [v.kind, v.message])).toEqual(run.violations.map((v) => [v.kind, v.message]));
      const safe = runScenario(withSwitch(base, c.unsafe, false), { seed });
      expect(safe.violations).toEqual([]);
    });
  }
});
