/**
 * Benchmark (a): message round trip of the native backend vs libfabric's own fi_pingpong, on the
 * same provider, endpoint type (RDM) and message sizes, measured in one run.
 *
 * fi_pingpong (libfabric-bin) is run as two processes (server + client on 127.0.0.1) and its
 * "usec/xfer" (one-way time per transfer) is parsed. The addon side is kvlab's full stack: an RC
 * QueuePair of the adapter, SEND + RECV completions through coroutine threads, between this
 * process and an echo process (native/bench/echo-child.ts) — and, for reference, between two
 * nodes inside this process. Its time per transfer = round-trip time / 2.
 *
 * ratio = fi_pingpong µs per transfer / addon µs per transfer (a rate ratio; target ≥ 0.5).
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CompletionQueue, Future, type Memory, type Platform, type QueuePair, type Task } from '../../src/platform/index.js';
import { providerFromEnv, requireAddon } from '../addon.js';
import { LocalCluster, NativeNode, settle } from '../adapter/node.js';
import { NativeScheduler } from '../adapter/scheduler.js';
import { fromHex } from '../adapter/wire.js';
import { freePort, median, nodeEntry, round, runThread, runToEnd, startUntil, stopChild } from './util.js';

export interface MessageBenchOptions {
  provider?: string;
  sizes?: number[];
  iterations?: number;
  runs?: number;
  /** 'process': against an echo process (like fi_pingpong); 'inprocess': two nodes in this process. */
  modes?: ('process' | 'inprocess')[];
  /** Busy-poll budget of both sides' schedulers (fi_pingpong busy-polls throughout). Default 10 ms. */
  spinNs?: number;
}

export interface MessageBenchSize {
  size: number;
  fiPingpongUsecPerXfer: number;
  fiPingpongRuns: number[];
  /** The least disturbed run (the minimum): on a busy machine, closer to what an idle one gives. */
  fiPingpongBestUsecPerXfer: number;
  /**
   * usecPerXfer: mean time per transfer of a run (total / iterations / 2, as fi_pingpong reports);
   * medianRoundTripUsecPerXfer: half the median round trip (insensitive to a busy machine's stalls).
   */
  addon: { mode: 'process' | 'inprocess'; usecPerXfer: number; runs: number[]; ratio: number; medianRoundTripUsecPerXfer: number; bestUsecPerXfer: number; bestRatio: number }[];
}

export interface MessageBenchResult {
  bench: 'native-message';
  provider: string;
  libfabricProvider: string;
  iterations: number;
  runs: number;
  sizes: MessageBenchSize[];
  /** The headline: process mode at the first size. */
  ratio: number;
  target: number;
  spinNs: number;
  commands: string[];
}

function pingpongProvider(p: string): string {
  return p === 'tcp;ofi_rxm' ? 'tcp' : p === 'verbs;ofi_rxm' ? 'verbs' : p;
}

/** fi_pingpong prints sizes as 64, 4k, 1m. */
function pingpongSize(s: string): number {
  const m = /^(\d+)([km]?)$/.exec(s);
  if (m === null) return NaN;
  return Number(m[1]) * (m[2] === 'k' ? 1024 : m[2] === 'm' ? 1 << 20 : 1);
}

/** One fi_pingpong run (server + client processes); µs per transfer. */
export async function fiPingpong(provider: string, size: number, iterations: number): Promise<{ usec: number; command: string }> {
  const prov = pingpongProvider(provider);
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const common = ['-p', prov, '-e', 'rdm', '-I', String(iterations), '-S', String(size)];
    const server = startUntil('fi_pingpong', [...common, '-B', String(port)], /$^/, process.env, 60_000).catch(() => null);
    await new Promise((r) => setTimeout(r, 300));
    const command = `fi_pingpong ${common.join(' ')} -B ${port} & fi_pingpong ${common.join(' ')} -P ${port} 127.0.0.1`;
    try {
      const out = await runToEnd('fi_pingpong', [...common, '-P', String(port), '127.0.0.1'], 120_000);
      for (const line of out.split('\n')) {
        const f = line.trim().split(/\s+/);
        if (f.length >= 8 && pingpongSize(f[0]!) === size && Number.isFinite(Number(f[6]))) return { usec: Number(f[6]), command };
      }
      throw new Error(`fi_pingpong: cannot parse its output:\n${out}`);
    } catch (e) {
      if (attempt >= 2) throw e;
    } finally {
      void server;
    }
  }
}

