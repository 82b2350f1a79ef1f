import { Access, type Platform, type Task } from '../../src/platform/index.js';
import { RowanReceiver } from '../../src/protocols/rowan/receiver.js';
import { RowanSender } from '../../src/protocols/rowan/sender.js';
import { SimCluster } from '../cluster.js';
import { DEFAULT_MEMORY_COSTS } from '../memory.js';
import { NETWORK_100G } from '../network.js';
import { OPTANE_PRESET, type PmDeviceParams } from '../pm-device.js';

/**
 * The Rowan microbenchmark (seed 001, "Performance of Rowan"): remote threads write objects of
 * 64/128/256/512 B to ONE PM server, closed loop, each write made durable by a read-after-write
 * flush (DDIO off), through
 *  (a) RDMA WRITE, each stream appending to its own log (FaRM-style per-remote-thread logs), and
 *  (b) Rowan, every stream SENDing into the server's single Rowan instance,
 * with 1 … 288 concurrent streams spread over 8 sender machines, while `localWriters` threads of the
 * PM server append 256-B records to their own logs (the seed: "18 cores perform local sequential
 * PM writes"). Reports device-level write amplification (media bytes / bytes written, over the
 * measurement window) and remote-write throughput. Device: OPTANE_PRESET unless `pm` overrides it
 * (the sensitivity study).
 */

export interface RowanDlwaOptions {
  clock: () => number;
  streams?: number[];
  sizes?: number[];
  localWriters?: number;
  senderNodes?: number;
  warmupNs?: number;
  measureNs?: number;
  seed?: number;
  pm?: Partial<PmDeviceParams>;
  /** Stream count and size of the headline comparison (the seed: 144 streams of 128 B). */
  headline?: { streams: number; size: number };
  /** Called before each simulation and once at the end (done = total); for progress bars only. */
  progress?: (done: number, total: number, label: string) => void;
}

export interface DlwaPoint {
  dlwa: number;
  mops: number;
  /** Mean latency of one durable remote write, ns. */
  latencyNs: number;
}

export interface RowanDlwaResult {
  streams: number[];
  sizes: number[];
  /** DLWA of RDMA WRITE / Rowan per stream count, at the headline size (128 B). */
  writeDlwa: number[];
  rowanDlwa: number[];
  /** Remote-write throughput (Mops/s) per stream count at the headline size. */
  writeMops: number[];
  rowanMops: number[];
  /** Rowan throughput / RDMA WRITE throughput at the headline point (144 streams, 128 B). */
  rowanThroughputRatio: number;
  headline: { streams: number; size: number; writeDlwa: number; rowanDlwa: number; writeMops: number; rowanMops: number };
  /** Every size: per stream count. */
  bySize: Record<string, { write: DlwaPoint[]; rowan: DlwaPoint[] }>;
  params: { pm: PmDeviceParams; localWriters: number; senderNodes: number; warmupNs: number; measureNs: number; network: string; ddio: false; flush: 'read' };
  wallMs: number;
}

const LOG_BYTES = 64 << 10;
const LOCAL_LOG_BYTES = 1 << 20;

