import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../../cli/commands/report.js';
import { InputError } from '../../cli/errors.js';
import type { Io } from '../../cli/io.js';
import { loadRenderer } from '../../reports/render.js';

/**
 * `kvlab report lolkv --quick` end to end: seeded simulations → PNG charts + markdown page +
 * data.json in a temporary directory. Skipped (with the reason) where the native `canvas` module
 * cannot load — the rest of kvlab does not need it.
 */

const why = await loadRenderer();
if (why !== null) console.warn(`test/reports: skipping the report rendering tests: ${why}`);

function captureIo(): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, isTty: false, stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) };
}

/** Width and height from a PNG's IHDR chunk, after checking the signature and the chunk name. */
function pngSize(buf: Buffer): { width: number; height: number } {
  expect([...buf.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(buf.subarray(12, 16).toString('latin1')).toBe('IHDR');
  expect(buf.subarray(buf.length - 8, buf.length - 4).toString('latin1')).toBe('IEND');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

describe.skipIf(why !== null)('kvlab report lolkv --quick', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kvlab-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders valid PNG charts and a markdown page that references them', async () => {
    const io = captureIo();
    const status = await reportCommand(['lolkv', '--quick', '--out', dir, '--json'], io);
    expect(io.err).toEqual([]);
    expect(status).toBe(0);

    const summary = JSON.parse(io.out.join('\n')) as { throughputRatioVsMu: Record<string, number>; violations: number; files: string[] };
    expect(summary.violations).toBe(0);
    for (const w of ['A', 'B', 'C']) expect(summary.throughputRatioVsMu[w]).toBeGreaterThan(0);

    const md = readFileSync(join(dir, 'README.md'), 'utf8');
    const images = [...md.matchAll(/!\[[^\]]*\]\(([^)]+\.png)\)/g)].map((m) => m[1]!);
    expect(images.length).toBeGreaterThanOrEqual(5);
    for (const f of ['throughput-vs-threads.png', 'latency.png', 'ycsb-abc.png', 'skew-zipf.png', 'skew-hotshard.png']) expect(images).toContain(f);
    for (const f of images) {
      const path = join(dir, f);
      expect(existsSync(path), `${f} is referenced by the page but was not written`).toBe(true);
      expect(statSync(path).size, `${f} is suspiciously small`).toBeGreaterThan(8_000);
      const { width, height } = pngSize(readFileSync(path));
      expect(width).toBeGreaterThanOrEqual(400);
      expect(height).toBeGreaterThanOrEqual(200);
    }

    // The page states how to regenerate it, the simulated hardware, the seeds, and keeps wall-clock figures apart.
    expect(md).toContain(`kvlab report lolkv --quick --out ${dir}`);
    expect(md).toContain('56 Gbit/s');
    expect(md).toMatch(/\| lolkv \| 8 \| 64 \| YCSB-A, uniform \| 200 \| 1 \|/);
    const measured = md.indexOf('## Measured on this machine');
    expect(measured).toBeGreaterThan(0);
    expect(md.slice(0, measured)).not.toMatch(/wall (time|second)/i);

    const data = JSON.parse(readFileSync(join(dir, 'data.json'), 'utf8')) as { points: { traceHash: string; result: string }[] };
    expect(data.points.length).toBeGreaterThan(10);
    for (const p of data.points) expect(p.result).toBe('ok');
  });

  it('rejects an unknown report as bad input', async () => {
    await expect(reportCommand(['nope'], captureIo())).rejects.toBeInstanceOf(InputError);
  });
});
