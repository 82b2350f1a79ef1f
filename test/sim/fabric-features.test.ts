/**
 * Fabric feature tests: error paths of RC queue pairs, one-sided operations, CQ overrun, SRQ and
 * multi-packet RQ, receiver-not-ready, transport retries under crashes and partitions, UD, torn
 * WRITEs, the connection manager and NIC failure.
 */
import { describe, expect, it } from 'vitest';
import type { Completion, QueuePair } from '../../src/platform/index.js';
import type { SimQp } from '../../sim/fabric/rc.js';
import { Access, at, collect, connectPair, FIXED_1US, makeCluster, mem, pattern, plat, readWord, runOk, spawn, word } from './helpers.js';

const NET = { latency: FIXED_1US };

describe('RC access errors', () => {
  for (const kind of ['bad-rkey', 'out-of-bounds', 'no-write-right', 'no-read-right', 'no-atomic-right', 'unaligned-cas'] as const) {
    it(`${kind} → remote-access-error, QP in error, later WRs flushed`, () => {
      const c = makeCluster({ network: NET });
      const target = plat(c, 1);
      const m = target.memory.dram('m', 4096);
      const access = kind === 'no-write-right' ? Access.REMOTE_READ | Access.REMOTE_ATOMIC : kind === 'no-read-right' ? Access.REMOTE_WRITE : kind === 'no-atomic-right' ? Access.REMOTE_READ | Access.REMOTE_WRITE : Access.ALL;
      const key = target.fabric.registerMemory(m, access);
      const local = plat(c, 0).memory.dram('local', 4096);
      let comps: Completion[] = [];
      let stateAfter = '';
      let peerState = '';
      let late: Completion[] = [];
      spawn(c, 0, 't', function* () {
        const p = yield* connectPair(c, 0, 1);
        // The bad WR, then two good ones posted right behind it (in flight when the NAK comes back).
        if (kind === 'bad-rkey') yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey + 1000, offset: 0 }, { wrId: 1 });
        else if (kind === 'out-of-bounds') yield* p.qp.write(new Uint8Array(16), { rkey: key.rkey, offset: 4090 }, { wrId: 1 });
        else if (kind === 'no-write-right') yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 0 }, { wrId: 1 });
        else if (kind === 'no-read-right') yield* p.qp.read({ mem: local, offset: 0, length: 8 }, { rkey: key.rkey, offset: 0 }, { wrId: 1 });
        else if (kind === 'no-atomic-right') yield* p.qp.cas({ rkey: key.rkey, offset: 0 }, 0, 1, { wrId: 1 });
        else yield* p.qp.cas({ rkey: key.rkey, offset: 4 }, 0, 1, { wrId: 1 });
        const okKey = target.fabric === undefined ? 0 : key.rkey;
        yield* p.qp.write(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), { rkey: okKey, offset: 64 }, { wrId: 2 });
        yield* p.qp.send(new Uint8Array(8), { wrId: 3 });
        comps = yield* collect(p.cq, 3);
        stateAfter = p.qp.state;
        peerState = p.peerQp.state;
        // Posted after the error: flushed at once.
        yield* p.qp.write(new Uint8Array(8), { rkey: okKey, offset: 128 }, { wrId: 4, signaled: false });
        late = yield* collect(p.cq, 1);
      });
      runOk(c);
      expect(comps.map((x) => [x.wrId, x.status])).toEqual([
        [1, 'remote-access-error'],
        [2, 'flushed'],
        [3, 'flushed'],
      ]);
      expect(stateAfter).toBe('error');
      expect(peerState).toBe('error');
      expect(late.map((x) => [x.wrId, x.status])).toEqual([[4, 'flushed']]);
      // The flushed WRITE never landed.
      expect(mem(m).peek(64, 8)).toEqual(new Uint8Array(8));
    });
  }
});

