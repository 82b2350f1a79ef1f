/**
 * Benchmark (b): RMA WRITE round trip of the native backend — post a signaled WRITE on an RC
 * QueuePair, wait for its completion (which means the data is placed at the target) — against
 * the same operation in plain C on the same provider (native/bench/c/rma_pingpong.c, compiled at
 * bench time), each against a target in another process. The C loop confirms placement the same
 * way the adapter does on that provider: FI_DELIVERY_COMPLETE, or (tcp) WRITE + an 8-byte READ.
 *
 * ratio = C µs per WRITE / addon µs per WRITE (a rate ratio).
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Future, type Platform, type Task } from '../../src/platform/index.js';
import { providerFromEnv, requireAddon } from '../addon.js';
import { NativeNode, settle } from '../adapter/node.js';
import { NativeScheduler } from '../adapter/scheduler.js';
import { fromHex } from '../adapter/wire.js';
import { compileC, freePort, median, nodeEntry, round, runThread, runToEnd, startUntil, stopChild } from './util.js';

export interface RmaBenchOptions {
  provider?: string;
  sizes?: number[];
  iterations?: number;
  runs?: number;
  /** Busy-poll budget of both sides' schedulers (the C loop busy-polls throughout). Default 10 ms. */
  spinNs?: number;
}

export interface RmaBenchSize {
  size: number;
  /** Mean µs per WRITE round trip of a run (median over runs). */
  addonUsecPerWrite: number;
  addonRuns: number[];
  /** The median single WRITE round trip (median over runs): insensitive to a busy machine's stalls. */
  addonMedianWriteUsec: number;
  cUsecPerWrite: number | null;
  cRuns: number[];
  ratio: number | null;
  /** Least disturbed runs (minimum over runs) and their ratio. */
  addonBestUsecPerWrite: number;
  cBestUsecPerWrite: number | null;
  bestRatio: number | null;
}

export interface RmaBenchResult {
  bench: 'native-rma';
  provider: string;
  libfabricProvider: string;
  deliveryComplete: boolean;
  spinNs: number;
  iterations: number;
  runs: number;
  sizes: RmaBenchSize[];
  ratio: number | null;
  commands: string[];
  notes: string[];
}

/** The C baseline: a target process, and one client process per run. */
interface CBaseline {
  run(size: number, iterations: number): Promise<number>;
  stop(): Promise<void>;
}

