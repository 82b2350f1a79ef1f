/**
 * Device-level write amplification (DLWA) of the Optane-like PM model.
 *
 *  - exactly 1.0 for sequential full-XPLine writes (after a drain), through the device, through CPU
 *    persists and through RDMA WRITEs with DDIO off;
 *  - > 1 for many interleaved small-write streams, growing with the stream count;
 *  - a table of DLWA vs streams (1…288) and write size (64/128/256 B) is printed for the docs, for
 *    two traffic shapes: the device fed in random stream order, and the full simulator (one RC QP
 *    per stream, closed loop, RDMA WRITE into per-stream PM logs, DDIO off).
 *  - device times stay integral whatever the media bandwidth.
 */
import { describe, expect, it } from 'vitest';
import { OPTANE_PRESET, PmDevice } from '../../sim/pm-device.js';
import { SeededRng } from '../../sim/rng.js';
import { Access, makeCluster, mem, plat, runOk, spawn, tryConnectPair, watchSchedule } from './helpers.js';

const STREAMS = [1, 8, 32, 64, 144, 288];
const SIZES = [64, 128, 256];
/** Each stream appends to its own 64 KiB log: 16 pages of 4 KiB, so logs start on all DIMMs evenly. */
const REGION = 65536;

/** The device alone, fed `streams` sequential append streams in a seeded random order. */
function deviceDlwa(streams: number, size: number, bytesPerStream = 16384, seed = 1): number {
  const d = new PmDevice(OPTANE_PRESET);
  const pos = new Array<number>(streams).fill(0);
  const live = Array.from({ length: streams }, (_, i) => i);
  const rng = new SeededRng(seed, 'dlwa');
  let t = 0;
  while (live.length > 0) {
    const j = rng.int(live.length);
    const s = live[j]!;
    t = d.write(s * REGION + pos[s]!, size, t);
    pos[s]! += size;
    if (pos[s]! + size > bytesPerStream) {
      live[j] = live[live.length - 1]!;
      live.pop();
    }
  }
  d.drain();
  return d.dlwa();
}

/** The whole simulator: one QP and one closed-loop thread per stream, RDMA WRITEs into PM, DDIO off. */
function fabricDlwa(streams: number, size: number, bytesPerStream = 8192, seed = 1): { dlwa: number; problems: string[] } {
  const clients = 8;
  const c = makeCluster({ seed, servers: 1, clients, ddio: false });
  const problems = watchSchedule(c);
  const t = plat(c, 0);
  const m = mem(t.memory.pm('log', streams * REGION));
  const key = t.fabric.registerMemory(m, Access.ALL);
  const writes = Math.floor(bytesPerStream / size);
  for (let s = 0; s < streams; s++) {
    const node = 1 + (s % clients);
    spawn(c, node, `stream${s}`, function* () {
      const pair = yield* tryConnectPair(c, node, 0);
      if (pair === null) throw new Error('connect failed');
      const data = new Uint8Array(size).fill(s & 0xff);
      for (let k = 0; k < writes; k++) {
        yield* pair.qp.write(data, { rkey: key.rkey, offset: s * REGION + k * size });
        const x = yield* pair.cq.next();
        if (x === null || x.status !== 'success') throw new Error('write failed');
      }
    });
  }
  runOk(c);
  const dev = c.nodes[0]!.device;
  expect(dev.counters.writtenBytes).toBe(streams * writes * size);
  dev.drain();
  return { dlwa: dev.dlwa(), problems };
}

function table(title: string, f: (streams: number, size: number) => number): number[][] {
  const rows = SIZES.map((size) => STREAMS.map((s) => f(s, size)));
  const head = ['size \\ streams', ...STREAMS.map(String)];
  const lines = [title, head.map((h) => h.padStart(8)).join(' ')];
  rows.forEach((r, i) => lines.push([`${SIZES[i]} B`.padStart(8), ...r.map((x) => x.toFixed(2).padStart(8))].join(' ')));
  console.log(lines.join('\n'));
  return rows;
}