describe('RC one-sided operations', () => {
  it('READ returns the remote bytes; CAS returns the old value and swaps only on a match', () => {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const m = mem(target.memory.pm('m', 4096));
    const key = target.fabric.registerMemory(m, Access.ALL);
    const data = pattern(7, 300);
    m.poke(100, data);
    m.poke64(512, 41);
    const local = mem(plat(c, 0).memory.dram('local', 4096));
    let comps: Completion[] = [];
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1);
      yield* p.qp.read({ mem: local, offset: 8, length: 300 }, { rkey: key.rkey, offset: 100 }, { wrId: 1 });
      yield* p.qp.cas({ rkey: key.rkey, offset: 512 }, 41, 99, { wrId: 2 }, { mem: local, offset: 1024, length: 8 });
      yield* p.qp.cas({ rkey: key.rkey, offset: 512 }, 41, 7, { wrId: 3 }, { mem: local, offset: 1032, length: 8 });
      yield* p.qp.read({ mem: local, offset: 2048, length: 8 }, { rkey: key.rkey, offset: 512 }, { wrId: 4 });
      comps = yield* collect(p.cq, 4);
    });
    runOk(c);
    expect(comps.map((x) => [x.wrId, x.opcode, x.status])).toEqual([
      [1, 'read', 'success'],
      [2, 'cas', 'success'],
      [3, 'cas', 'success'],
      [4, 'read', 'success'],
    ]);
    expect(local.peek(8, 300)).toEqual(data);
    expect(comps[1]!.value).toBe(41);
    expect(comps[2]!.value).toBe(99);
    expect(local.peek64(1024)).toBe(41);
    expect(local.peek64(1032)).toBe(99);
    expect(m.peek64(512)).toBe(99);
    expect(local.peek64(2048)).toBe(99);
    expect(comps[0]!.byteLen).toBe(300);
  });

  it('unsignaled WRs: no completion on success, a completion on error', () => {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const m = target.memory.dram('m', 4096);
    const key = target.fabric.registerMemory(m, Access.ALL);
    let comps: Completion[] = [];
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1);
      yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 0 }, { wrId: 1, signaled: false });
      yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 8 }, { wrId: 2, signaled: false });
      yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 16 }, { wrId: 3 });
      yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 5000 }, { wrId: 4, signaled: false });
      yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 24 }, { wrId: 5, signaled: false });
      comps = yield* collect(p.cq, 10, 1_000_000);
    });
    runOk(c);
    expect(comps.map((x) => [x.wrId, x.status])).toEqual([
      [3, 'success'],
      [4, 'remote-access-error'],
      [5, 'flushed'],
    ]);
  });
});

describe('completion queues', () => {
  it('an ordinary CQ that overruns puts its QPs into error', () => {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const key = target.fabric.registerMemory(target.memory.dram('m', 4096), Access.ALL);
    let state = '';
    let later: Completion[] = [];
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1, { cqCapacity: 2 });
      for (let i = 0; i < 5; i++) yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: i * 8 }, { wrId: i });
      yield* plat(c, 0).rt.sleep(50_000);
      state = p.qp.state;
      const first = yield* p.cq.poll();
      expect(first.map((x) => x.wrId)).toEqual([0, 1]);
      yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 0 }, { wrId: 9 });
      later = yield* collect(p.cq, 1);
    });
    runOk(c);
    expect(state).toBe('error');
    expect(later.map((x) => [x.wrId, x.status])).toEqual([[9, 'flushed']]);
  });

  it('an overrun-ignoring CQ overwrites the oldest entries and counts them', () => {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const key = target.fabric.registerMemory(target.memory.dram('m', 4096), Access.ALL);
    let state = '';
    let got: Completion[] = [];
    let overwritten = -1;
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1, { cqCapacity: 4, overrunIgnoring: true });
      for (let i = 0; i < 10; i++) yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: i * 8 }, { wrId: i });
      yield* plat(c, 0).rt.sleep(50_000);
      state = p.qp.state;
      overwritten = p.cq.overwritten;
      got = yield* p.cq.poll();
    });
    runOk(c);
    expect(state).toBe('ready');
    expect(overwritten).toBe(6);
    expect(got.map((x) => x.wrId)).toEqual([6, 7, 8, 9]);
  });

  it("an SRQ's ordinary CQ that overruns puts the QPs bound to the SRQ into error", () => {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const rbuf = target.memory.dram('rbuf', 4096);
    const rcq = target.fabric.createCq({ capacity: 2 });
    const srq = target.fabric.createSrq({ capacity: 16, cq: rcq });
    let peerState = '';
    let comps: Completion[] = [];
    spawn(c, 1, 'poster', function* () {
      for (let i = 0; i < 8; i++) yield* srq.postRecv({ mem: rbuf, offset: i * 256, length: 256 }, i);
    });
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1, { srq });
      for (let i = 0; i < 4; i++) yield* p.qp.send(new Uint8Array(16), { wrId: i });
      comps = yield* collect(p.cq, 4, 1_000_000);
      peerState = p.peerQp.state;
    });
    runOk(c);
    expect(peerState).toBe('error');
    expect(comps.slice(0, 2).map((x) => x.status)).toEqual(['success', 'success']);
    expect(comps.slice(2).every((x) => x.status !== 'success')).toBe(true);
  });

  it('next(timeout) on an idle CQ does not accumulate waiters', () => {
    const c = makeCluster({ network: NET });
    const cq = plat(c, 0).fabric.createCq({ capacity: 4 });
    spawn(c, 0, 't', function* () {
      for (let i = 0; i < 1000; i++) expect(yield* cq.next(100)).toBeNull();
    });
    runOk(c);
    expect((cq as unknown as { waiters: unknown[] }).waiters.length).toBe(0);
  });
});

