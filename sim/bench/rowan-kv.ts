import type { Task } from '../../src/platform/index.js';
import type { HistoryEvent } from '../../src/check/history.js';
import { makeRowanKv } from '../../src/protocols/rowan/kv/index.js';
import type { RowanKvOptions } from '../../src/protocols/rowan/kv/options.js';
import { parseWorkload } from '../../src/workload/config.js';
import { ProcessIds, runClient } from '../../src/workload/driver.js';
import { SimCluster } from '../cluster.js';
import { DEFAULT_MEMORY_COSTS } from '../memory.js';
import { NETWORK_100G } from '../network.js';
import { OPTANE_PRESET, type PmDeviceParams } from '../pm-device.js';

/**
 * Rowan-KV against its replication baselines (seed 001, "Performance of Rowan-KV"): 6 servers
 * (24 worker threads each — and, for RPC replication, 24 backup RPC threads — 96 shards → 48 per
 * server with replication factor 3), 8 client
 * machines, 50 % PUT / 50 % GET, ZippyDB-like value sizes (mean 90.8 B), uniform keys, DDIO off
 * with read-after-write flushes, Optane preset. For each replication mode the offered load is
 * varied by the number of closed-loop client threads; each point reports throughput, median and
 * p99 PUT latency, median GET latency and the servers' DLWA over the measurement window.
 */

export type Mode = RowanKvOptions['replication'];
export const MODES: readonly Mode[] = ['rowan', 'rpc', 'write', 'batch'];

export interface RowanKvBenchOptions {
  clock: () => number;
  /** Closed-loop client threads per client machine, one curve point each. */
  threadsPerClient?: number[];
  warmupNs?: number;
  measureNs?: number;
  keys?: number;
  seed?: number;
  modes?: readonly Mode[];
  /** Device parameters changed from OPTANE_PRESET (diagnostics; every figure of the seed uses the preset). */
  pm?: Partial<PmDeviceParams>;
  /** Called before each simulation and once at the end (done = total); for progress bars only. */
  progress?: (done: number, total: number, label: string) => void;
}

export interface KvPoint {
  clientThreads: number;
  mops: number;
  putP50Ns: number;
  putP99Ns: number;
  getP50Ns: number;
  /** Media bytes / the 64-byte lines the memory controller wrote (device-level, as PM counters report). */
  dlwa: number;
  /** Media bytes / exact payload bytes written (counts stride padding and partial-line rewrites). */
  mediaPerPayloadByte: number;
  /** What the memory controllers wrote per server over the measurement window (64-byte lines), GB/s (= bytes/ns). */
  writtenGBpsPerServer: number;
  /** Media writes per server over the measurement window, GB/s: lines evicted from the write-combining buffers (0 until they fill). */
  mediaGBpsPerServer: number;
  ops: number;
}

export interface RowanKvBenchResult {
  /** Peak throughput of Rowan-KV / peak throughput of the baseline. */
  throughputRatioVsRpc: number;
  throughputRatioVsWrite: number;
  throughputRatioVsBatch: number;
  /** Baseline median PUT latency / Rowan-KV median PUT latency, at the highest offered load. */
  medianPutLatencyRatioVsRpc: number;
  medianPutLatencyRatioVsWrite: number;
  /** Batched WRITE median PUT latency / Rowan-KV's (the seed: about 1.5). */
  medianPutLatencyRatioBatchVsRowan: number;
  /** DLWA at the highest offered load, per mode. */
  dlwa: Record<Mode, number>;
  mediaPerPayloadByte: Record<Mode, number>;
  peakMops: Record<Mode, number>;
  /** Throughput vs latency: every point of every mode. */
  curves: Record<Mode, KvPoint[]>;
  params: Record<string, unknown>;
  wallMs: number;
}

