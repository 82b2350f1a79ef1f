/**
 * Seeds of rowankv-swarm that once found real bugs, kept as regression runs. (A seed only
 * reproduces its run with the simulator version that found it; these guard the fix for as long as
 * the model does not change, and document the failure.)
 *
 *  - 60, 740, 978 (found 2026-11-22, after the latency draws changed): a primary deposed while its
 *    activator thread was busy kept its tenure until that thread looked again; meanwhile its
 *    backup-log cleaner took the new primary's catch-up frames for stale frames of a shard it
 *    still served and dropped them, so when the shard later came back to it, an acknowledged
 *    write was gone (durability and linearizability violations). Tenures now end when the server
 *    adopts the configuration that deposes it (ServerState.adopt).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../sim/harness.js';
import { parseScenario } from '../../sim/scenario.js';

const sc = parseScenario(JSON.parse(readFileSync(new URL('../../scenarios/rowankv-swarm.json', import.meta.url), 'utf8')));

describe('rowankv-swarm regression seeds', () => {
  for (const seed of [60, 740, 978]) {
    it(`seed ${seed}: no lost acknowledged write after a deposed primary gets its shard back`, () => {
      const r = runScenario(sc, { seed });
      expect(r.violations.map((v) => `${v.kind}: ${v.message}`)).toEqual([]);
      // The run still exercises what broke: node 0 (the CM's) cut off, so it deposes the others.
      expect(r.faults.some((f) => f.text.includes('node 0'))).toBe(true);
    });
  }
});