async function cBaseline(libfabricProvider: string, mode: 'delivery' | 'flush', iterations: number, commands: string[], notes: string[]): Promise<CBaseline | null> {
  let exe: string;
  try {
    exe = compileC('rma_pingpong', ['fabric']);
  } catch (e) {
    notes.push(`C baseline unavailable: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return null;
  }
  const port = await freePort();
  const { child, match } = await startUntil(exe, ['server', libfabricProvider, '127.0.0.1', String(port)], /READY (\d+) (\d+)/);
  commands.push(`${exe} server '${libfabricProvider}' 127.0.0.1 ${port} & ${exe} client '${libfabricProvider}' 127.0.0.1 ${port} <size> ${iterations} <key> <base> ${mode}`);
  return {
    run: async (size, n) => {
      const o = await runToEnd(exe, ['client', libfabricProvider, '127.0.0.1', String(port), String(size), String(n), match[1]!, match[2]!, mode]);
      return (JSON.parse(o.trim()) as { usecPerWrite: number }).usecPerWrite;
    },
    stop: () => stopChild(child),
  };
}

export async function benchNativeRma(opts: RmaBenchOptions = {}): Promise<RmaBenchResult> {
  requireAddon();
  const provider = opts.provider ?? providerFromEnv();
  const sizes = opts.sizes ?? [64, 4096];
  const iterations = opts.iterations ?? 10_000;
  const runs = opts.runs ?? 5;
  const commands: string[] = [];
  const notes: string[] = [];
  const dir = join(tmpdir(), `kvlab-bench-rma-${process.pid}`);
  const e = nodeEntry('echo-child');
  const spinNs = opts.spinNs ?? 10_000_000;
  const { child, match } = await startUntil(e.cmd, [...e.args, provider, join(dir, 'target')], /READY ([0-9a-f]+)/, { ...process.env, KVLAB_NATIVE_SPIN_NS: String(spinNs) });
  commands.push(`${e.cmd} ${e.args.join(' ')} ${provider} <dir>   # the target process`);
  const name = fromHex(match[1]!);
  const node = new NativeNode({ nodeId: 0, dataDir: join(dir, 'src'), provider, host: '127.0.0.1', port: 0, quiet: true, scheduler: new NativeScheduler({ spinNs }), peers: (n) => (n === 1 ? { name } : undefined) });
  const libfabricProvider = node.info.provider;
  const deliveryComplete = node.info.deliveryComplete;
  const addonRuns = new Map<number, number[]>(sizes.map((s) => [s, []]));
  const addonP50 = new Map<number, number[]>(sizes.map((s) => [s, []]));
  const cRuns = new Map<number, number[]>(sizes.map((s) => [s, []]));
  let c: CBaseline | null = null;
  try {
    const p = node.platform;
    const cq = p.fabric.createCq({ capacity: 64 });
    const conn = await runThread(p, () => p.fabric.connect(1, 'echo', { cq }, 5e9));
    if (conn === null) throw new Error('cannot connect to the target process');
    const rkey = new DataView(conn.privateData.buffer, conn.privateData.byteOffset).getUint32(0, true);
    const src = p.memory.dram('src', Math.max(...sizes));
    const loop = (size: number, n: number) =>
      runThread(p, function* (): Task<[number, number]> {
        const lat = new Float64Array(n);
        const t0 = p.rt.now();
        let last = t0;
        for (let k = 0; k < n; k++) {
          yield* conn.qp.write({ mem: src, offset: 0, length: size }, { rkey, offset: (k * 64) % (1 << 20) }, { wrId: k });
          const x = yield* cq.next(10e9);
          if (x === null || x.status !== 'success') throw new Error(`write ${k}: ${JSON.stringify(x)}`);
          const now = p.rt.now();
          lat[k] = now - last;
          last = now;
        }
        lat.sort();
        return [(last - t0) / 1e3 / n, lat[n >> 1]! / 1e3];
      });
    for (const size of sizes) await loop(size, Math.min(2000, iterations));
    // The C loop confirms placement the way the adapter does: delivery-complete, or WRITE + READ.
    c = await cBaseline(libfabricProvider, deliveryComplete ? 'delivery' : 'flush', iterations, commands, notes);
    // Interleaved: a busy machine weighs on both alike.
    for (let r = 0; r < runs; r++) {
      for (const size of sizes) {
        const [mean, p50] = await loop(size, iterations);
        addonRuns.get(size)!.push(mean);
        addonP50.get(size)!.push(p50);
        if (c !== null) {
          try {
            cRuns.get(size)!.push(await c.run(size, iterations));
          } catch (err) {
            notes.push(`C baseline, ${size} B, run ${r}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
          }
        }
      }
    }
  } finally {
    node.shutdown();
    await stopChild(child);
    await c?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const out: RmaBenchSize[] = sizes.map((size) => {
    const a = median(addonRuns.get(size)!);
    const cs = cRuns.get(size)!;
    const cm = cs.length > 0 ? median(cs) : null;
    return {
      size,
      addonUsecPerWrite: round(a),
      addonRuns: addonRuns.get(size)!.map((x) => round(x)),
      addonMedianWriteUsec: round(median(addonP50.get(size)!)),
      cUsecPerWrite: cm === null ? null : round(cm),
      cRuns: cs.map((x) => round(x)),
      ratio: cm === null ? null : round(cm / a),
      addonBestUsecPerWrite: round(Math.min(...addonRuns.get(size)!)),
      cBestUsecPerWrite: cs.length > 0 ? round(Math.min(...cs)) : null,
      bestRatio: cs.length > 0 ? round(Math.min(...cs) / Math.min(...addonRuns.get(size)!)) : null,
    };
  });
  return { bench: 'native-rma', provider, libfabricProvider, deliveryComplete, spinNs, iterations, runs, sizes: out, ratio: out[0]!.ratio, commands, notes };
}