interface Ping {
  qp: QueuePair;
  recvCq: CompletionQueue;
  buf: Memory;
  src: Memory;
  stride: number;
}

/** One timed run: mean µs per transfer (RTT / 2, like fi_pingpong's usec/xfer) and the median round trip's half. */
interface PingRun {
  meanUsec: number;
  p50Usec: number;
}

/** Ping side: `iterations` round trips of `size` bytes. */
function* pingLoop(p: Platform, g: Ping, size: number, iterations: number): Task<PingRun> {
  const { qp, recvCq, buf, src, stride } = g;
  const rtts = new Float64Array(iterations);
  const t0 = p.rt.now();
  let last = t0;
  for (let k = 0; k < iterations; k++) {
    yield* qp.send({ mem: src, offset: 0, length: size }, { signaled: false });
    for (;;) {
      const c = yield* recvCq.next(10e9);
      if (c === null) throw new Error('ping: no reply within 10 s');
      if (c.opcode !== 'recv') continue;
      if (c.status !== 'success' || c.byteLen !== size) throw new Error(`ping: bad reply ${JSON.stringify(c)}`);
      yield* qp.postRecv({ mem: buf, offset: c.wrId * stride, length: stride }, c.wrId);
      break;
    }
    const now = p.rt.now();
    rtts[k] = now - last;
    last = now;
  }
  rtts.sort();
  return { meanUsec: (last - t0) / 1e3 / iterations / 2, p50Usec: rtts[iterations >> 1]! / 1e3 / 2 };
}

/** A connected ping side (against an echo process, or an echo node in this process). */
interface Pinger {
  measure(size: number, iterations: number): Promise<PingRun>;
  stop(): Promise<void>;
}

async function pinger(mode: 'process' | 'inprocess', provider: string, sizes: number[], spinNs: number): Promise<Pinger> {
  const scheduler = new NativeScheduler({ spinNs });
  const dir = join(tmpdir(), `kvlab-bench-msg-${process.pid}-${mode}`);
  let node: NativeNode;
  let stop: () => Promise<void>;
  if (mode === 'process') {
    const e = nodeEntry('echo-child');
    const { child, match } = await startUntil(e.cmd, [...e.args, provider, join(dir, 'echo')], /READY ([0-9a-f]+)/, { ...process.env, KVLAB_NATIVE_SPIN_NS: String(spinNs) });
    const name = fromHex(match[1]!);
    node = new NativeNode({ nodeId: 0, dataDir: join(dir, 'ping'), provider, host: '127.0.0.1', port: 0, quiet: true, scheduler, peers: (n) => (n === 1 ? { name } : undefined) });
    stop = async () => {
      node.shutdown();
      await stopChild(child);
    };
  } else {
    const c = new LocalCluster({ nodes: 2, dataDir: dir, provider, quiet: true, scheduler });
    node = c.nodes[0]!;
    const echo = c.nodes[1]!.platform;
    const recvCq = echo.fabric.createCq({ capacity: 64 });
    const l = echo.fabric.listen('echo', { cq: echo.fabric.createCq({ capacity: 64, overrunIgnoring: true }), recvCq, recvCapacity: 16 });
    echo.rt.spawn('echo', function* (): Task<void> {
      const qp = yield* l.accept();
      if (qp === null) return;
      const buf = echo.memory.dram('echo', 16 * 65536);
      for (let i = 0; i < 16; i++) yield* qp.postRecv({ mem: buf, offset: i * 65536, length: 65536 }, i);
      for (;;) {
        const x = yield* recvCq.next();
        if (x === null || x.status !== 'success') return;
        yield* qp.send({ mem: buf, offset: x.wrId * 65536, length: x.byteLen }, { signaled: false });
        yield* qp.postRecv({ mem: buf, offset: x.wrId * 65536, length: 65536 }, x.wrId);
      }
    });
    stop = async () => c.shutdown();
  }
  const cleanup = async (): Promise<void> => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const p = node.platform;
    const cq = p.fabric.createCq({ capacity: 1024, overrunIgnoring: true });
    const recvCq = p.fabric.createCq({ capacity: 64 });
    const conn = await runThread(p, () => p.fabric.connect(1, 'echo', { cq, recvCq, recvCapacity: 8 }, 5e9));
    if (conn === null) throw new Error('cannot connect to the echo node');
    const stride = Math.max(64, ...sizes);
    const g: Ping = { qp: conn.qp, recvCq, buf: p.memory.dram('ping', 4 * stride), src: p.memory.dram('src', stride), stride };
    await runThread(p, function* (): Task<void> {
      for (let i = 0; i < 4; i++) yield* g.qp.postRecv({ mem: g.buf, offset: i * stride, length: stride }, i);
    });
    for (const size of sizes) await runThread(p, () => pingLoop(p, g, size, 2000));
    return { measure: (size, n) => runThread(p, () => pingLoop(p, g, size, n)), stop: cleanup };
  } catch (e) {
    await cleanup();
    throw e;
  }
}

