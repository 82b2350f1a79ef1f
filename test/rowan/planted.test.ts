/**
 * Planted bugs in Rowan-KV: each test-only switch under `protocol.options.unsafe` disables one
 * safety mechanism; a sweep of the swarm scenario (in-process, seeds 1…500) must find a violation
 * of the expected kind, and the failing seed must replay with the same trace hash.
 *
 *  - ackBeforeBackups: a PUT is acknowledged before the backups' ACKs → after a failover or handoff
 *    the new primary lacks acknowledged writes (linearizability / durability);
 *  - reverseRepost: the Rowan control thread posts each batch of receive buffers in decreasing
 *    address order → the backup log is no longer one increasing write stream (the invariant every
 *    server checks: buffers fill in ring order);
 *  - skipEpochCheck: primaries serve without a lease and the CM promotes without waiting for the
 *    old primary's lease → two primaries serve one shard (stale reads, lost writes);
 *  - cleanReferenced: the cleaner frees a segment the index still points into → a GET finds
 *    another object there (the GET's invariant check).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../sim/harness.js';
import { parseScenario } from '../../sim/scenario.js';

function scenario(unsafe: Record<string, boolean>) {
  const raw = JSON.parse(readFileSync(new URL('../../scenarios/rowankv-swarm.json', import.meta.url), 'utf8'));
  raw.protocol.options.unsafe = unsafe;
  return parseScenario(raw);
}

function firstFailure(unsafe: Record<string, boolean>, maxSeeds = 500) {
  const sc = scenario(unsafe);
  for (let seed = 1; seed <= maxSeeds; seed++) {
    const r = runScenario(sc, { seed });
    if (r.result !== 'ok') return { sc, seed, r };
  }
  return null;
}

const CASES: { name: string; unsafe: Record<string, boolean>; kinds: string[]; message?: RegExp }[] = [
  { name: 'acknowledging before all backup ACKs', unsafe: { ackBeforeBackups: true }, kinds: ['linearizability', 'durability'] },
  { name: 'reposting receive buffers out of address order', unsafe: { reverseRepost: true }, kinds: ['invariant'], message: /not one increasing write stream/ },
  { name: 'skipping the epoch (lease) check at failover', unsafe: { skipEpochCheck: true }, kinds: ['linearizability', 'durability'] },
  { name: 'cleaning a segment still referenced', unsafe: { cleanReferenced: true }, kinds: ['invariant'], message: /does not hold that object/ },
];

describe('Rowan-KV planted bugs', () => {
  for (const c of CASES) {
    it(`finds ${c.name} within 500 seeds, and the seed replays`, () => {
      const found = firstFailure(c.unsafe);
      expect(found, `no violation in 500 seeds with ${JSON.stringify(c.unsafe)}`).not.toBeNull();
      const { sc, seed, r } = found!;
      const v = r.violations[0]!;
      expect(c.kinds).toContain(v.kind);
      if (c.message) expect(r.violations.some((x) => c.message!.test(x.message))).toBe(true);
      const again = runScenario(sc, { seed });
      expect(again.traceHash).toBe(r.traceHash);
      expect(again.violations.map((x) => x.kind)).toEqual(r.violations.map((x) => x.kind));
      console.log(`${JSON.stringify(c.unsafe)}: seed ${seed}: ${v.kind}: ${v.message.slice(0, 160)}`);
    });
  }

  it('the same seeds pass with every switch off', () => {
    const sc = scenario({});
    for (let seed = 1; seed <= 8; seed++) expect(runScenario(sc, { seed }).violations).toEqual([]);
  });
});