/** One run: `streams` remote streams of `size`-byte writes by `mode`. */
export function runDlwaPoint(mode: 'write' | 'rowan', streams: number, size: number, o: Required<Omit<RowanDlwaOptions, 'clock' | 'headline' | 'streams' | 'sizes' | 'pm' | 'progress'>> & { pm: PmDeviceParams }): DlwaPoint {
  const senders = o.senderNodes;
  const cluster = new SimCluster(
    { servers: 1, clients: senders, network: NETWORK_100G, pm: o.pm, memoryCosts: DEFAULT_MEMORY_COSTS, ddio: false, crashPolicy: 'tear' },
    o.seed,
  );
  cluster.bootAll();
  const server = cluster.nodes[0]!.platform!;
  const end = o.warmupNs + o.measureNs;
  let done = 0;
  let latSum = 0;
  const inWindow = (t: number) => t >= o.warmupNs && t < end;

  // Local sequential writers on the PM server.
  if (o.localWriters > 0) {
    const local = server.memory.pm('local', o.localWriters * LOCAL_LOG_BYTES);
    for (let w = 0; w < o.localWriters; w++) {
      server.rt.spawn(`local${w}`, function* (): Task<void> {
        const rec = new Uint8Array(256).fill(w + 1);
        let off = 0;
        while (server.rt.now() < end) {
          const at = w * LOCAL_LOG_BYTES + off;
          yield* local.write(at, rec);
          yield* local.persist(at, rec.length);
          off = (off + 256) % LOCAL_LOG_BYTES;
        }
      });
    }
  }

  let target: (p: Platform, s: number) => Task<(data: Uint8Array, k: number) => Task<boolean>>;
  if (mode === 'write') {
    const logs = server.memory.pm('logs', streams * LOG_BYTES);
    const key = server.fabric.registerMemory(logs, Access.REMOTE_WRITE | Access.REMOTE_READ);
    server.fabric.listen('bench', { cq: server.fabric.createCq({ capacity: 16, overrunIgnoring: true }) });
    target = function* (p, s) {
      const cq = p.fabric.createCq({ capacity: 16 });
      const conn = yield* p.fabric.connect(0, 'bench', { cq });
      if (conn === null) throw new Error('connect failed');
      const scratch = { mem: p.memory.dram(`scratch${s}`, 8), offset: 0, length: 8 };
      let pos = 0;
      return function* (data, k) {
        yield* conn.qp.write(data, { rkey: key.rkey, offset: s * LOG_BYTES + pos }, { wrId: k, signaled: false });
        yield* conn.qp.read(scratch, { rkey: key.rkey, offset: s * LOG_BYTES + pos }, { wrId: k });
        pos = (pos + data.length) % (LOG_BYTES - (LOG_BYTES % data.length));
        const c = yield* cq.next();
        return c !== null && c.status === 'success';
      };
    };
  } else {
    const rx = new RowanReceiver(server, {
      region: 'rowan',
      service: 'bench',
      buffers: 64,
      bufferBytes: 64 << 10,
      strideBytes: 64,
      postBatch: 4,
      postAhead: 8,
      pollIntervalNs: 2_000,
      recycle: 'on-retire',
      cqCapacity: 64,
    });
    server.rt.spawn('rowan.start', () => rx.start());
    target = function* (p, s) {
      const cq = p.fabric.createCq({ capacity: 16 });
      const scratch = { mem: p.memory.dram(`scratch${s}`, 8), offset: 0, length: 8 };
      const tx = new RowanSender(p, 0, 'bench', cq, 'read', scratch, s);
      yield* p.rt.sleep(1_000);
      if (!(yield* tx.connect(1_000_000))) throw new Error('connect failed');
      return function* (data, k) {
        yield* tx.write(data, k);
        const c = yield* cq.next();
        return c !== null && c.status === 'success';
      };
    };
  }

  for (let s = 0; s < streams; s++) {
    const p = cluster.nodes[1 + (s % senders)]!.platform!;
    p.rt.spawn(`stream${s}`, function* (): Task<void> {
      const write = yield* target(p, s);
      const data = new Uint8Array(size).fill((s % 250) + 1);
      for (let k = 1; p.rt.now() < end; k++) {
        const t0 = p.rt.now();
        if (!(yield* write(data, k))) throw new Error(`stream ${s}: remote write failed`);
        const t1 = p.rt.now();
        if (inWindow(t1)) {
          done++;
          latSum += t1 - t0;
        }
      }
    });
  }
  const dev = cluster.nodes[0]!.device;
  let w0 = 0;
  let m0 = 0;
  cluster.sim.run(o.warmupNs);
  w0 = dev.counters.writtenLineBytes;
  m0 = dev.counters.mediaBytes;
  cluster.sim.run(end);
  const written = dev.counters.writtenLineBytes - w0;
  const media = dev.counters.mediaBytes - m0;
  if (cluster.sim.violation !== null) throw new Error(cluster.sim.violation.message);
  return { dlwa: written === 0 ? 1 : media / written, mops: done / (o.measureNs / 1000), latencyNs: done === 0 ? 0 : latSum / done };
}