describe('receive queues', () => {
  it('an SRQ shared by several QPs consumes buffers strictly in posting order', () => {
    const c = makeCluster({ servers: 4, network: { latency: { kind: 'uniform', minNs: 500, maxNs: 3000 } } });
    const target = plat(c, 0);
    const rbuf = mem(target.memory.pm('rbuf', 64 * 256));
    const rcq = target.fabric.createCq({ capacity: 4096 });
    const srq = target.fabric.createSrq({ capacity: 256, cq: rcq });
    const N = 60;
    let recvs: Completion[] = [];
    spawn(c, 0, 'poster', function* () {
      for (let i = 0; i < N; i++) yield* srq.postRecv({ mem: rbuf, offset: i * 256, length: 256 }, 1000 + i);
      recvs = yield* collect(rcq, N);
    });
    const passive = new Map<number, number>();
    for (let s = 1; s <= 3; s++) {
      spawn(c, s, `sender${s}`, function* () {
        yield* plat(c, s).rt.sleep(20_000);
        const p = yield* connectPair(c, s, 0, { srq, peerCq: rcq });
        passive.set(p.peerQp.id, s);
        for (let k = 0; k < N / 3; k++) {
          const msg = new Uint8Array(16 + ((k * 37 + s * 11) % 200));
          msg.set(word(s * 1000 + k), 0);
          yield* p.qp.send(msg, { wrId: k });
          yield* plat(c, s).rt.sleep((k * 131 + s * 17) % 700);
        }
        const done = yield* collect(p.cq, N / 3);
        expect(done.every((x) => x.status === 'success')).toBe(true);
      });
    }
    runOk(c);
    expect(recvs.length).toBe(N);
    // Buffers are taken in posting order, whatever QP the message came from.
    expect(recvs.map((x) => x.wrId)).toEqual(Array.from({ length: N }, (_, i) => 1000 + i));
    const perSender = new Map<number, number[]>();
    recvs.forEach((x, i) => {
      const tag = readWord(rbuf.visible, i * 256);
      const s = Math.floor(tag / 1000);
      expect(passive.get(x.qpId)).toBe(s);
      expect(x.srcNode).toBe(s);
      expect(x.byteLen).toBe(16 + (((tag % 1000) * 37 + s * 11) % 200));
      perSender.set(s, [...(perSender.get(s) ?? []), tag % 1000]);
    });
    // Each sender's messages in its own order (RC), interleaved across senders.
    for (const [, ks] of perSender) expect(ks).toEqual(Array.from({ length: N / 3 }, (_, i) => i));
    expect(new Set(recvs.slice(0, 10).map((x) => x.srcNode)).size).toBeGreaterThan(1);
  });

  it('a multi-packet RQ places messages back to back at stride offsets and retires full buffers', () => {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const rbuf = mem(target.memory.pm('rbuf', 4096));
    const rcq = target.fabric.createCq({ capacity: 64, overrunIgnoring: true });
    const srq = target.fabric.createSrq({ capacity: 8, cq: rcq, multiPacket: { strideBytes: 64 } });
    const sizes = [100, 30, 200, 700, 64, 1024];
    let recvs: Completion[] = [];
    let posted = -1;
    spawn(c, 1, 'poster', function* () {
      yield* srq.postRecv({ mem: rbuf, offset: 0, length: 1024 }, 1);
      yield* srq.postRecv({ mem: rbuf, offset: 1024, length: 1024 }, 2);
      yield* srq.postRecv({ mem: rbuf, offset: 2048, length: 1024 }, 3);
    });
    spawn(c, 0, 'sender', function* () {
      const p = yield* connectPair(c, 0, 1, { srq, peerCq: rcq });
      for (let i = 0; i < sizes.length; i++) yield* p.qp.send(pattern(i, sizes[i]!), { wrId: i });
      const done = yield* collect(p.cq, sizes.length);
      expect(done.map((x) => x.status)).toEqual(sizes.map(() => 'success'));
      recvs = yield* rcq.poll();
      posted = srq.postedCount;
    });
    runOk(c);
    const view = recvs.map((x) => [x.wrId, x.byteLen, x.bufOffset, x.bufferDone]);
    expect(view).toEqual([
      [1, 100, 0, false], // [0, 128)
      [1, 30, 128, false], // [128, 192)
      [1, 200, 192, false], // [192, 448)
      [1, 0, 0, true], // 700 B do not fit in the 576 B left: buffer 1 retired
      [2, 700, 0, false], // [0, 704)
      [2, 64, 704, false], // [704, 768)
      [2, 0, 0, true], // 1024 B do not fit: retired
      [3, 1024, 0, true], // fills buffer 3 exactly
    ]);
    expect(rbuf.peek(0, 100)).toEqual(pattern(0, 100));
    expect(rbuf.peek(128, 30)).toEqual(pattern(1, 30));
    expect(rbuf.peek(192, 200)).toEqual(pattern(2, 200));
    expect(rbuf.peek(1024, 700)).toEqual(pattern(3, 700));
    expect(rbuf.peek(1024 + 704, 64)).toEqual(pattern(4, 64));
    expect(rbuf.peek(2048, 1024)).toEqual(pattern(5, 1024));
    expect(posted).toBe(0);
  });
});

