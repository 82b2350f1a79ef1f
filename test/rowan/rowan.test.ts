/**
 * The Rowan abstraction on the simulator: SENDs from many senders land back to back at
 * stride-aligned offsets of the buffers, in the order the buffers were posted (increasing
 * addresses, ring order); buffers are reposted in ring order; the receive CQ is an
 * overrun-ignoring ring nobody polls; the position scan finds exactly the new frames of a reused
 * buffer (stale frames of the previous lap are not taken for new ones).
 */
import { describe, expect, it } from 'vitest';
import type { CompletionQueue, Platform, Task } from '../../src/platform/index.js';
import { FRAME_HEADER, newFrame, roundUp, seal } from '../../src/protocols/rowan/frame.js';
import { RowanReceiver, type RowanReceiverOptions } from '../../src/protocols/rowan/receiver.js';
import { RowanScanner } from '../../src/protocols/rowan/scanner.js';
import { RowanSender } from '../../src/protocols/rowan/sender.js';
import type { SimCluster } from '../../sim/cluster.js';
import { makeCluster, plat, runOk, spawn } from '../sim/helpers.js';

const BASE: RowanReceiverOptions = {
  region: 'blog',
  service: 'rowan',
  buffers: 16,
  bufferBytes: 4096,
  strideBytes: 64,
  postBatch: 2,
  postAhead: 4,
  pollIntervalNs: 1_000,
  recycle: 'on-release',
  cqCapacity: 16,
};

/** A frame whose payload names its sender and sequence number. */
function frame(sender: number, k: number, payload: number): Uint8Array {
  const f = newFrame(payload);
  const dv = new DataView(f.buffer);
  dv.setUint32(FRAME_HEADER, sender, true);
  dv.setUint32(FRAME_HEADER + 4, k, true);
  seal(f);
  return f;
}

interface Landed {
  sender: number;
  k: number;
  len: number;
  off: number;
}

function setup(opts: Partial<RowanReceiverOptions>, senders: number, seed = 1): { c: SimCluster; rx: RowanReceiver; scanner: RowanScanner } {
  const c = makeCluster({ seed, servers: 1, clients: 4, ddio: false });
  const rx = new RowanReceiver(plat(c, 0), { ...BASE, ...opts });
  spawn(c, 0, 'rx', () => rx.start());
  void senders;
  return { c, rx, scanner: new RowanScanner(rx) };
}

function* sender(p: Platform, s: number, frames: number, size: (k: number) => number, stop?: () => boolean): Task<void> {
  yield* p.rt.sleep(2_000);
  const cq: CompletionQueue = p.fabric.createCq({ capacity: 8 });
  const tx = new RowanSender(p, 0, 'rowan', cq, 'read', { mem: p.memory.dram(`s${s}`, 8), offset: 0, length: 8 }, s);
  if (!(yield* tx.connect(1_000_000))) throw new Error('connect failed');
  for (let k = 0; k < frames && !(stop?.() ?? false); k++) {
    yield* tx.write(frame(s, k, size(k)), k);
    const done = yield* cq.next();
    if (done === null || done.status !== 'success') throw new Error(`sender ${s}: write ${k} failed (${done?.status})`);
  }
}

function* collect(scanner: RowanScanner, out: Landed[]): Task<void> {
  yield* scanner.scan((bytes, at, len, off) => {
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    out.push({ sender: dv.getUint32(at + FRAME_HEADER, true), k: dv.getUint32(at + FRAME_HEADER + 4, true), len, off });
  });
}

