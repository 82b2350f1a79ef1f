/**
 * The replication baselines run the same Rowan-KV store: linearizable, durable and live on the
 * smoke scenario (both cleaners active). Their backups keep no digest, so they neither fail over
 * nor reshard: resharding is off for them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../sim/harness.js';
import { parseScenario } from '../../sim/scenario.js';

describe('Rowan-KV replication baselines', () => {
  for (const name of ['rowankv', 'rowankv-rpc', 'rowankv-write', 'rowankv-batch']) {
    it(`${name}: no violation on the smoke scenario`, () => {
      const raw = JSON.parse(readFileSync(new URL('../../scenarios/rowankv-smoke.json', import.meta.url), 'utf8'));
      raw.protocol.name = name;
      if (name !== 'rowankv') raw.protocol.options.reshardEveryNs = 0;
      const sc = parseScenario(raw);
      for (let seed = 1; seed <= 3; seed++) {
        const r = runScenario(sc, { seed });
        expect(r.violations).toEqual([]);
        expect(r.stats.ok).toBeGreaterThan(400);
      }
    });
  }
});