describe('receiver not ready', () => {
  function rnrScenario(postAtNs: number | null, requesterPostsRecvs: boolean) {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const rbuf = target.memory.dram('rbuf', 4096);
    const lbuf = plat(c, 0).memory.dram('lbuf', 4096);
    let comps: Completion[] = [];
    let doneAt = -1;
    let state = '';
    let recv: Completion[] = [];
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1);
      const t0 = c.sim.now;
      if (postAtNs !== null) {
        spawn(c, 1, 'late-poster', function* () {
          yield* target.rt.sleep(postAtNs);
          yield* p.peerQp.postRecv({ mem: rbuf, offset: 0, length: 256 }, 77);
        });
      }
      if (requesterPostsRecvs) {
        spawn(c, 0, 'own-recvs', function* () {
          for (let i = 0; i < 30; i++) {
            yield* plat(c, 0).rt.sleep(3_000);
            yield* p.qp.postRecv({ mem: lbuf, offset: i * 64, length: 64 }, i);
          }
        });
      }
      yield* p.qp.send(pattern(1, 100), { wrId: 5 });
      comps = yield* collect(p.cq, 1);
      doneAt = c.sim.now - t0;
      state = p.qp.state;
      recv = yield* p.peerCq.poll();
    });
    runOk(c);
    return { comps, doneAt, state, recv, c };
  }

  it('a SEND without a posted buffer waits and succeeds when a buffer is posted within the retry budget', () => {
    const r = rnrScenario(45_000, false);
    expect(r.comps.map((x) => [x.wrId, x.status])).toEqual([[5, 'success']]);
    expect(r.doneAt).toBeGreaterThan(45_000);
    expect(r.recv.map((x) => [x.wrId, x.byteLen])).toEqual([[77, 100]]);
    expect(r.state).toBe('ready');
  });

  it('fails with rnr-retry-exceeded when no buffer comes, and the QP goes to error', () => {
    const r = rnrScenario(null, false);
    expect(r.comps.map((x) => [x.wrId, x.status])).toEqual([[5, 'rnr-retry-exceeded']]);
    const p = r.c.params.network;
    expect(r.doneAt).toBeGreaterThanOrEqual(p.rnrRetries * p.rnrRetryNs);
    expect(r.state).toBe('error');
  });

  it("the requester posting its own receives does not burn the peer's RNR retries", () => {
    // Buffer posted at 60 µs, inside the 7 × 10 µs budget.
    const r = rnrScenario(60_000, true);
    expect(r.comps.map((x) => [x.wrId, x.status])).toEqual([[5, 'success']]);
  });

  it('a buffer posted on the QP is used without waiting for the next RNR retry', () => {
    const r = rnrScenario(12_000, false);
    expect(r.comps.map((x) => x.status)).toEqual(['success']);
    // Posted at 12 µs (+ post cost); the SEND is retried then, not at the 20 µs timer.
    expect(r.doneAt).toBeLessThan(20_000);
  });

  it('a SEND waiting for a buffer at a responder that crashes fails with retry-exceeded (no hang)', () => {
    const c = makeCluster({ network: NET });
    let comps: Completion[] = [];
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1);
      at(c, c.sim.now + 5_000, () => c.crash(1));
      yield* p.qp.send(pattern(1, 100), { wrId: 5 });
      yield* p.qp.write(new Uint8Array(8), { rkey: 1, offset: 0 }, { wrId: 6 });
      comps = yield* collect(p.cq, 2, 1_000_000);
    });
    runOk(c);
    expect(comps.map((x) => [x.wrId, x.status])).toEqual([
      [5, 'retry-exceeded'],
      [6, 'flushed'],
    ]);
  });
});

