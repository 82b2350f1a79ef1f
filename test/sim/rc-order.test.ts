/**
 * P: an RC queue pair delivers in order and exactly once while it is healthy.
 *
 * Random sequences of WRITEs and SENDs of random sizes on one or several QPs, under random latency
 * distributions, bandwidths, posting windows, DDIO settings and target memory kinds. Every DMA
 * placement at the receiver is logged (an instrumented `nicWrite`), so the test sees exactly when
 * each byte of each work request landed. It checks that
 *  - per QP, the landings of WR k+1 never start before every byte of WR k has landed;
 *  - every byte of every WR lands exactly once, and the final memory holds the payloads;
 *  - SENDs consume the QP's receive buffers in posting order, one message per buffer, each once;
 *  - the requester's completions arrive in posting order, each exactly once, all successful;
 *  - no event is ever scheduled in the past or at a non-integer time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Completion, QueuePair } from '../../src/platform/index.js';
import type { LatencyDist } from '../../sim/network.js';
import { Access, makeCluster, mem, type NicWriteRecord, pattern, plat, readWord, recordNicWrites, runOk, runs, spawn, watchSchedule, word } from './helpers.js';

type OpSpec = { kind: 'write' | 'send'; size: number };

const latencyArb: fc.Arbitrary<LatencyDist> = fc.oneof(
  fc.integer({ min: 200, max: 3000 }).map((ns): LatencyDist => ({ kind: 'fixed', ns })),
  fc.tuple(fc.integer({ min: 100, max: 2000 }), fc.integer({ min: 0, max: 5000 })).map(([a, w]): LatencyDist => ({ kind: 'uniform', minNs: a, maxNs: a + w })),
  fc.tuple(fc.integer({ min: 500, max: 2000 }), fc.integer({ min: 0, max: 800 })).map(([m, sd]): LatencyDist => ({ kind: 'normal', meanNs: m, sdNs: sd, minNs: 100 })),
  fc.tuple(fc.integer({ min: 500, max: 2000 }), fc.double({ min: 0, max: 1.5, noNaN: true })).map(([m, s]): LatencyDist => ({ kind: 'lognormal', medianNs: m, sigma: s, minNs: 100 })),
);

const opArb: fc.Arbitrary<OpSpec> = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), size: fc.oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 20_000 })) }),
  fc.record({ kind: fc.constant('send' as const), size: fc.oneof(fc.integer({ min: 8, max: 128 }), fc.integer({ min: 8, max: 4096 })) }),
);

interface Scenario {
  seed: number;
  latency: LatencyDist;
  bandwidthGbps: number;
  ddio: boolean;
  pm: boolean;
  qps: { ops: OpSpec[]; window: number; gapNs: number }[];
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  latency: latencyArb,
  bandwidthGbps: fc.constantFrom(10, 56, 100),
  ddio: fc.boolean(),
  pm: fc.boolean(),
  qps: fc.array(
    fc.record({
      ops: fc.array(opArb, { minLength: 1, maxLength: 40 }),
      window: fc.integer({ min: 1, max: 32 }),
      gapNs: fc.constantFrom(0, 0, 50, 500, 3000),
    }),
    { minLength: 1, maxLength: 4 },
  ),
});

const MAX_SEND = 4096;

function tagOf(q: number, k: number): number {
  return q * 1_000_000 + k + 1;
}

function runScenario(s: Scenario): void {
  const c = makeCluster({ seed: s.seed, servers: 3, ddio: s.ddio, network: { latency: s.latency, bandwidthGbps: s.bandwidthGbps } });
  const problems = watchSchedule(c);
  const target = plat(c, 0);
  const nq = s.qps.length;
  // Target memory: one log region and one receive-buffer region per QP.
  const logBase: number[] = [];
  const writeOff: number[][] = [];
  const sendIndex: number[][] = [];
  let logBytes = 0;
  for (const q of s.qps) {
    logBase.push(logBytes);
    const offs: number[] = [];
    const sidx: number[] = [];
    let o = 0;
    let si = 0;
    for (const op of q.ops) {
      offs.push(o);
      sidx.push(op.kind === 'send' ? si++ : -1);
      if (op.kind === 'write') o += op.size;
    }
    writeOff.push(offs);
    sendIndex.push(sidx);
    logBytes += Math.max(8, o);
  }
  const nSends = s.qps.map((q) => q.ops.filter((o) => o.kind === 'send').length);
  const rbufBase: number[] = [];
  let rbufBytes = 0;
  for (let q = 0; q < nq; q++) {
    rbufBase.push(rbufBytes);
    rbufBytes += Math.max(1, nSends[q]!) * MAX_SEND;
  }
  const alloc = (name: string, n: number) => (s.pm ? target.memory.pm(name, n) : target.memory.dram(name, n));
  const log = mem(alloc('log', logBytes));
  const rbuf = mem(alloc('rbuf', rbufBytes));
  const key = target.fabric.registerMemory(log, Access.ALL);
  const landed: NicWriteRecord[] = [];
  recordNicWrites(log, landed, () => c.sim.now);
  recordNicWrites(rbuf, landed, () => c.sim.now);

  const tcq = target.fabric.createCq({ capacity: 1 << 16 });
  const listener = target.fabric.listen('rc', { cq: tcq, recvCapacity: 64 });
  // Passive QP id → the sender's QP index (the sender tells us through the first 8 bytes it writes? no:
  // through the connection order, which the accept loop mirrors).
  const passiveOf = new Map<number, number>();
  const recvs: Completion[] = [];
  const connected: boolean[] = new Array(nq).fill(false);

  spawn(c, 0, 'acceptor', function* () {
    for (let i = 0; i < nq; i++) {
      const qp = yield* listener.accept();
      if (qp === null) throw new Error('accept failed');
      // The sender's QP index is in the first word of its log slot (written by the sender before connecting? no:
      // senders connect one at a time, in QP order, see below).
      passiveOf.set(qp.id, i);
      const q = i;
      for (let b = 0; b < nSends[q]!; b++) yield* qp.postRecv({ mem: rbuf, offset: rbufBase[q]! + b * MAX_SEND, length: MAX_SEND }, b);
      connected[q] = true;
    }
    for (;;) {
      const comp = yield* tcq.next(2_000_000);
      if (comp === null) break;
      recvs.push(comp);
    }
  });

  const completions: Completion[][] = s.qps.map(() => []);
  const qpIdOf: number[] = [];
  // Connections are made one at a time, in QP order, so the acceptor's i-th QP is QP i.
  const order: (() => void)[] = [];
  let nextToConnect = 0;
  for (let q = 0; q < nq; q++) {
    const node = 1 + (q % 2);
    const p = plat(c, node);
    const spec = s.qps[q]!;
    const cq = p.fabric.createCq({ capacity: 1024 });
    spawn(c, node, `sender${q}`, function* () {
      while (nextToConnect !== q) yield* p.rt.sleep(100);
      const conn = yield* p.fabric.connect(0, 'rc', { cq });
      nextToConnect++;
      if (conn === null) throw new Error('connect failed');
      const qp: QueuePair = conn.qp;
      qpIdOf[q] = qp.id;
      // Wait until the target has posted this QP's receive buffers (keeps RNR out of this test).
      while (!connected[q]) yield* p.rt.sleep(500);
      let outstanding = 0;
      for (let k = 0; k < spec.ops.length; k++) {
        const op = spec.ops[k]!;
        while (outstanding >= spec.window) {
          const comp = yield* cq.next();
          completions[q]!.push(comp!);
          outstanding--;
        }
        const data = pattern(tagOf(q, k), op.size);
        if (op.kind === 'write') {
          yield* qp.write(data, { rkey: key.rkey, offset: logBase[q]! + writeOff[q]![k]! }, { wrId: k });
        } else {
          data.set(word(tagOf(q, k)), 0);
          yield* qp.send(data, { wrId: k });
        }
        outstanding++;
        if (spec.gapNs > 0) yield* p.rt.sleep(spec.gapNs);
      }
      while (outstanding > 0) {
        const comp = yield* cq.next();
        completions[q]!.push(comp!);
        outstanding--;
      }
    });
    order.push(() => undefined);
  }

  runOk(c);
  expect(problems).toEqual([]);

  for (let q = 0; q < nq; q++) {
    const spec = s.qps[q]!;
    // Requester completions: in posting order, exactly once, all successful.
    const comps = completions[q]!;
    expect(comps.map((x) => x.wrId)).toEqual(spec.ops.map((_, k) => k));
    for (const x of comps) {
      expect(x.status).toBe('success');
      expect(x.qpId).toBe(qpIdOf[q]);
      expect(x.byteLen).toBe(spec.ops[x.wrId]!.size);
    }
    // Attribute every landing at the target to (QP, WR).
    const lb = logBase[q]!;
    const bySeq: { k: number; from: number; to: number }[] = [];
    for (const r of landed) {
      if (r.mem === log) {
        if (r.offset < lb || r.offset >= lb + Math.max(8, spec.ops.reduce((a, o) => a + (o.kind === 'write' ? o.size : 0), 0))) continue;
        const rel = r.offset - lb;
        // The write whose slot contains `rel`.
        let k = -1;
        for (let j = 0; j < spec.ops.length; j++) {
          const op = spec.ops[j]!;
          if (op.kind === 'write' && rel >= writeOff[q]![j]! && rel < writeOff[q]![j]! + op.size) k = j;
        }
        expect(k).toBeGreaterThanOrEqual(0);
        const from = rel - writeOff[q]![k]!;
        bySeq.push({ k, from, to: from + r.length });
        expect(from + r.length).toBeLessThanOrEqual(spec.ops[k]!.size);
      } else {
        const rb = rbufBase[q]!;
        if (r.offset < rb || r.offset >= rb + Math.max(1, nSends[q]!) * MAX_SEND) continue;
        const tag = readWord(rbuf.visible, r.offset);
        const k = tag - tagOf(q, 0);
        expect(k).toBeGreaterThanOrEqual(0);
        expect(k).toBeLessThan(spec.ops.length);
        expect(spec.ops[k]!.kind).toBe('send');
        // The i-th SEND lands in the i-th posted buffer, whole.
        expect(r.offset).toBe(rb + sendIndex[q]![k]! * MAX_SEND);
        expect(r.length).toBe(spec.ops[k]!.size);
        bySeq.push({ k, from: 0, to: r.length });
      }
    }
    // In order: WR k+1's first landing comes after every landing of WR k.
    for (let i = 1; i < bySeq.length; i++) expect(bySeq[i]!.k).toBeGreaterThanOrEqual(bySeq[i - 1]!.k);
    // Exactly once: each WR's landed ranges are disjoint and cover it.
    for (let k = 0; k < spec.ops.length; k++) {
      const parts = bySeq.filter((x) => x.k === k).sort((a, b) => a.from - b.from);
      let covered = 0;
      for (const part of parts) {
        expect(part.from).toBe(covered);
        covered = part.to;
      }
      expect(covered).toBe(spec.ops[k]!.size);
    }
    // Final contents.
    for (let k = 0; k < spec.ops.length; k++) {
      const op = spec.ops[k]!;
      if (op.kind !== 'write') continue;
      const at = lb + writeOff[q]![k]!;
      expect(Buffer.from(log.visible.subarray(at, at + op.size)).equals(Buffer.from(pattern(tagOf(q, k), op.size)))).toBe(true);
    }
    // Receive completions of this QP: buffers in posting order, one message each, matching sizes.
    const mine = recvs.filter((x) => passiveOf.get(x.qpId) === q);
    expect(mine.map((x) => x.wrId)).toEqual(Array.from({ length: nSends[q]! }, (_, i) => i));
    const sendsInOrder = spec.ops.map((o, k) => ({ o, k })).filter((x) => x.o.kind === 'send');
    mine.forEach((x, i) => {
      expect(x.status).toBe('success');
      expect(x.byteLen).toBe(sendsInOrder[i]!.o.size);
      expect(readWord(rbuf.visible, rbufBase[q]! + i * MAX_SEND)).toBe(tagOf(q, sendsInOrder[i]!.k));
    });
  }
}

describe('RC in-order exactly-once delivery (property)', () => {
  it('one or several QPs, random WRITE/SEND sequences, random latency distributions', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        runScenario(s);
      }),
      { numRuns: runs(120) },
    );
  });

  it('a single QP with DDIO off into PM (media-bound placement)', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 1, max: 1_000_000 }),
          ops: fc.array(opArb, { minLength: 2, maxLength: 40 }),
          window: fc.integer({ min: 2, max: 32 }),
        }),
        ({ seed, ops, window }) => {
          runScenario({ seed, latency: { kind: 'uniform', minNs: 500, maxNs: 2500 }, bandwidthGbps: 100, ddio: false, pm: true, qps: [{ ops, window, gapNs: 0 }] });
        },
      ),
      { numRuns: runs(60) },
    );
  });
});