export async function benchNativeMessage(opts: MessageBenchOptions = {}): Promise<MessageBenchResult> {
  requireAddon();
  const provider = opts.provider ?? providerFromEnv();
  const sizes = opts.sizes ?? [64, 4096];
  const iterations = opts.iterations ?? 10_000;
  const runs = opts.runs ?? 5;
  const modes = opts.modes ?? ['process', 'inprocess'];
  const probe = new (requireAddon().Nic)({ provider, host: '127.0.0.1', port: 0 });
  const libfabricProvider = probe.info().provider;
  probe.close();
  const commands: string[] = [];
  const spinNs = opts.spinNs ?? 10_000_000;
  // Runs are interleaved (fi_pingpong, then each addon mode, size by size, run after run) so a
  // busy machine weighs on both sides alike.
  const pp = new Map<number, number[]>(sizes.map((s) => [s, []]));
  const addon = new Map<string, Map<number, PingRun[]>>(modes.map((m) => [m, new Map(sizes.map((s) => [s, []]))]));
  const pingers = new Map<string, Pinger>();
  try {
    for (const m of modes) pingers.set(m, await pinger(m, provider, sizes, spinNs));
    for (let r = 0; r < runs; r++) {
      for (const size of sizes) {
        const x = await fiPingpong(libfabricProvider, size, iterations);
        pp.get(size)!.push(x.usec);
        if (r === 0) commands.push(x.command);
        for (const m of modes) addon.get(m)!.get(size)!.push(await pingers.get(m)!.measure(size, iterations));
      }
    }
  } finally {
    for (const pg of pingers.values()) await pg.stop();
  }
  const out: MessageBenchSize[] = sizes.map((size) => {
    const ppm = median(pp.get(size)!);
    return {
      size,
      fiPingpongUsecPerXfer: round(ppm),
      fiPingpongRuns: pp.get(size)!.map((x) => round(x)),
      fiPingpongBestUsecPerXfer: round(Math.min(...pp.get(size)!)),
      addon: modes.map((mode) => {
        const xs = addon.get(mode)!.get(size)!;
        const u = median(xs.map((x) => x.meanUsec));
        const best = Math.min(...xs.map((x) => x.meanUsec));
        return {
          mode,
          usecPerXfer: round(u),
          runs: xs.map((x) => round(x.meanUsec)),
          ratio: round(ppm / u),
          medianRoundTripUsecPerXfer: round(median(xs.map((x) => x.p50Usec))),
          bestUsecPerXfer: round(best),
          bestRatio: round(Math.min(...pp.get(size)!) / best),
        };
      }),
    };
  });
  return {
    bench: 'native-message',
    provider,
    libfabricProvider,
    iterations,
    runs,
    sizes: out,
    ratio: out[0]!.addon[0]!.ratio,
    target: 0.5,
    spinNs,
    commands,
  };
}