describe('transport retries: crashes and partitions', () => {
  it('peer crash → retry-exceeded after the retry timeout', () => {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const key = target.fabric.registerMemory(target.memory.dram('m', 4096), Access.ALL);
    let comps: Completion[] = [];
    let postedAt = 0;
    let doneAt = 0;
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1);
      c.crash(1);
      postedAt = c.sim.now;
      yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 0 }, { wrId: 1 });
      yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 8 }, { wrId: 2 });
      comps = yield* collect(p.cq, 2);
      doneAt = c.sim.now;
      expect(p.qp.state).toBe('error');
    });
    runOk(c);
    expect(comps.map((x) => [x.wrId, x.status])).toEqual([
      [1, 'retry-exceeded'],
      [2, 'flushed'],
    ]);
    expect(doneAt - postedAt).toBeGreaterThanOrEqual(c.params.network.rcRetryTimeoutNs);
  });

  it('partition, then heal within the retry timeout → delivered', () => {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const m = mem(target.memory.dram('m', 4096));
    const key = target.fabric.registerMemory(m, Access.ALL);
    let comps: Completion[] = [];
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1);
      c.setLink(0, 1, true);
      c.setLink(1, 0, true);
      at(c, c.sim.now + 90_000, () => {
        c.setLink(0, 1, false);
        c.setLink(1, 0, false);
      });
      yield* p.qp.write(pattern(1, 500), { rkey: key.rkey, offset: 0 }, { wrId: 1 });
      yield* p.qp.write(pattern(2, 8), { rkey: key.rkey, offset: 1000 }, { wrId: 2 });
      comps = yield* collect(p.cq, 2);
    });
    runOk(c);
    expect(comps.map((x) => [x.wrId, x.status])).toEqual([
      [1, 'success'],
      [2, 'success'],
    ]);
    expect(m.peek(0, 500)).toEqual(pattern(1, 500));
    expect(m.peek(1000, 8)).toEqual(pattern(2, 8));
  });

  it('partition that outlasts the retry timeout → retry-exceeded, nothing lands', () => {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const m = mem(target.memory.dram('m', 4096));
    const key = target.fabric.registerMemory(m, Access.ALL);
    let comps: Completion[] = [];
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1);
      c.setLink(0, 1, true);
      at(c, c.sim.now + 500_000, () => c.setLink(0, 1, false));
      yield* p.qp.write(pattern(1, 500), { rkey: key.rkey, offset: 0 }, { wrId: 1 });
      comps = yield* collect(p.cq, 1);
    });
    runOk(c);
    expect(comps.map((x) => [x.wrId, x.status])).toEqual([[1, 'retry-exceeded']]);
    expect(m.peek(0, 500)).toEqual(new Uint8Array(500));
  });

  for (const op of ['write', 'read', 'cas'] as const) {
    it(`asymmetric partition (ACK path blocked) → ${op} fails with retry-exceeded`, () => {
      const c = makeCluster({ network: NET });
      const target = plat(c, 1);
      const m = mem(target.memory.dram('m', 4096));
      m.poke64(0, 5);
      const key = target.fabric.registerMemory(m, Access.ALL);
      const local = mem(plat(c, 0).memory.dram('l', 64));
      let comps: Completion[] = [];
      spawn(c, 0, 't', function* () {
        const p = yield* connectPair(c, 0, 1);
        c.setLink(1, 0, true);
        if (op === 'write') yield* p.qp.write(pattern(1, 8), { rkey: key.rkey, offset: 8 }, { wrId: 1 });
        else if (op === 'read') yield* p.qp.read({ mem: local, offset: 0, length: 8 }, { rkey: key.rkey, offset: 0 }, { wrId: 1 });
        else yield* p.qp.cas({ rkey: key.rkey, offset: 0 }, 5, 6, { wrId: 1 }, { mem: local, offset: 8, length: 8 });
        comps = yield* collect(p.cq, 1);
      });
      runOk(c);
      expect(comps.map((x) => [x.wrId, x.status])).toEqual([[1, 'retry-exceeded']]);
      // The response never arrived: nothing landed locally.
      expect(local.peek64(0)).toBe(0);
      expect(local.peek64(8)).toBe(0);
    });
  }

  it('asymmetric partition healed within the timeout → the response gets through', () => {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const m = mem(target.memory.dram('m', 4096));
    m.poke64(0, 5);
    const key = target.fabric.registerMemory(m, Access.ALL);
    const local = mem(plat(c, 0).memory.dram('l', 64));
    let comps: Completion[] = [];
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1);
      c.setLink(1, 0, true);
      at(c, c.sim.now + 50_000, () => c.setLink(1, 0, false));
      yield* p.qp.cas({ rkey: key.rkey, offset: 0 }, 5, 6, { wrId: 1 }, { mem: local, offset: 8, length: 8 });
      comps = yield* collect(p.cq, 1);
    });
    runOk(c);
    expect(comps.map((x) => [x.wrId, x.status, x.value])).toEqual([[1, 'success', 5]]);
    expect(local.peek64(8)).toBe(5);
    expect(m.peek64(0)).toBe(6);
  });
});

