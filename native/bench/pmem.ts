/**
 * Benchmark (c): the PM persist path of the native backend vs a plain C loop of
 * pmem_memcpy_persist on the same file (native/bench/c/pmem_loop.c, compiled at bench time).
 *
 * The addon's persist path: JavaScript stores into the mapped file (an external ArrayBuffer over
 * the pmem_map_file mapping; writes of 256 B or more through pmem_memcpy_nodrain, as
 * pmem_memcpy_persist does) followed by the addon's persist (pmem_persist) — exactly what
 * Memory.write + Memory.persist execute, without their scheduling points. That is the headline
 * ratio. Also measured: the same through a coroutine thread on the native scheduler (the protocol
 * path, two scheduling points per op), and as one addon call (pmem_memcpy_persist from JS). Both sides use cache-line flushes (pmem_persist / pmem_memcpy_persist): the
 * adapter's persist mode is set to `flush`, so the comparison holds on a machine without real PM,
 * where the adapter's default (`auto`) uses pmem_msync instead — that pair (C memcpy + pmem_msync
 * vs the adapter in auto mode) is measured as well, with fewer iterations.
 *
 * ratio = C ns per op / addon ns per op (a rate ratio; target ≥ 0.8).
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Future, type Task } from '../../src/platform/index.js';
import { requireAddon } from '../addon.js';
import { NativeMemory, NativeMemoryProvider, type PersistMode, regionFileName } from '../adapter/memory.js';
import { NativeScheduler, NativeThread, type ThreadOwner } from '../adapter/scheduler.js';
import { settle } from '../adapter/node.js';
import { compileC, median, round, runToEnd } from './util.js';

export interface PmemBenchOptions {
  sizes?: number[];
  iterations?: number;
  runs?: number;
  /** Directory of the PM file (a DAX mount for real PM). Default: env KVLAB_PMEM_DIR, else the OS temp dir. */
  dir?: string;
  /** Also compare the msync path (default true when the file is not real PM). */
  msync?: boolean;
}

export interface PmemBenchRow {
  size: number;
  mode: 'flush' | 'msync';
  iterations: number;
  cNsPerOp: number;
  cRuns: number[];
  /** The addon's persist path: the same stores and persist from JavaScript (writeNow + persistNow), no scheduling point. */
  addonNsPerOp: number;
  addonRuns: number[];
  /** C / addon: the headline ratio. */
  ratio: number;
  /** Memory.write + Memory.persist in a coroutine thread on the native scheduler (the protocol path: two scheduling points). */
  coroutineNsPerOp: number;
  coroutineRuns: number[];
  coroutineRatio: number;
  /** One addon call from JavaScript (pmem_memcpy_persist / memcpy + pmem_msync). */
  fusedNsPerOp: number;
  /** Least disturbed runs (minimum over runs) and their ratio. */
  cBestNsPerOp: number;
  addonBestNsPerOp: number;
  bestRatio: number;
}

export interface PmemBenchResult {
  bench: 'native-pmem';
  file: string;
  isPmem: boolean;
  runs: number;
  rows: PmemBenchRow[];
  /** The headline: flush mode at the first size. */
  ratio: number;
  target: number;
  commands: string[];
}

const REGION_BYTES = 16 << 20;

function owner(): ThreadOwner {
  return {
    nodeId: 0,
    epoch: 0,
    liveThreads: 0,
    panic: (_t, e) => {
      throw e;
    },
  };
}

function offsets(size: number): (i: number) => number {
  const step = Math.ceil(size / 64) * 64;
  const span = REGION_BYTES - size - ((REGION_BYTES - size) % 64);
  return (i) => (i * step) % span;
}

async function adapterLoop(sched: NativeScheduler, mem: NativeMemory, size: number, iterations: number): Promise<number> {
  const src = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
  const off = offsets(size);
  const done = new Future<number>();
  const t = new NativeThread(sched, owner(), 'pm-bench', (function* (): Task<void> {
    const t0 = sched.now();
    for (let i = 0; i < iterations; i++) {
      src[0] = i & 0xff;
      const o = off(i);
      yield* mem.write(o, src);
      yield* mem.persist(o, size);
    }
    done.resolve((sched.now() - t0) / iterations);
  })());
  t.start();
  return settle(done, 600_000);
}

