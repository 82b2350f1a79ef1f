/**
 * Connection manager, endpoint lifetime and port-occupancy edge cases.
 */
import { describe, expect, it } from 'vitest';
import type { Completion } from '../../src/platform/index.js';
import type { SimQp } from '../../sim/fabric/rc.js';
import { Access, collect, connectPair, FIXED_1US, makeCluster, plat, runOk, spawn, watchSchedule } from './helpers.js';

const NET = { latency: FIXED_1US };

describe('listener', () => {
  it('serves several concurrent acceptors, each with its own connection', () => {
    const c = makeCluster({ network: NET, servers: 3 });
    const l = plat(c, 0).fabric.listen('svc', { cq: plat(c, 0).fabric.createCq({ capacity: 16 }) });
    const got: (number | null)[] = [];
    for (let i = 0; i < 2; i++) {
      spawn(c, 0, `acceptor${i}`, function* () {
        const qp = yield* l.accept();
        got.push(qp === null ? null : qp.remote);
      });
    }
    for (const n of [1, 2]) {
      spawn(c, n, 'client', function* () {
        yield* plat(c, n).rt.sleep(n * 5000);
        const conn = yield* plat(c, n).fabric.connect(0, 'svc', { cq: plat(c, n).fabric.createCq({ capacity: 4 }) });
        expect(conn).not.toBeNull();
      });
    }
    runOk(c);
    expect(got).toEqual([1, 2]);
  });

  it('accept with a timeout returns null, then a later accept still gets the next connection', () => {
    const c = makeCluster({ network: NET });
    const l = plat(c, 0).fabric.listen('svc', { cq: plat(c, 0).fabric.createCq({ capacity: 16 }) });
    const got: unknown[] = [];
    spawn(c, 0, 'acceptor', function* () {
      got.push(yield* l.accept(1000));
      got.push(yield* l.accept(-5));
      const qp = yield* l.accept();
      got.push(qp?.remote);
    });
    spawn(c, 1, 'client', function* () {
      yield* plat(c, 1).rt.sleep(50_000);
      yield* plat(c, 1).fabric.connect(0, 'svc', { cq: plat(c, 1).fabric.createCq({ capacity: 4 }) });
    });
    runOk(c);
    expect(got).toEqual([null, null, 1]);
  });

  it('a fractional connect timeout keeps virtual time integral', () => {
    const c = makeCluster({ network: NET, servers: 2 });
    const problems = watchSchedule(c);
    c.crash(1);
    spawn(c, 0, 't', function* () {
      expect(yield* plat(c, 0).fabric.connect(1, 'svc', { cq: plat(c, 0).fabric.createCq({ capacity: 4 }) }, 12_345.6)).toBeNull();
      yield* plat(c, 0).rt.sleep(1);
    });
    runOk(c);
    expect(problems).toEqual([]);
    expect(Number.isInteger(c.sim.now)).toBe(true);
  });
});

describe('disconnect', () => {
  it('closing one end moves the other end to error; an unaccepted passive QP is released', () => {
    const c = makeCluster({ network: NET });
    const key = plat(c, 1).fabric.registerMemory(plat(c, 1).memory.dram('m', 4096), Access.ALL);
    const listener = plat(c, 1).fabric.listen('passive', { cq: plat(c, 1).fabric.createCq({ capacity: 64, overrunIgnoring: true }) });
    void listener;
    let peerState = '';
    let peerComps: Completion[] = [];
    spawn(c, 0, 't', function* () {
      // A passive server that never accepts: 20 clients come and go.
      for (let i = 0; i < 20; i++) {
        const conn = yield* plat(c, 0).fabric.connect(1, 'passive', { cq: plat(c, 0).fabric.createCq({ capacity: 4 }) });
        if (conn === null) throw new Error('connect');
        yield* conn.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 0 });
        conn.qp.close();
      }
      // An accepted pair: the passive side sees the disconnect as an error.
      const p = yield* connectPair(c, 0, 1);
      p.qp.close();
      yield* plat(c, 0).rt.sleep(10_000);
      peerState = p.peerQp.state;
      yield* p.peerQp.write(new Uint8Array(8), { rkey: 0, offset: 0 }, { wrId: 3 });
      peerComps = yield* collect(p.peerCq, 1);
      p.peerQp.close();
    });
    runOk(c);
    expect(peerState).toBe('error');
    expect(peerComps.map((x) => [x.wrId, x.status])).toEqual([[3, 'flushed']]);
    expect(c.world.nic(0).qps.length).toBe(0);
    expect(c.world.nic(1).qps.length).toBe(0);
  });
});