describe('UD', () => {
  function udScenario(o: { block?: boolean; loss?: number; post?: boolean; n?: number; bytes?: number; seed?: number }) {
    const c = makeCluster({ network: { ...NET, udLossRate: o.loss ?? 0 }, seed: o.seed ?? 1 });
    const n = o.n ?? 10;
    let got: Completion[] = [];
    let sent: Completion[] = [];
    const rbuf = mem(plat(c, 1).memory.dram('r', n * 4096));
    const scq = plat(c, 0).fabric.createCq({ capacity: 1024 });
    const rcq = plat(c, 1).fabric.createCq({ capacity: 1024 });
    const server = plat(c, 1).fabric.createUd({ port: 7, cq: rcq });
    const client = plat(c, 0).fabric.createUd({ cq: scq });
    if (o.block) c.setLink(0, 1, true);
    spawn(c, 1, 'server', function* () {
      if (o.post !== false) for (let i = 0; i < n; i++) yield* server.postRecv({ mem: rbuf, offset: i * 4096, length: 4096 }, i);
      got = yield* collect(rcq, n, 200_000);
    });
    spawn(c, 0, 'client', function* () {
      yield* plat(c, 0).rt.sleep(10_000);
      for (let i = 0; i < n; i++) yield* client.send({ node: 1, port: 7 }, pattern(i, o.bytes ?? 100), { wrId: i });
      sent = yield* collect(scq, n, 200_000);
    });
    runOk(c);
    return { got, sent, rbuf, client };
  }

  it('delivered when healthy', () => {
    const r = udScenario({});
    expect(r.got.map((x) => [x.wrId, x.status, x.byteLen, x.udSrc?.port])).toEqual(Array.from({ length: 10 }, (_, i) => [i, 'success', 100, r.client.address.port]));
    for (let i = 0; i < 10; i++) expect(r.rbuf.peek(i * 4096, 100)).toEqual(pattern(i, 100));
    expect(r.sent.map((x) => x.status)).toEqual(Array(10).fill('success'));
  });

  it('lost under a partition (the send still completes locally)', () => {
    const r = udScenario({ block: true });
    expect(r.got).toEqual([]);
    expect(r.sent.length).toBe(10);
  });

  it('lost at the configured loss rate', () => {
    expect(udScenario({ loss: 1 }).got).toEqual([]);
    const half = udScenario({ loss: 0.5, n: 200, seed: 3 }).got.length;
    expect(half).toBeGreaterThan(50);
    expect(half).toBeLessThan(150);
  });

  it('dropped without a posted receive', () => {
    expect(udScenario({ post: false }).got).toEqual([]);
  });

  it('a datagram larger than the MTU fails locally', () => {
    const r = udScenario({ bytes: 5000, n: 1 });
    expect(r.sent.map((x) => x.status)).toEqual(['local-length-error']);
    expect(r.got).toEqual([]);
  });

  it('a datagram larger than the posted buffer consumes it with a local-length-error completion', () => {
    const c = makeCluster({ network: NET });
    const rcq = plat(c, 1).fabric.createCq({ capacity: 16 });
    const server = plat(c, 1).fabric.createUd({ port: 7, cq: rcq });
    const client = plat(c, 0).fabric.createUd({ cq: plat(c, 0).fabric.createCq({ capacity: 16 }) });
    const rbuf = plat(c, 1).memory.dram('r', 4096);
    let got: Completion[] = [];
    spawn(c, 1, 'server', function* () {
      yield* server.postRecv({ mem: rbuf, offset: 0, length: 64 }, 1);
      yield* server.postRecv({ mem: rbuf, offset: 64, length: 1024 }, 2);
      got = yield* collect(rcq, 2, 100_000);
    });
    spawn(c, 0, 'client', function* () {
      yield* client.send({ node: 1, port: 7 }, pattern(1, 100));
      yield* client.send({ node: 1, port: 7 }, pattern(2, 100));
    });
    runOk(c);
    expect(got.map((x) => [x.wrId, x.status])).toEqual([
      [1, 'local-length-error'],
      [2, 'success'],
    ]);
  });
});