function directLoop(mem: NativeMemory, size: number, iterations: number, fused: boolean): number {
  const src = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
  const off = offsets(size);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    src[0] = i & 0xff;
    const o = off(i);
    if (fused) mem.memcpyPersistNow(o, src);
    else {
      mem.writeNow(o, src);
      mem.persistNow(o, size);
    }
  }
  return Number(process.hrtime.bigint() - t0) / iterations;
}

async function rows(mode: 'flush' | 'msync', dir: string, sizes: number[], iterations: number, runs: number, commands: string[]): Promise<{ rows: PmemBenchRow[]; isPmem: boolean; file: string }> {
  const addon = requireAddon();
  const exe = compileC('pmem_loop', ['pmem']);
  // The adapter's mode: flush vs the C pmem_memcpy_persist loop; auto vs the C memcpy + pmem_msync loop.
  const adapterMode: PersistMode = mode === 'flush' ? 'flush' : 'auto';
  const provider = new NativeMemoryProvider(addon, join(dir, mode), adapterMode);
  const mem = provider.pm('bench', REGION_BYTES) as NativeMemory;
  const file = join(dir, mode, regionFileName('bench'));
  const sched = new NativeScheduler({ spinNs: 0 });
  const out: PmemBenchRow[] = [];
  commands.push(`${exe} ${file} <size> ${iterations} ${mode}`);
  try {
    for (const size of sizes) {
      const cs: number[] = [];
      const co: number[] = [];
      const ds: number[] = [];
      const fs: number[] = [];
      await adapterLoop(sched, mem, size, Math.min(iterations, 2000));
      directLoop(mem, size, Math.min(iterations, 2000), false);
      for (let r = 0; r < runs; r++) {
        cs.push((JSON.parse((await runToEnd(exe, [file, String(size), String(iterations), mode])).trim()) as { nsPerOp: number }).nsPerOp);
        ds.push(directLoop(mem, size, iterations, false));
        co.push(await adapterLoop(sched, mem, size, iterations));
        fs.push(directLoop(mem, size, iterations, true));
      }
      const c = median(cs);
      const d = median(ds);
      const k = median(co);
      out.push({
        size,
        mode,
        iterations,
        cNsPerOp: round(c, 1),
        cRuns: cs.map((x) => round(x, 1)),
        addonNsPerOp: round(d, 1),
        addonRuns: ds.map((x) => round(x, 1)),
        ratio: round(c / d),
        coroutineNsPerOp: round(k, 1),
        coroutineRuns: co.map((x) => round(x, 1)),
        coroutineRatio: round(c / k),
        fusedNsPerOp: round(median(fs), 1),
        cBestNsPerOp: round(Math.min(...cs), 1),
        addonBestNsPerOp: round(Math.min(...ds), 1),
        bestRatio: round(Math.min(...cs) / Math.min(...ds)),
      });
    }
  } finally {
    provider.close();
  }
  return { rows: out, isPmem: mem.isRealPm, file };
}

export async function benchNativePmem(opts: PmemBenchOptions = {}): Promise<PmemBenchResult> {
  requireAddon();
  const sizes = opts.sizes ?? [64, 256, 4096];
  const iterations = opts.iterations ?? 100_000;
  const runs = opts.runs ?? 5;
  const base = opts.dir ?? process.env['KVLAB_PMEM_DIR'] ?? tmpdir();
  const dir = join(base, `kvlab-bench-pmem-${process.pid}`);
  const commands: string[] = [];
  try {
    const flush = await rows('flush', dir, sizes, iterations, runs, commands);
    const all = [...flush.rows];
    if (opts.msync ?? !flush.isPmem) {
      const ms = await rows('msync', dir, sizes, Math.max(50, Math.floor(iterations / 500)), Math.min(runs, 3), commands);
      all.push(...ms.rows);
    }
    return { bench: 'native-pmem', file: flush.file, isPmem: flush.isPmem, runs, rows: all, ratio: flush.rows[0]!.ratio, target: 0.8, commands };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