describe('fabric of an earlier boot', () => {
  it('cannot touch the NIC of the next boot', () => {
    const c = makeCluster({ network: NET });
    const old = plat(c, 1);
    c.crash(1);
    c.restart(1);
    expect(() => old.fabric.registerMemory(old.memory.dram('x', 64), Access.ALL)).toThrow(/boot/);
    expect(() => plat(c, 1).fabric.registerMemory(plat(c, 1).memory.dram('x', 64), Access.ALL)).not.toThrow();
  });
});

describe('UD edge cases', () => {
  it('lost datagrams do not occupy the receiver port', () => {
    // Node 2 floods node 1 through a blocked link; node 0's datagrams to node 1 must not queue behind them.
    const c = makeCluster({ network: NET, servers: 3 });
    c.setLink(2, 1, true);
    const rcq = plat(c, 1).fabric.createCq({ capacity: 64 });
    const server = plat(c, 1).fabric.createUd({ port: 7, cq: rcq });
    const rbuf = plat(c, 1).memory.dram('r', 4096);
    let arrivedAt = -1;
    let sentAt = -1;
    spawn(c, 1, 'server', function* () {
      yield* server.postRecv({ mem: rbuf, offset: 0, length: 4096 }, 1);
      const x = yield* rcq.next();
      expect(x?.status).toBe('success');
      arrivedAt = c.sim.now;
    });
    spawn(c, 2, 'flood', function* () {
      const e = plat(c, 2).fabric.createUd({ cq: plat(c, 2).fabric.createCq({ capacity: 4096, overrunIgnoring: true }) });
      for (let i = 0; i < 2000; i++) yield* e.send({ node: 1, port: 7 }, new Uint8Array(4000), { signaled: false });
    });
    spawn(c, 0, 'client', function* () {
      yield* plat(c, 0).rt.sleep(20_000);
      const e = plat(c, 0).fabric.createUd({ cq: plat(c, 0).fabric.createCq({ capacity: 4 }) });
      sentAt = c.sim.now;
      yield* e.send({ node: 1, port: 7 }, new Uint8Array(64));
    });
    runOk(c);
    expect(arrivedAt - sentAt).toBeLessThan(5_000);
  });

  it('a datagram to a node outside the cluster is a clear error', () => {
    const c = makeCluster({ network: NET });
    spawn(c, 0, 't', function* () {
      const e = plat(c, 0).fabric.createUd({ cq: plat(c, 0).fabric.createCq({ capacity: 4 }) });
      yield* e.send({ node: 9, port: 7 }, new Uint8Array(8));
    });
    c.sim.run();
    expect(c.sim.violation?.message).toMatch(/node 9/);
  });

  it('a closed endpoint flushes its sends', () => {
    const c = makeCluster({ network: NET });
    let comps: Completion[] = [];
    spawn(c, 0, 't', function* () {
      const cq = plat(c, 0).fabric.createCq({ capacity: 4 });
      const e = plat(c, 0).fabric.createUd({ cq });
      e.close();
      yield* e.send({ node: 1, port: 7 }, new Uint8Array(8), { wrId: 4 });
      comps = yield* collect(cq, 1, 100_000);
    });
    runOk(c);
    expect(comps.map((x) => [x.wrId, x.status])).toEqual([[4, 'flushed']]);
  });
});

describe('per-QP state', () => {
  it('a long run of WRs leaves no pending completions behind', () => {
    const c = makeCluster({ network: { latency: { kind: 'uniform', minNs: 500, maxNs: 4000 } } });
    const key = plat(c, 1).fabric.registerMemory(plat(c, 1).memory.dram('m', 1 << 16), Access.ALL);
    const box: { qp: SimQp | null } = { qp: null };
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1);
      box.qp = p.qp as SimQp;
      for (let i = 0; i < 5000; i++) {
        yield* p.qp.write(new Uint8Array(1 + (i % 300)), { rkey: key.rkey, offset: (i % 100) * 64 }, { signaled: i % 10 === 0 });
        if (i % 10 === 0) yield* p.cq.next();
      }
      yield* plat(c, 0).rt.sleep(100_000);
    });
    runOk(c);
    const q = box.qp as unknown as { pendingCompletions: number; inflight: unknown[]; outstanding: number };
    expect(q.pendingCompletions).toBe(0);
    expect(q.outstanding).toBe(0);
    expect(q.inflight.length).toBeLessThan(200);
  });
});
