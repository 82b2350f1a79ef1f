import { cpus } from 'node:os';
import { type DlwaPoint, type RowanDlwaResult, SENSITIVITY_VARIANTS, type SensitivityRow, benchRowanDlwa, benchRowanDlwaSensitivity } from '../sim/bench/rowan-dlwa.js';
import { type KvPoint, MODES, type Mode, type RowanKvBenchResult, benchRowanKv } from '../sim/bench/rowan-kv.js';
import { DEFAULT_MEMORY_COSTS } from '../sim/memory.js';
import { NETWORK_100G } from '../sim/network.js';
import { OPTANE_PRESET, type PmDeviceParams } from '../sim/pm-device.js';
import { rowanKvOptions } from '../src/protocols/rowan/kv/options.js';
import { Page, fmtRatio } from './markdown.js';
import type { ReportChart, ReportContext, ReportDefinition, ReportOutput } from './report.js';
import type { Series } from './render.js';

/**
 * `kvlab report rowan`: Rowan and Rowan-KV (seed 001) in the simulator — the DLWA / throughput
 * microbenchmark (RDMA WRITE into per-thread logs vs Rowan, 64–512 B, 1–288 streams), how the DLWA
 * knee depends on the PM device model, and Rowan-KV against RPC / RDMA WRITE / batched RDMA WRITE
 * replication. Every figure comes from the seeded bench functions of `sim/bench/rowan-dlwa.ts` and
 * `sim/bench/rowan-kv.ts` on one simulated hardware configuration (OPTANE_PRESET); nothing is tuned
 * per figure. The sensitivity study and the one diagnostic change one device parameter at a time
 * and are labelled as such.
 */

interface Plan {
  /** Microbenchmark: stream counts and object sizes (every size runs every stream count, both modes). */
  streams: number[];
  sizes: number[];
  /** Microbenchmark and sensitivity windows; undefined = the bench's defaults. */
  dlwaWarmupNs: number | undefined;
  dlwaMeasureNs: number | undefined;
  /** Sensitivity: the stream counts of each variant's curve. */
  curveStreams: number[];
  /** Rowan-KV: closed-loop client threads per client machine (8 machines). */
  threadsPerClient: number[];
  kvWarmupNs: number | undefined;
  kvMeasureNs: number | undefined;
  kvKeys: number | undefined;
}

const FULL: Plan = {
  streams: [1, 8, 18, 36, 54, 72, 90, 108, 126, 144, 162, 180, 198, 216, 252, 288],
  sizes: [64, 128, 256, 512],
  dlwaWarmupNs: undefined,
  dlwaMeasureNs: undefined,
  curveStreams: [18, 36, 54, 72, 90, 108, 126, 144, 162, 180, 198, 216, 252, 288],
  // The bench's default loads (1 … 64 per machine) plus 96 and 128, where the curves saturate.
  threadsPerClient: [1, 4, 12, 32, 64, 96, 128],
  kvWarmupNs: undefined,
  kvMeasureNs: undefined,
  kvKeys: undefined,
};

const QUICK: Plan = {
  streams: [1, 72, 144, 216],
  sizes: [64, 128, 256, 512],
  dlwaWarmupNs: 20_000,
  dlwaMeasureNs: 30_000,
  curveStreams: [72, 144, 216],
  threadsPerClient: [1, 12],
  kvWarmupNs: 20_000,
  kvMeasureNs: 30_000,
  kvKeys: 2_000,
};

const SEED = 1;
const HEADLINE = { streams: 144, size: 128 };
const CLIENT_MACHINES = 8;
const MODE_NAME: Record<Mode, string> = { rowan: 'Rowan-KV (Rowan)', rpc: 'RPC replication', write: 'RDMA WRITE replication', batch: 'batched RDMA WRITE' };
/** A curve "has a knee" at the first stream count where RDMA WRITE's DLWA exceeds this. */
const KNEE_DLWA = 1.05;

/** The seed's figures (seeds/001_*: abstract, §2.4 and the evaluation slides). */
const SEED_FIG = {
  writeDlwa: 1.58,
  rowanDlwa: 1.0,
  rowanThroughputRatio: 1.85,
  kvThroughputVsRpc: 1.22,
  kvThroughputVsWrite: 1.39,
  kvLatencyVsRpc: 1.77,
  kvLatencyVsWrite: 2.11,
  kvLatencyBatch: 1.5,
} as const;

type Verdict = 'yes' | 'partly (same direction, smaller effect)' | 'partly (same direction, larger effect)' | 'no';

/**
 * The reproduction criterion, stated on the page: a ratio x is compared with the seed's s through
 * the effect (x − 1 against s − 1). Within ±25% of the seed's effect: reproduced; same sign:
 * direction only; otherwise not. "≈ 1.0" is reproduced within ±0.05.
 */
function verdict(x: number, s: number): Verdict {
  if (s === 1) return Math.abs(x - 1) <= 0.05 ? 'yes' : 'no';
  const e = (x - 1) / (s - 1);
  if (e >= 0.75 && e <= 1.25) return 'yes';
  if (e > 1.25) return 'partly (same direction, larger effect)';
  if (e > 0) return 'partly (same direction, smaller effect)';
  return 'no';
}

function r2(x: number): string {
  return x.toFixed(2);
}

function ratio(a: number | undefined, b: number | undefined): number {
  return a === undefined || b === undefined || b === 0 ? 0 : a / b;
}

function us(ns: number): string {
  return (ns / 1000).toFixed(2);
}

function describePm(pm: PmDeviceParams): string {
  return `${pm.dimms} DIMMs, ${pm.xplineBytes} B XPLines, ${pm.wcLinesPerDimm} write-combining lines per DIMM (LRU), ${pm.mediaWriteBytesPerNs} GB/s media writes per DIMM, ${pm.interleaveBytes} B interleave`;
}

/** Short chart label of a sensitivity row. */
function shortChange(change: string): string {
  return change.startsWith('preset') ? 'preset' : change;
}

function knee(points: DlwaPoint[], streams: number[]): number | null {
  const i = points.findIndex((p) => p.dlwa > KNEE_DLWA);
  return i < 0 ? null : streams[i]!;
}

function stripWall<T extends { wallMs: number }>(r: T): Omit<T, 'wallMs'> {
  const { wallMs: _w, ...rest } = r;
  return rest;
}

