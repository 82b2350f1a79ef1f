/**
 * Determinism: a scenario run twice in one process gives the same trace hash and event count; a
 * different seed gives a different hash. The scenario exercises RC (WRITE, READ, CAS, SEND into an
 * SRQ), UD with loss, PM stores/persists with DDIO on and off, random latency, a partition that
 * heals, and a crash + restart with torn PM.
 */
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/platform/index.js';
import { Access, at, makeCluster, mem, plat, runOk, spawn, tryConnectPair, word } from './helpers.js';

function scenario(seed: number, ddio: boolean): { hash: string; events: number; now: number } {
  const c = makeCluster({ seed, servers: 3, clients: 1, ddio, network: { latency: { kind: 'lognormal', medianNs: 1000, sigma: 0.3, minNs: 500 }, udLossRate: 0.1 } });
  const t = plat(c, 0);
  const log = mem(t.memory.pm('log', 1 << 16));
  const key = t.fabric.registerMemory(log, Access.ALL);
  const rcq = t.fabric.createCq({ capacity: 64, overrunIgnoring: true });
  const srq = t.fabric.createSrq({ capacity: 512, cq: rcq, multiPacket: { strideBytes: 64 } });
  const sbuf = mem(t.memory.pm('srq', 1 << 16));
  spawn(c, 0, 'poster', function* (): Task<void> {
    for (let i = 0; i < 16; i++) yield* srq.postRecv({ mem: sbuf, offset: i * 4096, length: 4096 }, i);
  });
  spawn(c, 0, 'local', function* (): Task<void> {
    const rng = t.rt.rng('local');
    for (let i = 0; i < 200; i++) {
      const w = rng.int(1024);
      yield* log.store64(w * 8, i + 1);
      if (rng.chance(0.3)) yield* log.persist(w * 8, 64);
    }
  });
  const listener = t.fabric.listen('srq', { cq: t.fabric.createCq({ capacity: 1024, overrunIgnoring: true }), srq });
  void listener;
  for (const node of [1, 2]) {
    const p = plat(c, node);
    spawn(c, node, 'rc', function* (): Task<void> {
      const pair = yield* tryConnectPair(c, node, 0);
      if (pair === null) return;
      const cq = p.fabric.createCq({ capacity: 256 });
      const conn = yield* p.fabric.connect(0, 'srq', { cq });
      const rng = p.rt.rng('ops');
      const local = mem(p.memory.dram('l', 4096));
      for (let i = 0; i < 60; i++) {
        const k = rng.int(4);
        if (k === 0) yield* pair.qp.write(new Uint8Array(8 + rng.int(3000)).fill(i), { rkey: key.rkey, offset: rng.int(4096) * 8 });
        else if (k === 1) yield* pair.qp.read({ mem: local, offset: 0, length: 256 }, { rkey: key.rkey, offset: rng.int(1000) * 8 });
        else if (k === 2) yield* pair.qp.cas({ rkey: key.rkey, offset: rng.int(1024) * 8 }, 0, i + 1);
        else if (conn !== null) yield* conn.qp.send(word(node * 1000 + i), { wrId: i });
        else continue;
        const x = yield* (k === 3 ? cq : pair.cq).next(500_000);
        if (x === null || x.status !== 'success') return;
      }
    });
  }
  const ud = t.fabric.createUd({ port: 9, cq: t.fabric.createCq({ capacity: 512, overrunIgnoring: true }) });
  const ubuf = t.memory.dram('ud', 64 * 256);
  spawn(c, 0, 'ud-server', function* (): Task<void> {
    for (let i = 0; i < 200; i++) yield* ud.postRecv({ mem: ubuf, offset: (i % 64) * 256, length: 256 }, i);
  });
  spawn(c, 3, 'ud-client', function* (): Task<void> {
    const p = plat(c, 3);
    const e = p.fabric.createUd({ cq: p.fabric.createCq({ capacity: 512, overrunIgnoring: true }) });
    for (let i = 0; i < 100; i++) {
      yield* e.send({ node: 0, port: 9 }, word(i));
      yield* p.rt.sleep(300);
    }
  });
  at(c, 20_000, () => c.setLink(1, 0, true));
  at(c, 60_000, () => c.setLink(1, 0, false));
  at(c, 90_000, () => c.crash(2));
  at(c, 120_000, () => c.restart(2));
  runOk(c, 2_000_000);
  return { hash: c.sim.hash.hex(), events: c.sim.events, now: c.sim.now };
}

describe('determinism', () => {
  for (const ddio of [true, false]) {
    it(`the same seed gives the same hash and event count (DDIO ${ddio ? 'on' : 'off'})`, () => {
      const a = scenario(42, ddio);
      const b = scenario(42, ddio);
      expect(a.events).toBeGreaterThan(1000);
      expect(b).toEqual(a);
    });
  }

  it('different seeds give different hashes', () => {
    const hashes = new Set([1, 2, 3, 4, 5].map((s) => scenario(s, true).hash));
    expect(hashes.size).toBe(5);
  });
});