export function runKvPoint(mode: Mode, threadsPerClient: number, o: { warmupNs: number; measureNs: number; keys: number; seed: number; pm?: Partial<PmDeviceParams> }): KvPoint {
  const servers = 6;
  const clients = 8;
  const proto = makeRowanKv('rowankv-bench', 'bench', mode);
  const opts = proto.options.parse(
    { replication: mode, shards: 96, replicas: 3, workers: 24, segmentBytes: 64 << 10, segments: 48, backupBuffers: 64, backupBufferBytes: 64 << 10, postBatch: 4, gcFreeSegments: 1, rpcThreads: 24, opDeadlineNs: 50_000_000, attemptTimeoutNs: 2_000_000 },
    'bench',
  );
  const cluster = new SimCluster({ servers, clients, network: NETWORK_100G, pm: { ...OPTANE_PRESET, ...(o.pm ?? {}) }, memoryCosts: DEFAULT_MEMORY_COSTS, ddio: false, crashPolicy: 'tear' }, o.seed);
  cluster.onBoot = (node, p) => {
    if (node.nodeId < servers) proto.server(p, cluster.info, opts);
  };
  cluster.bootAll();
  const startNs = 150_000;
  const windowStart = startNs + o.warmupNs;
  const endNs = windowStart + o.measureNs;
  const wl = parseWorkload({ kind: 'ycsb', ycsb: 'custom', mix: { read: 0.5, update: 0.5 }, distribution: 'uniform', keys: o.keys, valueSize: { kind: 'zippydb' }, opsPerClient: 0 });
  const invoked = new Map<number, HistoryEvent>();
  const putLat: number[] = [];
  const getLat: number[] = [];
  let ok = 0;
  const sink = {
    invoke(e: HistoryEvent) {
      invoked.set(e.process, e);
    },
    complete(e: HistoryEvent) {
      const inv = invoked.get(e.process);
      invoked.delete(e.process);
      const t = e.time ?? 0;
      if (inv === undefined || e.type !== 'ok' || t < windowStart || t >= endNs) return;
      ok++;
      (e.f === 'put' ? putLat : getLat).push(t - (inv.time ?? 0));
    },
  };
  const ids = new ProcessIds();
  let clientId = 0;
  for (const c of cluster.info.clients) {
    const p = cluster.nodes[c]!.platform!;
    for (let i = 0; i < threadsPerClient; i++) {
      const id = ++clientId;
      const client = proto.client(p, cluster.info, opts, id);
      p.rt.spawn(`client${id}`, function* (): Task<void> {
        yield* p.rt.sleep(startNs + (id % 97) * 50);
        yield* runClient(p, client, wl, { clientId: id, processIds: ids, sink, keepGoing: () => p.rt.now() < endNs, totalClients: clients * threadsPerClient });
      });
    }
  }
  const sum = (k: 'writtenLineBytes' | 'mediaBytes') => cluster.nodes.slice(0, servers).reduce((a, n) => a + n.device.counters[k], 0);
  cluster.sim.run(windowStart);
  const lines0 = sum('writtenLineBytes');
  const media0 = sum('mediaBytes');
  cluster.sim.run(endNs);
  const windowLines = sum('writtenLineBytes') - lines0;
  const windowMedia = sum('mediaBytes') - media0;
  if (cluster.sim.violation !== null) throw new Error(`rowankv bench (${mode}): ${cluster.sim.violation.message}`);
  // DLWA over the whole run, buffered lines drained at the end (a window too short to evict much
  // would otherwise read low).
  let written = 0;
  let payload = 0;
  let media = 0;
  for (const n of cluster.nodes.slice(0, servers)) {
    n.device.drain();
    written += n.device.counters.writtenLineBytes;
    payload += n.device.counters.writtenBytes;
    media += n.device.counters.mediaBytes;
  }
  return {
    clientThreads: clients * threadsPerClient,
    mops: round(ok / (o.measureNs / 1000)),
    putP50Ns: median(putLat),
    putP99Ns: quantile(putLat, 0.99),
    getP50Ns: median(getLat),
    dlwa: round(written === 0 ? 1 : media / written),
    mediaPerPayloadByte: round(payload === 0 ? 1 : media / payload),
    writtenGBpsPerServer: round(windowLines / o.measureNs / servers),
    mediaGBpsPerServer: round(windowMedia / o.measureNs / servers),
    ops: ok,
  };
}

export function benchRowanKv(opts: RowanKvBenchOptions): RowanKvBenchResult {
  const t0 = opts.clock();
  const o = { warmupNs: opts.warmupNs ?? 100_000, measureNs: opts.measureNs ?? 200_000, keys: opts.keys ?? 20_000, seed: opts.seed ?? 1, pm: opts.pm ?? {} };
  const tpc = opts.threadsPerClient ?? [1, 4, 12, 32, 64];
  const modes = opts.modes ?? MODES;
  const curves = {} as Record<Mode, KvPoint[]>;
  let done = 0;
  for (const m of modes) {
    curves[m] = tpc.map((t) => {
      opts.progress?.(done, modes.length * tpc.length, `${m} ${t * 8} client threads`);
      const r = runKvPoint(m, t, o);
      done++;
      return r;
    });
  }
  opts.progress?.(done, done, 'done');
  const peak = (m: Mode) => Math.max(...(curves[m] ?? []).map((x) => x.mops));
  const last = (m: Mode) => (curves[m] ?? [])[tpc.length - 1];
  const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? 0 : round(a / b));
  const peakMops = {} as Record<Mode, number>;
  const dlwa = {} as Record<Mode, number>;
  const mediaPerPayloadByte = {} as Record<Mode, number>;
  for (const m of modes) {
    peakMops[m] = peak(m);
    dlwa[m] = last(m)?.dlwa ?? 0;
    mediaPerPayloadByte[m] = last(m)?.mediaPerPayloadByte ?? 0;
  }
  return {
    throughputRatioVsRpc: ratio(peakMops.rowan, peakMops.rpc),
    throughputRatioVsWrite: ratio(peakMops.rowan, peakMops.write),
    throughputRatioVsBatch: ratio(peakMops.rowan, peakMops.batch),
    medianPutLatencyRatioVsRpc: ratio(last('rpc')?.putP50Ns, last('rowan')?.putP50Ns),
    medianPutLatencyRatioVsWrite: ratio(last('write')?.putP50Ns, last('rowan')?.putP50Ns),
    medianPutLatencyRatioBatchVsRowan: ratio(last('batch')?.putP50Ns, last('rowan')?.putP50Ns),
    dlwa,
    mediaPerPayloadByte,
    peakMops,
    curves,
    params: { servers: 6, clientMachines: 8, workersPerServer: 24, rpcThreadsPerServer: 24, shards: 96, replicas: 3, putFraction: 0.5, valueSize: 'zippydb (mean 90.8 B)', keys: o.keys, distribution: 'uniform', ddio: false, flush: 'read', network: '100g', pm: { ...OPTANE_PRESET, ...o.pm }, warmupNs: o.warmupNs, measureNs: o.measureNs, threadsPerClient: tpc },
    wallMs: Math.round(opts.clock() - t0),
  };
}

function median(xs: number[]): number {
  return quantile(xs, 0.5);
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