describe('DLWA', () => {
  it('is exactly 1.0 for sequential full-XPLine writes (device)', () => {
    const d = new PmDevice(OPTANE_PRESET);
    let t = 0;
    for (let i = 0; i < 10_000; i++) t = d.write(i * 256, 256, t);
    d.drain();
    expect(d.counters.writtenBytes).toBe(10_000 * 256);
    expect(d.dlwa()).toBe(1);
    expect(d.counters.partialLineWrites).toBe(0);
  });

  it('is exactly 1.0 for one sequential stream of small writes (device)', () => {
    for (const size of [64, 128]) {
      const d = new PmDevice(OPTANE_PRESET);
      for (let i = 0; i < 4096; i++) d.write(i * size, size, 0);
      d.drain();
      expect(d.dlwa()).toBe(1);
    }
  });

  it('is exactly 1.0 for sequential full-XPLine CPU stores + persists', () => {
    const c = makeCluster({ servers: 1 });
    const m = mem(plat(c, 0).memory.pm('pm', 1 << 20));
    spawn(c, 0, 't', function* () {
      for (let off = 0; off < 1 << 20; off += 256) {
        yield* m.write(off, new Uint8Array(256).fill(1));
        yield* m.persist(off, 256);
      }
    });
    runOk(c);
    const dev = c.nodes[0]!.device;
    dev.drain();
    expect(dev.counters.writtenBytes).toBe(1 << 20);
    expect(dev.dlwa()).toBe(1);
  });

  it('is exactly 1.0 for sequential RDMA WRITEs with DDIO off (one stream, and 288 streams of 256 B)', () => {
    expect(fabricDlwa(1, 256).dlwa).toBe(1);
    expect(fabricDlwa(1, 1024).dlwa).toBe(1);
    expect(fabricDlwa(288, 256).dlwa).toBe(1);
  });

  it('is > 1 for many interleaved small-write streams and grows with the stream count; table', () => {
    const dev = table('DLWA, PM device fed in random stream order (OPTANE_PRESET: 3 DIMMs x 64 XPLines, 4 KiB interleave)', (s, size) => deviceDlwa(s, size));
    const fab = table('DLWA, full simulator: one closed-loop RC QP per stream, 8 KiB RDMA WRITEs per stream into PM, DDIO off', (s, size) => fabricDlwa(s, size).dlwa);
    for (const rows of [dev, fab]) {
      for (const row of rows) {
        // Monotone-ish: never drops by more than 2 % from one stream count to the next.
        for (let i = 1; i < row.length; i++) expect(row[i]!).toBeGreaterThanOrEqual(row[i - 1]! * 0.98);
        expect(row[0]).toBe(1);
      }
      const at = (size: number, streams: number) => rows[SIZES.indexOf(size)]![STREAMS.indexOf(streams)]!;
      // Whole XPLines never amplify; 144 streams of 128 B (the Rowan paper's setup) do; 288 even more.
      expect(rows[SIZES.indexOf(256)]!.every((x) => x === 1)).toBe(true);
      expect(at(128, 144)).toBeGreaterThan(1.05);
      expect(at(128, 288)).toBeGreaterThan(at(128, 144));
      expect(at(64, 288)).toBeGreaterThan(1.5);
    }
  });

  it('keeps times integral when the media bandwidth does not divide the XPLine', () => {
    const d = new PmDevice({ ...OPTANE_PRESET, mediaWriteBytesPerNs: 3, wcLinesPerDimm: 2 });
    let t = 0;
    for (let i = 0; i < 1000; i++) {
      t = d.write(((i * 7919) % 4096) * 256, 64, t);
      expect(Number.isInteger(t)).toBe(true);
    }
    const c = makeCluster({ servers: 2, ddio: false, pm: { mediaWriteBytesPerNs: 3, wcLinesPerDimm: 2 } });
    const problems = watchSchedule(c);
    const m = mem(plat(c, 0).memory.pm('pm', 1 << 20));
    const key = plat(c, 0).fabric.registerMemory(m, Access.ALL);
    spawn(c, 0, 'cpu', function* () {
      for (let i = 0; i < 200; i++) {
        yield* m.store64(((i * 7919) % 4096) * 256, i + 1);
        yield* m.persist(((i * 7919) % 4096) * 256, 8);
      }
    });
    spawn(c, 1, 'nic', function* () {
      const pair = yield* tryConnectPair(c, 1, 0);
      if (pair === null) throw new Error('connect failed');
      for (let i = 0; i < 100; i++) {
        yield* pair.qp.write(new Uint8Array(300), { rkey: key.rkey, offset: ((i * 104729) % 3000) * 256 });
        yield* pair.cq.next();
      }
    });
    runOk(c);
    expect(problems).toEqual([]);
    expect(Number.isInteger(c.sim.now)).toBe(true);
  });
});
