import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../../cli/commands/report.js';
import type { Io } from '../../cli/io.js';
import { loadRenderer } from '../../reports/render.js';

/**
 * `kvlab report rowan --quick` end to end: the seeded Rowan benches (microbenchmark, device
 * sensitivity, Rowan-KV vs its replication baselines) → PNG charts + markdown page + data.json in a
 * temporary directory. Skipped (with the reason) where the native `canvas` module cannot load —
 * the rest of kvlab does not need it.
 */

const why = await loadRenderer();
if (why !== null) console.warn(`test/reports: skipping the rowan report rendering test: ${why}`);

function captureIo(): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, isTty: false, stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) };
}

/** Width and height from a PNG's IHDR chunk, after checking the signature, the first chunk and the last. */
function pngSize(buf: Buffer): { width: number; height: number } {
  expect([...buf.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(buf.subarray(12, 16).toString('latin1')).toBe('IHDR');
  expect(buf.subarray(buf.length - 8, buf.length - 4).toString('latin1')).toBe('IEND');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

const CHARTS = ['dlwa-vs-streams.png', 'throughput-vs-streams.png', 'knee-wc-xpline.png', 'knee-dimms-bandwidth.png', 'sensitivity.png', 'kv-throughput-latency.png', 'kv-put-latency.png', 'kv-dlwa.png'];
const MODES = ['rowan', 'rpc', 'write', 'batch'];

describe.skipIf(why !== null)('kvlab report rowan --quick', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvlab-report-rowan-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders valid PNG charts, a page that references them, and data.json', async () => {
    const io = captureIo();
    const status = await reportCommand(['rowan', '--quick', '--out', dir, '--json'], io);
    expect(io.err).toEqual([]);
    expect(status).toBe(0);

    const summary = JSON.parse(io.out.join('\n')) as { report: string; headline: { writeDlwa: number; rowanDlwa: number; rowanThroughputRatio: number }; kv: Record<string, unknown>; violations: number; files: string[] };
    expect(summary.report).toBe('rowan');
    expect(summary.violations).toBe(0);
    expect(summary.headline.rowanThroughputRatio).toBeGreaterThan(0);
    for (const k of ['throughputRatioVsRpc', 'throughputRatioVsWrite', 'medianPutLatencyRatioVsRpc', 'medianPutLatencyRatioVsWrite']) expect(summary.kv[k]).toBeGreaterThan(0);

    // Every chart the page references exists and is a real PNG; every chart written is referenced.
    const md = readFileSync(join(dir, 'README.md'), 'utf8');
    const images = [...md.matchAll(/!\[[^\]]*\]\(([^)]+\.png)\)/g)].map((m) => m[1]!);
    expect([...images].sort()).toEqual([...CHARTS].sort());
    for (const f of images) {
      const path = join(dir, f);
      expect(existsSync(path), `${f} is referenced by the page but was not written`).toBe(true);
      expect(statSync(path).size, `${f} is suspiciously small`).toBeGreaterThan(8_000);
      const { width, height } = pngSize(readFileSync(path));
      expect(width).toBeGreaterThanOrEqual(400);
      expect(height).toBeGreaterThanOrEqual(200);
    }

    // The page: regenerate command, seed, simulated hardware, the seed's figures, the not-reproduced
    // section, and wall-clock figures only below "Measured on this machine".
    expect(md).toContain(`kvlab report rowan --quick --out ${dir}`);
    expect(md).toContain('every one with seed 1');
    expect(md).toContain('100 Gbit/s');
    expect(md).toContain('256 B XPLines, 64 write-combining lines per DIMM');
    for (const s of ['1.58×', '1.85×', '1.22×', '1.39×', '1.77×', '2.11×', '≈ 1.5×']) expect(md).toContain(s);
    expect(md).toContain('## What the model does not reproduce, and why');
    const measured = md.indexOf('## Measured on this machine');
    expect(measured).toBeGreaterThan(0);
    expect(md.slice(0, measured)).not.toMatch(/wall (time|second|clock)|wallMs/i);

    // data.json: deterministic (no wall-clock fields), every bench's points.
    const raw = readFileSync(join(dir, 'data.json'), 'utf8');
    expect(raw).not.toContain('wallMs');
    const data = JSON.parse(raw) as {
      report: string;
      seed: number;
      plan: { streams: number[]; sizes: number[]; curveStreams: number[]; threadsPerClient: number[] };
      comparison: { figure: string; verdict: string }[];
      microbenchmark: { streams: number[]; writeDlwa: number[]; rowanDlwa: number[]; rowanThroughputRatio: number; bySize: Record<string, { write: { dlwa: number; mops: number }[]; rowan: { dlwa: number; mops: number }[] }> };
      sensitivity: { change: string; writeDlwa: number; rowanDlwa: number; pm: { wcLinesPerDimm: number }; curve: { streams: number[]; write: unknown[]; rowan: unknown[] } }[];
      rowanKv: { curves: Record<string, { clientThreads: number; mops: number; putP50Ns: number; dlwa: number; mediaPerPayloadByte: number }[]>; dlwa: Record<string, number>; mediaPerPayloadByte: Record<string, number> };
    };
    expect(data.report).toBe('rowan');
    expect(data.seed).toBe(1);
    const m = data.microbenchmark;
    expect(m.streams).toEqual(data.plan.streams);
    expect(m.writeDlwa).toHaveLength(m.streams.length);
    expect(m.rowanDlwa).toHaveLength(m.streams.length);
    expect(Object.keys(m.bySize).map(Number)).toEqual([64, 128, 256, 512]);
    for (const s of Object.values(m.bySize)) {
      expect(s.write).toHaveLength(m.streams.length);
      expect(s.rowan).toHaveLength(m.streams.length);
      for (const p of [...s.write, ...s.rowan]) expect(p.dlwa).toBeGreaterThan(0);
    }
    expect(m.rowanThroughputRatio).toBeGreaterThan(0);
    expect(data.sensitivity.length).toBeGreaterThanOrEqual(8);
    for (const r of data.sensitivity) {
      expect(r.curve.streams).toEqual(data.plan.curveStreams);
      expect(r.curve.write).toHaveLength(r.curve.streams.length);
    }
    for (const mode of MODES) {
      expect(data.rowanKv.curves[mode]).toHaveLength(data.plan.threadsPerClient.length);
      for (const p of data.rowanKv.curves[mode]!) expect(p.mops).toBeGreaterThan(0);
      expect(data.rowanKv.dlwa[mode]).toBeGreaterThan(0);
      expect(data.rowanKv.mediaPerPayloadByte[mode]).toBeGreaterThan(0);
    }
    expect(data.comparison.length).toBeGreaterThanOrEqual(9);
    for (const c of data.comparison) expect(c.verdict).toMatch(/^(yes|partly|no)/);
  });
});