export const rowanReport: ReportDefinition = {
  name: 'rowan',
  title: 'Rowan and Rowan-KV vs RDMA WRITE / RPC / batched replication: DLWA, throughput, latency (simulated)',
  defaultOut: 'reports/rowan',
  async run(ctx: ReportContext): Promise<ReportOutput> {
    const plan = ctx.quick ? QUICK : FULL;
    const modes = MODES;
    const kvPoints = modes.length * plan.threadsPerClient.length;
    const microTotal = plan.sizes.length * plan.streams.length * 2;
    const sensTotal = SENSITIVITY_VARIANTS.length * 2 * (1 + plan.curveStreams.filter((n) => n !== HEADLINE.streams).length);
    const total = microTotal + sensTotal + kvPoints + 2;
    const topTpc = plan.threadsPerClient[plan.threadsPerClient.length - 1]!;

    const c0 = ctx.cpuClock?.() ?? null;
    const t0 = ctx.clock();
    let running = '';
    const phase = (offset: number) => (done: number, _t: number, label: string) => {
      running = label;
      ctx.progress(Math.min(total - 1, offset + done), total, label);
    };
    const diagInterleave = 256;
    let sims: ReturnType<typeof runAll>;
    try {
      sims = runAll();
    } catch (e) {
      // The benches throw when a simulation ends in a violation (or cannot run): report which one.
      ctx.progress(total, total, 'failed');
      return failedOutput(ctx, running, e);
    }
    const { micro, sens, kv, diag } = sims;

    function runAll() {
      const micro = benchRowanDlwa({
        clock: ctx.clock,
        streams: plan.streams,
        sizes: plan.sizes,
        seed: SEED,
        headline: HEADLINE,
        ...(plan.dlwaWarmupNs === undefined ? {} : { warmupNs: plan.dlwaWarmupNs }),
        ...(plan.dlwaMeasureNs === undefined ? {} : { measureNs: plan.dlwaMeasureNs }),
        progress: phase(0),
      });
      const sens = benchRowanDlwaSensitivity({
        clock: ctx.clock,
        streams: HEADLINE.streams,
        size: HEADLINE.size,
        seed: SEED,
        curveStreams: plan.curveStreams,
        ...(plan.dlwaWarmupNs === undefined ? {} : { warmupNs: plan.dlwaWarmupNs }),
        ...(plan.dlwaMeasureNs === undefined ? {} : { measureNs: plan.dlwaMeasureNs }),
        progress: phase(microTotal),
      });
      const kvOpts = {
        clock: ctx.clock,
        seed: SEED,
        ...(plan.kvWarmupNs === undefined ? {} : { warmupNs: plan.kvWarmupNs }),
        ...(plan.kvMeasureNs === undefined ? {} : { measureNs: plan.kvMeasureNs }),
        ...(plan.kvKeys === undefined ? {} : { keys: plan.kvKeys }),
      };
      const kv = benchRowanKv({ ...kvOpts, threadsPerClient: plan.threadsPerClient, modes, progress: phase(microTotal + sensTotal) });
      // Diagnostic (not a figure): Rowan-KV and RDMA WRITE replication at the highest load with a
      // 256-B interleave, which spreads one sequential stream over all DIMMs.
      phase(microTotal + sensTotal + kvPoints)(0, 0, `diagnostic: rowan and write, ${topTpc * CLIENT_MACHINES} client threads, ${diagInterleave}-B interleave`);
      const diag = benchRowanKv({ ...kvOpts, threadsPerClient: [topTpc], modes: ['rowan', 'write'], pm: { interleaveBytes: diagInterleave } });
      return { micro, sens, kv, diag };
    }
    const totalWallMs = ctx.clock() - t0;
    const totalCpuMs = c0 === null ? null : ctx.cpuClock!() - c0;
    ctx.progress(total, total, 'done');

    // --- figures ---
    const charts: ReportChart[] = [];
    const page = new Page();
    const pm = micro.params.pm;
    const net = NETWORK_100G;
    const mc = DEFAULT_MEMORY_COSTS;
    const lat = net.latency;
    const latText = lat.kind === 'normal' ? `normal, mean ${lat.meanNs} ns, sd ${lat.sdNs} ns, min ${lat.minNs} ns` : JSON.stringify(lat);
    const kvDefaults = rowanKvOptions.parse({}, 'report');
    const kvParams = kv.params as { servers: number; workersPerServer: number; rpcThreadsPerServer: number; shards: number; replicas: number; keys: number; warmupNs: number; measureNs: number };
    const h = micro.headline;
    const size128 = micro.bySize[String(HEADLINE.size)]!;
    const sizeRatio = (i: number) => ratio(size128.rowan[i]!.mops, size128.write[i]!.mops);
    const reachIdx = plan.streams.findIndex((_, i) => sizeRatio(i) >= SEED_FIG.rowanThroughputRatio);
    const writeKnee128 = knee(size128.write, plan.streams);
    const knee64 = micro.bySize['64'] === undefined ? undefined : knee(micro.bySize['64'].write, plan.streams);
    const seedDlwaIdx = size128.write.findIndex((p) => p.dlwa >= SEED_FIG.writeDlwa);
    const seedDlwaAt = seedDlwaIdx < 0 ? null : plan.streams[seedDlwaIdx]!;
    const maxRowanDlwa = Math.max(...plan.sizes.flatMap((s) => micro.bySize[String(s)]!.rowan.map((p) => p.dlwa)));
    const row = (name: string): SensitivityRow => sens.rows.find((r) => r.change === name)!;
    const preset = sens.rows[0]!;
    const wc32 = row('WC 32 lines/DIMM');
    const wc128 = row('WC 128 lines/DIMM');
    const curves = kv.curves;
    const last = (m: Mode) => curves[m][curves[m].length - 1]!;
    const first = (m: Mode) => curves[m][0]!;
    const peakPoint = (m: Mode) => curves[m].reduce((a, b) => (b.mops > a.mops ? b : a));
    const topThreads = last('rowan').clientThreads;
    const lightThreads = first('rowan').clientThreads;
    const capacityGBps = pm.dimms * pm.mediaWriteBytesPerNs;
    const maxMediaGBps = Math.max(...modes.map((m) => Math.max(...curves[m].map((p) => p.mediaGBpsPerServer))));
    const dRowan = diag.curves.rowan[0]!;
    const dWrite = diag.curves.write[0]!;

    const cmp = [
      { fig: `DLWA, RDMA WRITE into per-thread logs, ${h.streams} streams × ${h.size} B`, seed: `${SEED_FIG.writeDlwa}×`, kv: h.writeDlwa, s: SEED_FIG.writeDlwa, note: writeKneeNote() },
      { fig: `DLWA, Rowan, ${h.streams} streams × ${h.size} B`, seed: '≈ 1.0', kv: h.rowanDlwa, s: SEED_FIG.rowanDlwa, note: `max over every size and stream count: ${r2(maxRowanDlwa)}` },
      { fig: `throughput, Rowan / RDMA WRITE, ${h.streams} streams × ${h.size} B`, seed: `${SEED_FIG.rowanThroughputRatio}×`, kv: micro.rowanThroughputRatio, s: SEED_FIG.rowanThroughputRatio, note: reachIdx >= 0 ? `${fmtRatio(sizeRatio(reachIdx))} from ${plan.streams[reachIdx]} streams on` : `at most ${fmtRatio(Math.max(...plan.streams.map((_, i) => sizeRatio(i))))} over ${plan.streams[0]}–${plan.streams[plan.streams.length - 1]} streams` },
      { fig: 'Rowan-KV throughput / RPC replication (peak)', seed: `${SEED_FIG.kvThroughputVsRpc}×`, kv: kv.throughputRatioVsRpc, s: SEED_FIG.kvThroughputVsRpc, note: `${r2(kv.peakMops.rowan)} vs ${r2(kv.peakMops.rpc)} Mops/s` },
      { fig: 'Rowan-KV throughput / RDMA WRITE replication (peak)', seed: `${SEED_FIG.kvThroughputVsWrite}×`, kv: kv.throughputRatioVsWrite, s: SEED_FIG.kvThroughputVsWrite, note: `${r2(kv.peakMops.rowan)} vs ${r2(kv.peakMops.write)} Mops/s` },
      { fig: `median PUT latency, RPC / Rowan-KV (${topThreads} client threads)`, seed: `${SEED_FIG.kvLatencyVsRpc}×`, kv: kv.medianPutLatencyRatioVsRpc, s: SEED_FIG.kvLatencyVsRpc, note: `${fmtRatio(ratio(first('rpc').putP50Ns, first('rowan').putP50Ns))} at ${lightThreads} threads` },
      { fig: `median PUT latency, RDMA WRITE / Rowan-KV (${topThreads} client threads)`, seed: `${SEED_FIG.kvLatencyVsWrite}×`, kv: kv.medianPutLatencyRatioVsWrite, s: SEED_FIG.kvLatencyVsWrite, note: `${fmtRatio(ratio(first('write').putP50Ns, first('rowan').putP50Ns))} at ${lightThreads} threads` },
      { fig: `median PUT latency, batched RDMA WRITE / Rowan-KV (${topThreads} client threads)`, seed: '≈ 1.5× ("50% more")', kv: kv.medianPutLatencyRatioBatchVsRowan, s: SEED_FIG.kvLatencyBatch, note: `${fmtRatio(ratio(first('batch').putP50Ns, first('rowan').putP50Ns))} at ${lightThreads} threads` },
    ].map((c) => ({ ...c, verdict: verdict(c.kv, c.s) }));
    // The KV DLWA claim is qualitative: RDMA WRITE replication amplifies ("severe DLWA"), Rowan-KV does not.
    const kvDlwaReproduced = kv.dlwa.write > 1.05 && Math.abs(kv.dlwa.rowan - 1) <= 0.1;
    const kvDlwaVerdict: Verdict = kvDlwaReproduced ? 'yes' : 'no';

    function writeKneeNote(): string {
      return `knee at ${writeKnee128 ?? `> ${plan.streams[plan.streams.length - 1]}`} streams (first DLWA > ${KNEE_DLWA}); ${seedDlwaAt === null ? `the seed's ${SEED_FIG.writeDlwa}× not reached` : `${SEED_FIG.writeDlwa}× reached at ${seedDlwaAt} streams (${r2(size128.write[seedDlwaIdx]!.dlwa)}×)`}`;
    }

    page.h1(`Rowan and Rowan-KV — simulated${ctx.quick ? ' (quick, CI-sized runs)' : ''}`);
    page.p(
      'Rowan (seed `001_*`) lands concurrent small remote writes from many senders into **one sequential PM write stream** (a shared',
      'multi-packet receive queue whose buffers are posted in increasing PM address order), one-sided on the data path; Rowan-KV',
      'replicates through it. This page compares (1) remote writes into per-thread logs by RDMA WRITE against Rowan on one PM server,',
      '(2) how that comparison depends on the PM device model, and (3) Rowan-KV against the same KV with RPC, RDMA WRITE and batched',
      'RDMA WRITE replication. Design: `docs/rowan.md`. Every number above the last section comes from a seeded, deterministic',
      'simulation (virtual time); only "Measured on this machine" holds wall-clock figures.',
    );
    if (ctx.quick) page.p('**Quick mode**: fewer points and short measurement windows, for CI; the figures are indicative only. Run without `--quick` for the report.');

    page.h2('Summary');
    page.bullets([
      `Microbenchmark, ${h.streams} streams × ${h.size} B: DLWA **${r2(h.writeDlwa)}×** for RDMA WRITE into per-thread logs (seed 1.58×), **${r2(h.rowanDlwa)}** for Rowan (seed ≈ 1.0); Rowan's throughput **${fmtRatio(micro.rowanThroughputRatio)}** RDMA WRITE's (seed 1.85×: ${reachIdx >= 0 ? `reached from ${plan.streams[reachIdx]} streams on` : 'not reached on this grid'}). Rowan's DLWA stays ${r2(maxRowanDlwa)} or below at every size and stream count.`,
      `The DLWA of per-thread logs has a knee where the streams' partly written XPLines, together with the local writers' lines, no longer fit the write-combining buffers (nominally ${pm.dimms} DIMMs × ${pm.wcLinesPerDimm} lines = ${pm.dimms * pm.wcLinesPerDimm} lines): ${writeKnee128 === null ? 'not within the grid' : `${writeKnee128} streams at ${h.size} B`}. Halving the write-combining capacity moves it to ${knee(wc32.curve!.write, plan.curveStreams) ?? '—'} streams and raises the ${h.streams}-stream DLWA to ${r2(wc32.writeDlwa)}× (throughput ratio ${fmtRatio(wc32.ratio)}); doubling it moves it to ${knee(wc128.curve!.write, plan.curveStreams) ?? `beyond ${plan.curveStreams[plan.curveStreams.length - 1]}`} streams (${r2(wc128.writeDlwa)}× at ${h.streams}).`,
      `Rowan-KV (50% PUT, ZippyDB sizes, ${kvParams.servers} servers, replication factor ${kvParams.replicas}): peak throughput **${fmtRatio(kv.throughputRatioVsRpc)}** RPC replication's (seed 1.22×) and **${fmtRatio(kv.throughputRatioVsWrite)}** RDMA WRITE's (seed 1.39×); median PUT latency of RPC / RDMA WRITE **${fmtRatio(kv.medianPutLatencyRatioVsRpc)} / ${fmtRatio(kv.medianPutLatencyRatioVsWrite)}** Rowan-KV's at ${topThreads} client threads (seed 1.77× / 2.11×); batching **${fmtRatio(kv.medianPutLatencyRatioBatchVsRowan)}** (seed ≈ 1.5×).`,
      `Not reproduced, or only partly (by the criterion below): ${[...cmp.filter((c) => c.verdict !== 'yes').map((c) => c.fig), ...(kvDlwaReproduced ? [] : ['DLWA in Rowan-KV'])].join('; ')}. The reasons, from the model, are in "What the model does not reproduce, and why": in the microbenchmark the model's knee is at ${writeKnee128 ?? '—'} streams, so ${h.streams} is only just past it; in the KV bench the servers are not media-bound (at most ${r2(maxMediaGBps)} GB/s of media writes per server, of ${capacityGBps} GB/s) and their write streams fit the write-combining buffers, and the model has no CPU contention.`,
    ]);

    page.h2('The seed\'s figures next to the simulated ones');
    page.table(
      ['figure', 'seed', 'kvlab', 'reproduced?', 'note'],
      [
        ...cmp.map((c) => [c.fig, c.seed, c.s === 1 ? r2(c.kv) : fmtRatio(c.kv), c.verdict, c.note]),
        ['DLWA in Rowan-KV: RDMA WRITE replication amplifies, Rowan-KV does not', '"severe DLWA" vs "largely eliminating DLWA"', `Rowan-KV ${r2(kv.dlwa.rowan)}, RDMA WRITE ${r2(kv.dlwa.write)}, RPC ${r2(kv.dlwa.rpc)}, batched ${r2(kv.dlwa.batch)}`, kvDlwaVerdict, `${topThreads} client threads; media bytes per payload byte ${r2(kv.mediaPerPayloadByte.rowan)} / ${r2(kv.mediaPerPayloadByte.write)} / ${r2(kv.mediaPerPayloadByte.rpc)} / ${r2(kv.mediaPerPayloadByte.batch)}`],
      ],
      ['left', 'left', 'right', 'left', 'left'],
    );
    page.p(
      '"Reproduced?" compares the effect, not the ratio: for a seed ratio s and a simulated ratio x, **yes** when x − 1 is within ±25% of s − 1',
      '(for "≈ 1.0": within ±0.05), **partly** when it has the same sign, **no** otherwise. Peak throughput is the highest throughput over the loads',
      `run (${plan.threadsPerClient.map((t) => t * CLIENT_MACHINES).join(', ')} client threads); the median PUT latency ratios are taken at the highest load, as \`kvlab bench rowankv\` does.`,
    );

    page.h2('Regenerate');
    page.code(ctx.command, 'sh');
    page.p(
      `Writes this page (\`README.md\`), the PNG charts and \`data.json\` (every point of every bench) into the output directory. ${microTotal + sensTotal + kvPoints + 2} simulations, **every one with seed ${SEED}**;`,
      'the same command on any machine gives the same page above the last section, the same `data.json` and the same charts. `--quick` runs CI-sized points; `--out DIR` picks the directory.',
      `The benches behind it: \`kvlab bench rowan-dlwa --json\` (\`benchRowanDlwa\`; its default grid is 8 stream counts, this page runs ${plan.streams.length}), \`benchRowanDlwaSensitivity\` and \`kvlab bench rowankv --json\` (\`benchRowanKv\`; its default loads go up to 512 client threads, this page runs ${plan.threadsPerClient.map((t) => t * CLIENT_MACHINES).join(', ')}) — the same functions, the same seed${ctx.quick ? ', but shorter windows and fewer keys in quick mode' : ''}.`,
    );

    page.h2('Simulated hardware (the same for every figure)');
    page.table(
      ['what', 'value'],
      [
        ['PM device (per server)', `Optane-like \`OPTANE_PRESET\`: ${describePm(OPTANE_PRESET)}; ${OPTANE_PRESET.dimms * OPTANE_PRESET.mediaWriteBytesPerNs} GB/s of media writes per server`],
        ['DLWA', 'media bytes ÷ bytes the memory controller wrote in 64-byte lines (as Optane\'s counters report it); "media bytes per payload byte" divides by the exact bytes instead'],
        ['network', `${net.bandwidthGbps} Gbit/s, one-way latency ${latText} (≈ 2 µs round trip), ${net.nicMessagesPerUs} messages/µs per NIC port, MTU ${net.mtuBytes} B, post ${net.postCostNs} ns, poll ${net.pollCostNs} ns`],
        ['remote persistence', 'DDIO off; every remote write is followed by an RDMA READ on the same QP (read-after-write flush), as in the seed'],
        ['memory costs', `DRAM ${mc.dramAccessNs} ns, PM store ${mc.pmStoreNs} ns, atomic ${mc.atomicNs} ns, copy ${mc.copyBytesPerNs} B/ns, persist ${mc.persistBaseNs} ns + ${mc.persistPerLineNs} ns/line, jitter ≤ ${mc.jitterNs} ns`],
        ['CPU', 'every simulated thread has its own core (no CPU contention; `compute` only delays the calling thread)'],
        ['microbenchmark', `1 PM server, ${micro.params.senderNodes} sender machines, N closed-loop remote streams (spread over the senders) writing S-byte objects: (a) RDMA WRITE, one 64 KiB log per stream; (b) Rowan, one instance, 64 × 64 KiB receive buffers, 64 B stride; meanwhile ${micro.params.localWriters} threads of the PM server append 256-B records to their own logs (the seed's "18 cores perform local sequential PM writes"). ${us(micro.params.warmupNs)} µs warm-up, ${us(micro.params.measureNs)} µs measured`],
        ['Rowan-KV', `${kvParams.servers} servers × ${kvParams.workersPerServer} worker threads (RPC replication: also ${kvParams.rpcThreadsPerServer} backup RPC threads per server, ${kvDefaults.rpcComputeNs} ns of CPU per replication RPC), ${kvParams.shards} shards (${(kvParams.shards * kvParams.replicas) / kvParams.servers} per server), replication factor ${kvParams.replicas}, ${CLIENT_MACHINES} client machines × ${plan.threadsPerClient.join(' / ')} closed-loop threads, 50% PUT / 50% GET, ${kvParams.keys.toLocaleString('en-US')} uniform keys, ZippyDB value sizes (mean 90.8 B); batching flushes at ${kvDefaults.batchBytes} B or ${us(kvDefaults.batchTimeoutNs)} µs; 150 µs start-up + ${us(kvParams.warmupNs)} µs warm-up, ${us(kvParams.measureNs)} µs measured; DLWA over the whole run, all servers, write-combining buffers drained at the end`],
        ['seed', `${SEED} for every simulation`],
      ],
      ['left', 'left'],
    );

    // ---------------- 1. microbenchmark ----------------
    page.h2('1. Rowan microbenchmark: DLWA and throughput vs concurrent streams');
    const sizeSeries = (metric: (p: DlwaPoint) => number): Series[] =>
      plan.sizes.flatMap((s, i) => [
        { label: `RDMA WRITE, ${s} B`, color: i, data: plan.streams.map((n, j) => [n, metric(micro.bySize[String(s)]!.write[j]!)] as [number, number]) },
        { label: `Rowan, ${s} B`, color: i, dashed: true, data: plan.streams.map((n, j) => [n, metric(micro.bySize[String(s)]!.rowan[j]!)] as [number, number]) },
      ]);
    charts.push({
      file: 'dlwa-vs-streams.png',
      spec: { kind: 'line', title: 'DLWA vs concurrent remote write streams — one PM server, 18 local writers', xLabel: 'concurrent remote streams', yLabel: 'DLWA (media bytes / bytes written)', series: sizeSeries((p) => p.dlwa) },
    });
    charts.push({
      file: 'throughput-vs-streams.png',
      spec: { kind: 'line', title: 'Remote-write throughput vs concurrent streams — durable writes (WRITE or SEND + READ)', xLabel: 'concurrent remote streams', yLabel: 'throughput (Mops/s, simulated)', series: sizeSeries((p) => p.mops) },
    });
    page.h3('DLWA');
    page.image('DLWA vs concurrent streams', 'dlwa-vs-streams.png');
    page.p('Solid: RDMA WRITE into one log per stream; dashed: Rowan (simulated, like every line on this page). Same colour = same object size.');
    const streamTable = (metric: (p: DlwaPoint) => string) =>
      page.table(
        ['object size, mode', ...plan.streams.map(String)],
        plan.sizes.flatMap((s) => (['write', 'rowan'] as const).map((m) => [`${s} B, ${m === 'write' ? 'RDMA WRITE' : 'Rowan'}`, ...micro.bySize[String(s)]![m].map(metric)])),
        ['left', ...plan.streams.map(() => 'right' as const)],
      );
    streamTable((p) => r2(p.dlwa));
    page.h3('Throughput');
    page.image('throughput vs concurrent streams', 'throughput-vs-streams.png');
    streamTable((p) => p.mops.toFixed(1));
    page.p('Throughput in Mops/s of durable remote writes (a write counts when its flush READ completes). Mean latency of one durable write, µs:');
    streamTable((p) => us(p.latencyNs));
    page.h3(`Headline: ${h.streams} streams × ${h.size} B`);
    page.table(
      ['figure', 'seed', 'kvlab'],
      [
        ['DLWA, RDMA WRITE', '1.58×', `${r2(h.writeDlwa)}×`],
        ['DLWA, Rowan', '≈ 1.0', r2(h.rowanDlwa)],
        ['throughput, RDMA WRITE / Rowan (Mops/s)', '—', `${h.writeMops.toFixed(1)} / ${h.rowanMops.toFixed(1)}`],
        ['throughput, Rowan / RDMA WRITE', '1.85×', fmtRatio(micro.rowanThroughputRatio)],
      ],
      ['left', 'left', 'right'],
    );
    {
      const i64 = micro.bySize['64'];
      const rowan64Max = i64 === undefined ? 0 : Math.max(...i64.rowan.map((p) => p.mops));
      page.p(
        `Reading the curves. A ${h.size}-B stream leaves its current XPLine partly written until its next write, a round trip later; in the write-combining buffer (an exact LRU of ${pm.wcLinesPerDimm} lines per DIMM) the line survives if fewer lines than that are inserted on its DIMM meanwhile. The other streams' open lines and every line the ${micro.params.localWriters} local writers fill (they write as fast as the media takes them) compete for the ${pm.dimms * pm.wcLinesPerDimm} lines, and open lines are not spread evenly over the DIMMs, so the knee — the first stream count where RDMA WRITE's DLWA exceeds ${KNEE_DLWA} — comes at ${writeKnee128 ?? '—'} streams at ${h.size} B${knee64 === undefined ? '' : ` (${knee64 ?? '—'} at 64 B)`}, below the nominal capacity; without the local writers it is at ${knee(row('no local writers').curve!.write, plan.curveStreams) ?? '—'} (section 2). Past the knee every remote line is evicted partly written and DLWA tends to XPLine ÷ object size (${pm.xplineBytes / 128} at 128 B, ${pm.xplineBytes / 64} at 64 B; the local writers' full lines keep the device-wide figure a little lower). Whole-XPLine writes (${plan.sizes.filter((x) => x % pm.xplineBytes === 0).join(', ')} B) never amplify.`,
        `Throughput follows DLWA once the media is the bottleneck: ${capacityGBps} GB/s of media writes shared by the local writers and the remote streams, and every amplified byte is wasted bandwidth. Rowan keeps its stream sequential whatever the number of senders, so its throughput keeps rising to the media or NIC limit (Rowan at 64 B: ${rowan64Max.toFixed(1)} Mops/s, the server NIC's ${net.nicMessagesPerUs} messages/µs shared by a SEND and a READ request per write). At 256 and 512 B both modes are media-bound with DLWA 1 and the curves coincide.`,
      );
    }

    // ---------------- 2. device model ----------------
    page.h2('2. The device model and how the DLWA knee depends on it');
    page.table(
      ['parameter', 'preset (`OPTANE_PRESET`)', 'what it is', 'what it moves'],
      [
        ['XPLine size', `${pm.xplineBytes} B`, 'media access granularity: an evicted line costs one media write of this size, however little of it was written', 'how much a half-written line costs (DLWA → XPLine / write size past the knee)'],
        ['write-combining capacity', `${pm.wcLinesPerDimm} XPLines per DIMM, LRU`, 'the XPBuffer: writes to a buffered line combine; a new line evicts the least recently used one', 'where the knee is: ≈ total capacity in open streams'],
        ['DIMMs', `${pm.dimms}`, 'each with its own buffer and media queue', 'total capacity (DIMMs × lines) and bandwidth'],
        ['interleaving', `${pm.interleaveBytes} B`, 'physical addresses rotate over the DIMMs in chunks of this size', 'how evenly streams spread (finer: each stream touches every DIMM)'],
        ['media write bandwidth', `${pm.mediaWriteBytesPerNs} GB/s per DIMM (${capacityGBps} GB/s per server)`, 'each DIMM writes one XPLine per XPLine / bandwidth ns; a write needing buffer space waits for the evicted line\'s slot', 'whether DLWA costs throughput (only when the media is the bottleneck)'],
      ],
      ['left', 'left', 'left', 'left'],
    );
    const curveSeries = (names: string[]): Series[] =>
      names.map((name, i) => {
        const r = row(name);
        return { label: shortChange(r.change), color: i, data: r.curve!.streams.map((n, j) => [n, r.curve!.write[j]!.dlwa] as [number, number]) };
      });
    const groupA = [preset.change, 'WC 32 lines/DIMM', 'WC 128 lines/DIMM', 'XPLine 512 B', 'no local writers'];
    const groupB = [preset.change, '1 DIMM', '6 DIMMs', 'interleave 256 B', 'media 1 GB/s/DIMM', 'media 4 GB/s/DIMM'];
    charts.push({
      file: 'knee-wc-xpline.png',
      spec: { kind: 'line', title: `RDMA WRITE DLWA vs streams (${h.size} B): write-combining capacity, XPLine size, local writers`, xLabel: 'concurrent remote streams', yLabel: 'DLWA, RDMA WRITE into per-thread logs', series: curveSeries(groupA) },
    });
    charts.push({
      file: 'knee-dimms-bandwidth.png',
      spec: { kind: 'line', title: `RDMA WRITE DLWA vs streams (${h.size} B): DIMMs, interleaving, media bandwidth`, xLabel: 'concurrent remote streams', yLabel: 'DLWA, RDMA WRITE into per-thread logs', series: curveSeries(groupB) },
    });
    charts.push({
      file: 'sensitivity.png',
      spec: {
        kind: 'bar',
        title: `${h.streams} streams × ${h.size} B, one device parameter changed at a time`,
        categories: sens.rows.map((r) => shortChange(r.change)),
        xLabel: 'device model',
        yLabel: 'ratio (×)',
        series: [
          { label: 'DLWA, RDMA WRITE', data: sens.rows.map((r) => r.writeDlwa) },
          { label: 'DLWA, Rowan', data: sens.rows.map((r) => r.rowanDlwa) },
          { label: 'throughput, Rowan / RDMA WRITE', data: sens.rows.map((r) => r.ratio) },
        ],
      },
    });
    page.image('RDMA WRITE DLWA knee vs write-combining capacity, XPLine size and local writers', 'knee-wc-xpline.png');
    page.image('RDMA WRITE DLWA knee vs DIMMs, interleaving and media bandwidth', 'knee-dimms-bandwidth.png');
    page.image(`sensitivity of the ${h.streams}-stream point`, 'sensitivity.png');
    page.p(
      `One parameter changed at a time from the preset (\`benchRowanDlwaSensitivity\`, ${h.size}-B objects, ${micro.params.localWriters} local writers unless noted). The knee is the first stream count (of ${plan.curveStreams.join(', ')}) where RDMA WRITE's DLWA exceeds ${KNEE_DLWA}; "open-line capacity" is DIMMs × write-combining lines. The curves above are RDMA WRITE's; Rowan's DLWA is in the last columns.`,
    );
    page.table(
      ['change', 'open-line capacity', 'knee (streams)', `WRITE DLWA @${h.streams}`, `Rowan DLWA @${h.streams}`, 'max Rowan DLWA on the curve', 'WRITE Mops/s', 'Rowan Mops/s', 'Rowan / WRITE'],
      sens.rows.map((r) => {
        const k = knee(r.curve!.write, r.curve!.streams);
        return [
          r.change,
          `${r.pm.dimms * r.pm.wcLinesPerDimm} lines`,
          k === null ? `> ${r.curve!.streams[r.curve!.streams.length - 1]}` : String(k),
          r2(r.writeDlwa),
          r2(r.rowanDlwa),
          r2(Math.max(...r.curve!.rowan.map((p) => p.dlwa))),
          r.writeMops.toFixed(1),
          r.rowanMops.toFixed(1),
          fmtRatio(r.ratio),
        ];
      }),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    );
    {
      const x512 = row('XPLine 512 B');
      const d1 = row('1 DIMM');
      const d6 = row('6 DIMMs');
      const il = row('interleave 256 B');
      const m1 = row('media 1 GB/s/DIMM');
      const m4 = row('media 4 GB/s/DIMM');
      const nl = row('no local writers');
      page.bullets([
        `**Write-combining capacity** places the knee: ${wc32.pm.wcLinesPerDimm} lines/DIMM → knee at ${knee(wc32.curve!.write, plan.curveStreams) ?? '—'} streams, ${h.streams}-stream DLWA ${r2(wc32.writeDlwa)}×, throughput ratio ${fmtRatio(wc32.ratio)}; ${wc128.pm.wcLinesPerDimm} lines/DIMM → ${knee(wc128.curve!.write, plan.curveStreams) === null ? 'no knee up to ' + plan.curveStreams[plan.curveStreams.length - 1] + ' streams' : `knee at ${knee(wc128.curve!.write, plan.curveStreams)}`}, DLWA ${r2(wc128.writeDlwa)}×, ratio ${fmtRatio(wc128.ratio)}.`,
        `**XPLine size** sets how much a half-written line costs and how long a line stays open: at ${x512.pm.xplineBytes} B, DLWA ${r2(x512.writeDlwa)}× at ${h.streams} streams (ratio ${fmtRatio(x512.ratio)}).`,
        `**DIMMs** scale capacity and bandwidth together: 1 DIMM → knee at ${knee(d1.curve!.write, plan.curveStreams) ?? '—'} streams, DLWA ${r2(d1.writeDlwa)}×, ratio ${fmtRatio(d1.ratio)}; 6 DIMMs → knee at ${knee(d6.curve!.write, plan.curveStreams) ?? '—'}, DLWA ${r2(d6.writeDlwa)}×, ratio ${fmtRatio(d6.ratio)} — the knee barely moves because with 64-KiB logs and a ${d6.pm.interleaveBytes}-B interleave every log starts on an even-numbered DIMM (64 KiB is 16 chunks and 16·s mod 6 is even), and streams writing at the same rate stay at similar offsets, so their open lines crowd onto 3 of the 6 buffers. **Finer interleaving** (${il.pm.interleaveBytes} B) spreads every stream over all DIMMs, so each DIMM sees more open lines: knee at ${knee(il.curve!.write, plan.curveStreams) ?? '—'}, DLWA ${r2(il.writeDlwa)}×, ratio ${fmtRatio(il.ratio)}.`,
        `**Media bandwidth** barely moves DLWA (${r2(m1.writeDlwa)}× at ${m1.pm.mediaWriteBytesPerNs} GB/s/DIMM, ${r2(m4.writeDlwa)}× at ${m4.pm.mediaWriteBytesPerNs}) but decides whether DLWA costs throughput: ratio ${fmtRatio(m1.ratio)} when the media is scarcer, ${fmtRatio(m4.ratio)} when it is not the bottleneck.`,
        `**Local writers** take buffer space and bandwidth: without them, DLWA ${r2(nl.writeDlwa)}× and ratio ${fmtRatio(nl.ratio)} at ${h.streams} streams.`,
        `Rowan's DLWA is ${r2(Math.max(...sens.rows.flatMap((r) => r.curve!.rowan.map((p) => p.dlwa))))} or below in every variant at every stream count: one sequential stream fills each XPLine before it is evicted, whatever the device parameters.`,
      ]);
    }

    // ---------------- 3. Rowan-KV ----------------
    page.h2('3. Rowan-KV vs RPC, RDMA WRITE and batched RDMA WRITE replication');
    charts.push({
      file: 'kv-throughput-latency.png',
      spec: {
        kind: 'line',
        title: `Rowan-KV: throughput vs median PUT latency — 50% PUT, ZippyDB sizes, ${kvParams.servers} servers, RF ${kvParams.replicas}`,
        xLabel: 'throughput (Mops/s, simulated)',
        yLabel: 'median PUT latency (µs)',
        series: modes.map((m, i) => ({ label: MODE_NAME[m], color: i, data: curves[m].map((p) => [p.mops, p.putP50Ns / 1000] as [number, number]) })),
      },
    });
    charts.push({
      file: 'kv-put-latency.png',
      spec: {
        kind: 'bar',
        title: 'Rowan-KV: median PUT latency per replication mode and load',
        categories: plan.threadsPerClient.map((t) => `${t * CLIENT_MACHINES} threads`),
        xLabel: 'closed-loop client threads',
        yLabel: 'median PUT latency (µs)',
        series: modes.map((m, i) => ({ label: MODE_NAME[m], color: i, data: curves[m].map((p) => p.putP50Ns / 1000) })),
      },
    });
    charts.push({
      file: 'kv-dlwa.png',
      spec: {
        kind: 'bar',
        title: `Rowan-KV: DLWA per replication mode (${topThreads} client threads, all servers, whole run)`,
        categories: modes.map((m) => MODE_NAME[m]),
        xLabel: 'replication',
        yLabel: 'ratio (×)',
        series: [
          { label: 'DLWA (media bytes / 64-B lines written)', data: modes.map((m) => kv.dlwa[m]) },
          { label: 'media bytes per payload byte', data: modes.map((m) => kv.mediaPerPayloadByte[m]) },
        ],
      },
    });
    page.h3('Throughput vs latency');
    page.image('throughput vs median PUT latency', 'kv-throughput-latency.png');
    page.table(
      ['client threads', ...modes.map((m) => `${MODE_NAME[m]}: Mops/s / PUT p50 µs`)],
      plan.threadsPerClient.map((_, i) => [curves.rowan[i]!.clientThreads, ...modes.map((m) => `${r2(curves[m][i]!.mops)} / ${us(curves[m][i]!.putP50Ns)}`)]),
      ['right', ...modes.map(() => 'right' as const)],
    );
    page.p('Each point is one simulation: 8 client machines × (threads / 8) closed-loop client threads, no think time. Every curve bends where its servers saturate; throughput is completed operations per µs of the measured window.');
    page.h3('Median PUT latency per mode');
    page.image('median PUT latency per mode and load', 'kv-put-latency.png');
    page.table(
      ['client threads', ...modes.map((m) => `${MODE_NAME[m]} PUT p50 / p99 µs`), 'RPC / Rowan-KV', 'RDMA WRITE / Rowan-KV', 'batched / Rowan-KV'],
      plan.threadsPerClient.map((_, i) => {
        const p = (m: Mode) => curves[m][i]!;
        return [p('rowan').clientThreads, ...modes.map((m) => `${us(p(m).putP50Ns)} / ${us(p(m).putP99Ns)}`), fmtRatio(ratio(p('rpc').putP50Ns, p('rowan').putP50Ns)), fmtRatio(ratio(p('write').putP50Ns, p('rowan').putP50Ns)), fmtRatio(ratio(p('batch').putP50Ns, p('rowan').putP50Ns))];
      }),
    );
    page.table(
      ['figure', 'seed', 'kvlab', 'reproduced?'],
      cmp.slice(3).map((c) => [c.fig, c.seed, fmtRatio(c.kv), c.verdict]),
      ['left', 'left', 'right', 'left'],
    );
    page.p(
      `Peak throughput per mode: ${modes.map((m) => `${MODE_NAME[m]} ${r2(kv.peakMops[m])} Mops/s (at ${peakPoint(m).clientThreads} threads)`).join(', ')}.`,
      `A PUT's critical path is the client's request, the primary's log append and persist, one replication round trip to both backups (Rowan: SEND + flush READ; RDMA WRITE: WRITE + flush READ; RPC: SEND, backup CPU, persist, reply; batched: the same as RDMA WRITE after waiting for the batch to fill or time out) and the reply. Batching adds up to ${us(kvDefaults.batchTimeoutNs)} µs of waiting at light load (batches rarely reach ${kvDefaults.batchBytes} B), which the seed's "50% more" PUT latency is about.`,
    );
    page.h3('DLWA per mode');
    page.image('DLWA per replication mode', 'kv-dlwa.png');
    page.table(
      ['mode', 'DLWA (64-B lines)', 'media bytes per payload byte', 'GB/s per server: lines written / media written', `media use (of ${capacityGBps} GB/s)`, 'peak Mops/s'],
      modes.map((m) => [MODE_NAME[m], r2(kv.dlwa[m]), r2(kv.mediaPerPayloadByte[m]), `${r2(last(m).writtenGBpsPerServer)} / ${r2(last(m).mediaGBpsPerServer)}`, `${Math.round((100 * last(m).mediaGBpsPerServer) / capacityGBps)}%`, r2(kv.peakMops[m])]),
      ['left', 'right', 'right', 'right', 'right'],
    );
    page.table(
      ['client threads', ...modes.map((m) => `${MODE_NAME[m]} DLWA / media per payload byte`)],
      plan.threadsPerClient.map((_, i) => [curves.rowan[i]!.clientThreads, ...modes.map((m) => `${r2(curves[m][i]!.dlwa)} / ${r2(curves[m][i]!.mediaPerPayloadByte)}`)]),
      ['right', ...modes.map(() => 'right' as const)],
    );
    page.p(
      'DLWA here is media bytes over the 64-byte lines the memory controller wrote (what Optane\'s counters report); "media bytes per payload byte" divides by the exact bytes. The primary logs (CPU-written), the RPC backups\' logs (CPU-written) and the RDMA WRITE baselines\' backup logs (NIC-written) pack entries at 8-byte alignment, so consecutive entries share a 64-B line that is written twice — two line writes for the memory controller, one media write after the write-combining buffer merged them: a packed log reads **below 1**. Rowan\'s frames land on a 64-B stride and never share a line (their padding counts as written lines), so Rowan-KV\'s backup log reads ≈ 1 and only its primary log pulls its figure below 1. RPC replication writes only CPU-flushed whole lines, so its two figures are equal. A log whose XPLines were evicted half-written would read above 1 in both columns.',
    );

    // ---------------- not reproduced ----------------
    page.h2('What the model does not reproduce, and why');
    page.p('Nothing was tuned per figure: every figure above uses `OPTANE_PRESET` and the bench configurations; the sensitivity study and the diagnostic below change one parameter and say so. For each figure marked "partly" or "no" above:');
    const why: string[] = [];
    const dlwaV = cmp[0]!.verdict;
    const thrV = cmp[2]!.verdict;
    if (dlwaV !== 'yes' || thrV !== 'yes') {
      why.push(
        `**Microbenchmark at ${h.streams} × ${h.size} B: DLWA ${r2(h.writeDlwa)}× (seed 1.58×), throughput ratio ${fmtRatio(micro.rowanThroughputRatio)} (seed 1.85×).** The curve has the seed's shape — flat at 1.0, a knee, Rowan at ${r2(h.rowanDlwa)} throughout — but in the model ${h.streams} streams are only just past the knee (${writeKnee128 ?? '—'} streams), and the seed's figures come a little further along the curve: DLWA ${SEED_FIG.writeDlwa}× ${seedDlwaAt === null ? 'is not reached on this grid' : `is reached at ${seedDlwaAt} streams`}, the throughput ratio ${SEED_FIG.rowanThroughputRatio}× ${reachIdx >= 0 ? `at ${plan.streams[reachIdx]} streams` : 'is not reached on this grid'}. The model's write-combining buffer is an exact, fully associative LRU of ${pm.wcLinesPerDimm} lines per DIMM; the real XPBuffer behaves smaller (it is shared with read-modify-write and prefetch traffic, and its replacement is not perfect LRU), so a real DIMM is further past its knee at ${h.streams} streams. With ${wc32.pm.wcLinesPerDimm} lines per DIMM the model gives ${r2(wc32.writeDlwa)}× and ${fmtRatio(wc32.ratio)} at ${h.streams} streams (sensitivity table), but which capacity matches a real DIMM cannot be derived from the seed, so the preset stays at ${pm.wcLinesPerDimm} and no figure uses another value.`,
      );
    }
    const kvWriteBad = cmp[4]!.verdict !== 'yes' || cmp[6]!.verdict !== 'yes';
    if (kvWriteBad || !kvDlwaReproduced) {
      why.push(
        `**Rowan-KV vs RDMA WRITE replication: throughput ${fmtRatio(kv.throughputRatioVsWrite)} (seed 1.39×), median PUT latency ratio ${fmtRatio(kv.medianPutLatencyRatioVsWrite)} (seed 2.11×), DLWA of RDMA WRITE ${r2(kv.dlwa.write)} (seed: severe).** In the seed, RDMA WRITE replication loses because its many per-remote-thread backup logs amplify and the amplified writes eat the DIMMs' bandwidth, which slows every persist and every flush READ. In the model neither condition holds: (1) **the servers are not media-bound** — at the highest load each server's media writes ${r2(last('write').mediaGBpsPerServer)} GB/s (RDMA WRITE) / ${r2(last('rowan').mediaGBpsPerServer)} GB/s (Rowan-KV) of the ${capacityGBps} GB/s its ${pm.dimms} DIMMs can take; (2) **their write streams fit the write-combining buffers** — ${kvParams.workersPerServer} primary-log threads plus at most ${(kvParams.servers - 1) * kvParams.workersPerServer} remote-thread logs per server, only those with a PUT in flight active, against ${pm.dimms * pm.wcLinesPerDimm} lines; RDMA WRITE replication writes ${r2(kv.mediaPerPayloadByte.write)} media bytes per payload byte (Rowan-KV ${r2(kv.mediaPerPayloadByte.rowan)}, its stride padding included), so its many logs do not amplify. So RDMA WRITE's extra streams cost neither bandwidth nor ACK latency, and its line-based DLWA is below 1 for the packing reason above. (The microbenchmark shows the effect where the model does saturate the media.)`,
      );
      if (kv.peakMops.rowan < 0.98 * kv.peakMops.write) {
        why.push(
          `**Rowan-KV slightly behind RDMA WRITE at saturation** (${r2(kv.peakMops.rowan)} vs ${r2(kv.peakMops.write)} Mops/s). Rowan's single sequential stream sits on one DIMM for each ${pm.interleaveBytes}-B interleave chunk, so at high rates that DIMM's media queue briefly delays the acknowledgements, while the per-thread logs spread over all DIMMs at once. Diagnostic (not a figure): the same bench at ${topThreads} client threads with a ${diagInterleave}-B interleave gives Rowan-KV ${r2(dRowan.mops)} and RDMA WRITE ${r2(dWrite.mops)} Mops/s (median PUT ${us(dRowan.putP50Ns)} vs ${us(dWrite.putP50Ns)} µs). Real DIMMs absorb such bursts in their write-pending queues; the model has none.`,
        );
      }
    }
    if (cmp[3]!.verdict !== 'yes' || cmp[5]!.verdict !== 'yes') {
      why.push(
        `**Rowan-KV vs RPC replication: throughput ${fmtRatio(kv.throughputRatioVsRpc)} (seed 1.22×), median PUT latency ratio ${fmtRatio(kv.medianPutLatencyRatioVsRpc)} (seed 1.77×).** Same direction, smaller effect: simulated threads never compete for cores, so RPC replication pays its backup-side execution (${kvDefaults.rpcComputeNs} ns of CPU + a persist + a reply SEND: ${fmtRatio(ratio(first('rpc').putP50Ns, first('rowan').putP50Ns))} Rowan-KV's median PUT latency at ${lightThreads} client threads) but none of the queueing for cores that backups busy with their own clients see in the seed. The baseline here has ${kvParams.rpcThreadsPerServer} backup RPC threads per server, as many as the worker threads.`,
      );
    }
    if (!kvDlwaReproduced) {
      why.push(
        `**DLWA in Rowan-KV** (Rowan-KV ${r2(kv.dlwa.rowan)}, RDMA WRITE ${r2(kv.dlwa.write)}, RPC ${r2(kv.dlwa.rpc)}, batched ${r2(kv.dlwa.batch)}): no mode amplifies, for the two reasons above (streams within the write-combining capacity, media not saturated); the ordering of the line-based figures reflects packing (shared 64-B lines written twice read below 1), not amplification. Media bytes per payload byte — ${modes.map((m) => `${MODE_NAME[m]} ${r2(kv.mediaPerPayloadByte[m])}`).join(', ')} — shows the same: Rowan-KV pays for its 64-B stride padding, nothing amplifies.`,
      );
    }
    if (cmp[7]!.verdict !== 'yes') {
      why.push(`**Batching's PUT latency** ${fmtRatio(kv.medianPutLatencyRatioBatchVsRowan)} Rowan-KV's at ${topThreads} threads (seed ≈ 1.5×): the batch waits up to ${us(kvDefaults.batchTimeoutNs)} µs for ${kvDefaults.batchBytes} B; how much of that a PUT sees depends on the load.`);
    }
    if (why.length === 0) why.push('Every figure is reproduced by the criterion above.');
    page.bullets(why);
    page.p(
      'What would reproduce the KV figures (proposals for `sim/`, not done here): a CPU model with contention (RPC backups queueing behind their own clients), and a write-combining buffer whose effective capacity shrinks under mixed traffic — the one change that moves both the microbenchmark\'s knee and RDMA WRITE replication\'s DLWA without a per-figure parameter.',
    );

    // ---------------- runs ----------------
    page.h2('Runs');
    page.p(`Every simulation uses seed ${SEED}; \`data.json\` holds every point (DLWA, media bytes per payload byte, write bandwidth, throughput, latency).`);
    page.table(
      ['bench function', 'simulations', 'configuration', 'seed'],
      [
        ['`benchRowanDlwa`', String(microTotal), `${plan.sizes.join(' / ')} B × ${plan.streams.length} stream counts (${plan.streams[0]}–${plan.streams[plan.streams.length - 1]}) × {RDMA WRITE, Rowan}; preset device; ${us(micro.params.warmupNs)} + ${us(micro.params.measureNs)} µs`, String(SEED)],
        ['`benchRowanDlwaSensitivity`', String(sensTotal), `${SENSITIVITY_VARIANTS.length} device variants × ${plan.curveStreams.length} stream counts × {RDMA WRITE, Rowan}, ${h.size} B`, String(SEED)],
        ['`benchRowanKv`', String(kvPoints), `${modes.length} replication modes × ${plan.threadsPerClient.length} loads (${plan.threadsPerClient.map((t) => t * CLIENT_MACHINES).join(', ')} client threads); preset device`, String(SEED)],
        ['`benchRowanKv` (diagnostic)', '2', `Rowan-KV and RDMA WRITE, ${topThreads} client threads, ${diagInterleave}-B interleave`, String(SEED)],
      ],
      ['left', 'right', 'left', 'right'],
    );

    // ---------------- measured ----------------
    page.rule();
    page.h2('Measured on this machine (wall clock; not deterministic)');
    page.p('Everything above is simulated and the same on any machine. The figures here describe only how long this machine took to generate the report.');
    page.table(
      ['what', 'value'],
      [
        ['wall time of all simulations', `${(totalWallMs / 1000).toFixed(1)} s`],
        ['microbenchmark (`benchRowanDlwa`)', `${(micro.wallMs / 1000).toFixed(1)} s`],
        ['sensitivity (`benchRowanDlwaSensitivity`)', `${(sens.wallMs / 1000).toFixed(1)} s`],
        ['Rowan-KV (`benchRowanKv`)', `${(kv.wallMs / 1000).toFixed(1)} s`],
        ['diagnostic', `${(diag.wallMs / 1000).toFixed(1)} s`],
        ...(totalCpuMs === null ? [] : [['CPU time of all simulations (this process)', `${(totalCpuMs / 1000).toFixed(1)} s`]]),
        ['node', process.version],
        ['CPU', `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length} (shared with other work while this ran)`],
      ],
      ['left', 'left'],
    );

    const summary = {
      report: 'rowan',
      quick: ctx.quick,
      headline: { streams: h.streams, size: h.size, writeDlwa: h.writeDlwa, rowanDlwa: h.rowanDlwa, rowanThroughputRatio: micro.rowanThroughputRatio },
      kv: {
        throughputRatioVsRpc: kv.throughputRatioVsRpc,
        throughputRatioVsWrite: kv.throughputRatioVsWrite,
        medianPutLatencyRatioVsRpc: kv.medianPutLatencyRatioVsRpc,
        medianPutLatencyRatioVsWrite: kv.medianPutLatencyRatioVsWrite,
        medianPutLatencyRatioBatchVsRowan: kv.medianPutLatencyRatioBatchVsRowan,
        dlwa: kv.dlwa,
        mediaPerPayloadByte: kv.mediaPerPayloadByte,
      },
      // The benches throw on a simulation violation, so a report that got here had none.
      violations: 0,
      simulations: microTotal + sensTotal + kvPoints + 2,
      wallMs: Math.round(totalWallMs),
    };
    const data = {
      report: 'rowan',
      quick: ctx.quick,
      seed: SEED,
      plan,
      hardware: { pm: OPTANE_PRESET, network: NETWORK_100G, memoryCosts: DEFAULT_MEMORY_COSTS, ddio: false, flush: 'read' },
      seedFigures: SEED_FIG,
      comparison: [
        ...cmp.map((c) => ({ figure: c.fig, seed: c.seed, kvlab: c.kv, verdict: c.verdict })),
        { figure: 'DLWA in Rowan-KV (RDMA WRITE amplifies, Rowan-KV does not)', seed: 'qualitative', kvlab: kv.dlwa, verdict: kvDlwaVerdict },
      ],
      microbenchmark: stripWall(micro) as Omit<RowanDlwaResult, 'wallMs'>,
      sensitivity: sens.rows,
      rowanKv: stripWall(kv) as Omit<RowanKvBenchResult, 'wallMs'>,
      diagnostic: { change: { interleaveBytes: diagInterleave }, clientThreads: topThreads, rowan: dRowan as KvPoint, write: dWrite as KvPoint },
    };
    return { page, charts, data, summary };
  },
};

/** The page when a simulation failed: which one (seed, configuration) and why; exit status 1. */
function failedOutput(ctx: ReportContext, running: string, e: unknown): ReportOutput {
  const message = (e as Error)?.message ?? String(e);
  const page = new Page();
  page.h1(`Rowan and Rowan-KV — simulated${ctx.quick ? ' (quick, CI-sized runs)' : ''}: a simulation failed`);
  page.p('A simulation ended in a violation or could not run, so no figure was computed. Rerun the command below after fixing it.');
  page.h2('Regenerate');
  page.code(ctx.command, 'sh');
  page.h2('Runs');
  page.table(['simulation', 'seed', 'result'], [[running === '' ? '(before the first simulation)' : running, String(SEED), `**failed**: ${message}`]], ['left', 'right', 'left']);
  return {
    page,
    charts: [],
    data: { report: 'rowan', quick: ctx.quick, seed: SEED, failed: { simulation: running, message } },
    summary: { report: 'rowan', quick: ctx.quick, violations: 1, failed: running, message },
  };
}