export function benchRowanDlwa(opts: RowanDlwaOptions): RowanDlwaResult {
  const t0 = opts.clock();
  const streams = opts.streams ?? [1, 8, 18, 36, 72, 144, 216, 288];
  const sizes = opts.sizes ?? [64, 128, 256, 512];
  const headline = opts.headline ?? { streams: 144, size: 128 };
  const o = {
    localWriters: opts.localWriters ?? 18,
    senderNodes: opts.senderNodes ?? 8,
    warmupNs: opts.warmupNs ?? 100_000,
    measureNs: opts.measureNs ?? 200_000,
    seed: opts.seed ?? 1,
    pm: { ...OPTANE_PRESET, ...(opts.pm ?? {}) },
  };
  const total = sizes.length * streams.length * 2 + (sizes.includes(headline.size) ? 0 : streams.length * 2) + (streams.includes(headline.streams) ? 0 : 2);
  let done = 0;
  const point = (mode: 'write' | 'rowan', n: number, size: number) => {
    opts.progress?.(done, total, `${mode} ${n} streams × ${size} B`);
    const r = runDlwaPoint(mode, n, size, o);
    done++;
    return r;
  };
  const bySize: RowanDlwaResult['bySize'] = {};
  for (const size of sizes) {
    bySize[String(size)] = {
      write: streams.map((n) => point('write', n, size)),
      rowan: streams.map((n) => point('rowan', n, size)),
    };
  }
  const at = (size: number) => bySize[String(size)] ?? { write: streams.map((n) => point('write', n, size)), rowan: streams.map((n) => point('rowan', n, size)) };
  const h = at(headline.size);
  const hi = streams.indexOf(headline.streams);
  const hw = hi >= 0 ? h.write[hi]! : point('write', headline.streams, headline.size);
  const hr = hi >= 0 ? h.rowan[hi]! : point('rowan', headline.streams, headline.size);
  opts.progress?.(total, total, 'done');
  return {
    streams,
    sizes,
    writeDlwa: h.write.map((x) => round(x.dlwa)),
    rowanDlwa: h.rowan.map((x) => round(x.dlwa)),
    writeMops: h.write.map((x) => round(x.mops)),
    rowanMops: h.rowan.map((x) => round(x.mops)),
    rowanThroughputRatio: round(hr.mops / hw.mops),
    headline: { ...headline, writeDlwa: round(hw.dlwa), rowanDlwa: round(hr.dlwa), writeMops: round(hw.mops), rowanMops: round(hr.mops) },
    bySize,
    params: { pm: o.pm, localWriters: o.localWriters, senderNodes: o.senderNodes, warmupNs: o.warmupNs, measureNs: o.measureNs, network: '100g', ddio: false, flush: 'read' },
    wallMs: Math.round(opts.clock() - t0),
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

export interface SensitivityRow {
  change: string;
  writeDlwa: number;
  rowanDlwa: number;
  writeMops: number;
  rowanMops: number;
  ratio: number;
  /** The device and local writers of this row. */
  pm: PmDeviceParams;
  localWriters: number;
  /** With `curveStreams`: DLWA and throughput per stream count (where the knee is). */
  curve?: { streams: number[]; write: DlwaPoint[]; rowan: DlwaPoint[] };
}

/** The sensitivity study's rows: one device parameter (or the local writers) changed at a time from OPTANE_PRESET. */
export const SENSITIVITY_VARIANTS: readonly (readonly [string, { pm?: PmDeviceParams; localWriters?: number }])[] = [
  ['preset (3 DIMMs, 256 B XPLine, 64 lines WC/DIMM, 2 GB/s/DIMM, 4 KiB interleave)', {}],
  ['WC 32 lines/DIMM', { pm: { ...OPTANE_PRESET, wcLinesPerDimm: 32 } }],
  ['WC 128 lines/DIMM', { pm: { ...OPTANE_PRESET, wcLinesPerDimm: 128 } }],
  ['XPLine 512 B', { pm: { ...OPTANE_PRESET, xplineBytes: 512 } }],
  ['1 DIMM', { pm: { ...OPTANE_PRESET, dimms: 1 } }],
  ['6 DIMMs', { pm: { ...OPTANE_PRESET, dimms: 6 } }],
  ['interleave 256 B', { pm: { ...OPTANE_PRESET, interleaveBytes: 256 } }],
  ['media 1 GB/s/DIMM', { pm: { ...OPTANE_PRESET, mediaWriteBytesPerNs: 1 } }],
  ['media 4 GB/s/DIMM', { pm: { ...OPTANE_PRESET, mediaWriteBytesPerNs: 4 } }],
  ['no local writers', { localWriters: 0 }],
];

/**
 * How the headline point (144 streams of 128 B, 18 local writers) depends on the device model:
 * write-combining capacity, XPLine size, DIMM count / interleaving, media bandwidth, and the local
 * writers. One parameter changed at a time from OPTANE_PRESET (`SENSITIVITY_VARIANTS`). With
 * `curveStreams`, each row also gets the curve over those stream counts (the headline point is
 * reused when the list contains it).
 */
export function benchRowanDlwaSensitivity(opts: {
  clock: () => number;
  streams?: number;
  size?: number;
  seed?: number;
  warmupNs?: number;
  measureNs?: number;
  curveStreams?: number[];
  progress?: (done: number, total: number, label: string) => void;
}): { rows: SensitivityRow[]; wallMs: number } {
  const t0 = opts.clock();
  const streams = opts.streams ?? 144;
  const size = opts.size ?? 128;
  const base = { localWriters: 18, senderNodes: 8, warmupNs: opts.warmupNs ?? 100_000, measureNs: opts.measureNs ?? 200_000, seed: opts.seed ?? 1, pm: { ...OPTANE_PRESET } };
  const curve = opts.curveStreams ?? [];
  const total = SENSITIVITY_VARIANTS.length * 2 * (1 + curve.filter((n) => n !== streams).length);
  let done = 0;
  const rows: SensitivityRow[] = SENSITIVITY_VARIANTS.map(([change, v]) => {
    const o = { ...base, ...v };
    const point = (mode: 'write' | 'rowan', n: number) => {
      opts.progress?.(done, total, `${change}: ${mode} ${n} streams × ${size} B`);
      const r = runDlwaPoint(mode, n, size, o);
      done++;
      return r;
    };
    const w = point('write', streams);
    const r = point('rowan', streams);
    const row: SensitivityRow = { change, writeDlwa: round(w.dlwa), rowanDlwa: round(r.dlwa), writeMops: round(w.mops), rowanMops: round(r.mops), ratio: round(r.mops / w.mops), pm: o.pm, localWriters: o.localWriters };
    if (opts.curveStreams !== undefined) {
      row.curve = { streams: curve, write: curve.map((n) => (n === streams ? w : point('write', n))), rowan: curve.map((n) => (n === streams ? r : point('rowan', n))) };
    }
    return row;
  });
  opts.progress?.(total, total, 'done');
  return { rows, wallMs: Math.round(opts.clock() - t0) };
}