describe('torn WRITEs', () => {
  it('a WRITE whose sender crashes mid-transfer leaves the target half-written at a chunk boundary', () => {
    const c = makeCluster({ network: NET, servers: 2 });
    const target = plat(c, 1);
    const m = mem(target.memory.pm('m', 1 << 17));
    const key = target.fabric.registerMemory(m, Access.ALL);
    const LEN = 65536;
    const data = new Uint8Array(LEN).fill(0xab);
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1);
      const ser = c.net.serializeNs(LEN + 30);
      yield* p.qp.write(data, { rkey: key.rkey, offset: 0 }, { wrId: 1 });
      // Crash while the payload is still leaving the sender's port.
      at(c, c.sim.now + Math.floor(ser / 2), () => c.crash(0));
    });
    runOk(c);
    const got = m.peek(0, LEN);
    let prefix = 0;
    while (prefix < LEN && got[prefix] === 0xab) prefix++;
    // Some, not all, of it landed; a clean cut at a chunk boundary (64 chunks of 1 KiB), nothing after it.
    expect(prefix).toBeGreaterThan(0);
    expect(prefix).toBeLessThan(LEN);
    expect(prefix % 1024).toBe(0);
    expect(got.subarray(prefix).every((b) => b === 0)).toBe(true);
  });

  it('a concurrent reader can observe a half-written object, never a half-written word', () => {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const m = mem(target.memory.dram('m', 1 << 16));
    const key = target.fabric.registerMemory(m, Access.ALL);
    const LEN = 8192;
    const value = 0x0101010101;
    const data = new Uint8Array(LEN);
    for (let i = 0; i < LEN; i += 8) data.set(word(value), i);
    let halfSeen = false;
    let tornWord = false;
    spawn(c, 1, 'reader', function* () {
      for (let i = 0; i < 4000; i++) {
        const first = yield* m.load64(0);
        const last = yield* m.load64(LEN - 8);
        // first is new and, later, last is still old: at that moment the object was half written.
        if (first === value && last === 0) halfSeen = true;
        for (const v of [first, last]) if (v !== 0 && v !== value) tornWord = true;
        const mid = yield* m.load64(LEN / 2 + 8 * (i % 64));
        if (mid !== 0 && mid !== value) tornWord = true;
        if (last === value) break;
      }
    });
    spawn(c, 0, 'writer', function* () {
      const p = yield* connectPair(c, 0, 1);
      yield* p.qp.write(data, { rkey: key.rkey, offset: 0 }, { wrId: 1 });
      yield* collect(p.cq, 1);
    });
    runOk(c);
    expect(halfSeen).toBe(true);
    expect(tornWord).toBe(false);
  });

  it('chunk boundaries are word-aligned in the target whatever the WRITE length', () => {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const m = mem(target.memory.dram('m', 1 << 16));
    const key = target.fabric.registerMemory(m, Access.ALL);
    const cuts: number[] = [];
    const orig = m.nicWrite.bind(m);
    m.nicWrite = (off, bytes, now) => {
      cuts.push(off, off + bytes.length);
      return orig(off, bytes, now);
    };
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1);
      for (const [off, len] of [
        [0, 72],
        [1000, 1000],
        [8, 8 * 125],
        [4096, 8 * 1001],
        [20000, 4104],
      ] as const) {
        yield* p.qp.write(pattern(len, len), { rkey: key.rkey, offset: off });
        yield* collect(p.cq, 1);
      }
    });
    runOk(c);
    const ends = new Set([0, 72, 1000, 2000, 8, 1008, 4096, 4096 + 8008, 20000, 24104]);
    for (const x of cuts) if (!ends.has(x)) expect(x % 8).toBe(0);
  });
});