describe('Rowan', () => {
  it('lands writes from many senders back to back, stride-aligned, in posting order', () => {
    const senders = 24;
    const perSender = 30;
    const { c, rx, scanner } = setup({ buffers: 64 }, senders);
    for (let s = 0; s < senders; s++) spawn(c, 1 + (s % 4), `tx${s}`, () => sender(plat(c, 1 + (s % 4)), s, perSender, (k) => 8 + ((s * 37 + k * 53) % 300)));
    const landed: Landed[] = [];
    spawn(c, 0, 'scan', function* () {
      yield* plat(c, 0).rt.sleep(2_000_000);
      yield* collect(scanner, landed);
    });
    runOk(c, 3_000_000);
    expect(landed.length).toBe(senders * perSender);
    // Stride-aligned; back to back inside each buffer; buffers in posting (= ring = address) order.
    const B = BASE.bufferBytes;
    let prev: Landed | null = null;
    for (const x of landed) {
      expect(x.off % 64).toBe(0);
      if (prev !== null) {
        const prevBuf = Math.floor(prev.off / B);
        const buf = Math.floor(x.off / B);
        if (buf === prevBuf) expect(x.off).toBe(prev.off + roundUp(prev.len, 64));
        else {
          expect(buf).toBe(prevBuf + 1);
          expect(x.off % B).toBe(0);
        }
      }
      prev = x;
    }
    expect(landed[0]!.off).toBe(0);
    // Each sender's writes land in its order (RC), interleaved with the others' in one stream.
    for (let s = 0; s < senders; s++) expect(landed.filter((x) => x.sender === s).map((x) => x.k)).toEqual(Array.from({ length: perSender }, (_, k) => k));
    expect(new Set(landed.slice(0, 40).map((x) => x.sender)).size).toBeGreaterThan(4);
    expect(rx.postedSeq.slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rx.orderProblems).toEqual([]);
  });

  it('reposts retired buffers in ring order, in batches, and never polls the overrun-ignoring CQ', () => {
    const { c, rx } = setup({ buffers: 4, recycle: 'on-retire', postBatch: 2, postAhead: 2, cqCapacity: 8 }, 8);
    for (let s = 0; s < 8; s++) spawn(c, 1 + (s % 4), `tx${s}`, () => sender(plat(c, 1 + (s % 4)), s, 100, () => 200));
    runOk(c, 5_000_000);
    // 800 writes of 256 B (stride-rounded) = 50 laps of 4 KiB buffers: reposted 0,1,2,3,0,1,...
    expect(rx.postedSeq.length).toBeGreaterThan(40);
    rx.postedSeq.forEach((ring, i) => expect(ring).toBe(i % 4));
    expect(rx.orderProblems).toEqual([]);
    // Nobody polled the receive CQ: it overran (a ring) and no QP went to error (every write succeeded).
    expect(rx.cq.overrunIgnoring).toBe(true);
    expect(rx.cq.overwritten).toBeGreaterThan(700);
  });

  it('flags buffers posted out of address order (the planted reposting bug)', () => {
    const { c, rx } = setup({ buffers: 8, recycle: 'on-retire', postBatch: 2, postAhead: 2, unsafeReverseBatches: true }, 4);
    for (let s = 0; s < 4; s++) spawn(c, 1 + s, `tx${s}`, () => sender(plat(c, 1 + s), s, 60, () => 200));
    runOk(c, 5_000_000);
    expect(rx.postedSeq.slice(0, 4)).toEqual([1, 0, 3, 2]);
    expect(rx.orderProblems.length).toBeGreaterThan(0);
  });

  it('tells a reused buffer\'s new frames from the previous lap\'s (same content, new seq)', () => {
    const { c, rx, scanner } = setup({ buffers: 4, postBatch: 1, postAhead: 2 }, 1);
    const landed: Landed[] = [];
    const p = plat(c, 1);
    spawn(c, 0, 'scan-and-release', function* () {
      const rt = plat(c, 0).rt;
      for (;;) {
        yield* rt.sleep(5_000);
        yield* collect(scanner, landed);
        // Release every buffer the scan has finished (it may be reposted and overwritten).
        for (let i = 0; i < scanner.postIndex; i++) {
          const ring = rx.postedSeq[i]!;
          if (scanner.fillEnd[ring] !== -1) rx.release(ring);
        }
      }
    });
    // The same 100 frames (identical bytes but for the seq the sender stamps) three times over:
    // 300 × 192 B = 14 laps of the 4 × 4 KiB ring.
    spawn(c, 1, 'tx', function* () {
      for (let lap = 0; lap < 3; lap++) yield* sender(p, 0, 100, () => 150);
    });
    runOk(c, 3_000_000);
    expect(landed.length).toBe(300);
    expect(landed.map((x) => x.k)).toEqual([...Array(3)].flatMap(() => Array.from({ length: 100 }, (_, k) => k)));
    expect(rx.postedSeq.length).toBeGreaterThan(12);
  });
});