describe('connection manager and NIC failure', () => {
  it('connect to a node without a listener returns null; to a crashed node, null after the timeout', () => {
    const c = makeCluster({ network: NET, servers: 3 });
    let r1: unknown = 'x';
    let r2: unknown = 'x';
    let t2 = 0;
    c.crash(2);
    spawn(c, 0, 't', function* () {
      const cq = plat(c, 0).fabric.createCq({ capacity: 4 });
      r1 = yield* plat(c, 0).fabric.connect(1, 'nobody', { cq });
      const t0 = c.sim.now;
      r2 = yield* plat(c, 0).fabric.connect(2, 'nobody', { cq }, 300_000);
      t2 = c.sim.now - t0;
    });
    runOk(c);
    expect(r1).toBeNull();
    expect(r2).toBeNull();
    expect(t2).toBeGreaterThanOrEqual(300_000);
  });

  it('NIC failure moves QPs to error: in-flight and later WRs flushed', () => {
    const c = makeCluster({ network: NET });
    const target = plat(c, 1);
    const key = target.fabric.registerMemory(target.memory.dram('m', 1 << 16), Access.ALL);
    let comps: Completion[] = [];
    let state = '';
    let peerState = '';
    let qpRef: QueuePair | null = null;
    spawn(c, 0, 't', function* () {
      const p = yield* connectPair(c, 0, 1);
      qpRef = p.qp;
      yield* p.qp.write(new Uint8Array(4096), { rkey: key.rkey, offset: 0 }, { wrId: 1 });
      yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 0 }, { wrId: 2 });
      c.setNic(0, false);
      state = p.qp.state;
      peerState = p.peerQp.state;
      yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 0 }, { wrId: 3 });
      comps = yield* collect(p.cq, 3, 1_000_000);
    });
    runOk(c);
    expect(state).toBe('error');
    expect(peerState).toBe('ready');
    expect(comps.map((x) => [x.wrId, x.status])).toEqual([
      [1, 'flushed'],
      [2, 'flushed'],
      [3, 'flushed'],
    ]);
    expect((qpRef as unknown as SimQp).pendingCompletions).toBe(0);
  });

  it('closing a QP releases its per-QP state', () => {
    const c = makeCluster({ network: NET });
    const key = plat(c, 1).fabric.registerMemory(plat(c, 1).memory.dram('m', 4096), Access.ALL);
    const cq = plat(c, 0).fabric.createCq({ capacity: 64 });
    spawn(c, 0, 't', function* () {
      for (let i = 0; i < 20; i++) {
        const p = yield* connectPair(c, 0, 1);
        yield* p.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 0 });
        yield* collect(p.cq, 1);
        p.qp.close();
        p.peerQp.close();
      }
      const conn = yield* plat(c, 0).fabric.connect(1, 'none', { cq });
      expect(conn).toBeNull();
    });
    runOk(c);
    expect(c.world.nic(0).qps.length).toBe(0);
    expect(c.world.nic(1).qps.length).toBe(0);
    expect((cq as unknown as { attached: unknown[] }).attached.length).toBe(0);
  });
});
