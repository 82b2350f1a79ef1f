import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from './markdown.js';
import { type ChartSpec, renderChart } from './render.js';

/**
 * What a report is, and how one is written out. A report (reports/lolkv.ts, later reports/rowan.ts)
 * is a `ReportDefinition`: it runs its seeded simulations, then returns a page, its charts and its
 * data; `writeReport` renders the charts to PNG and writes `<out>/README.md` (the page), the PNGs,
 * and `<out>/data.json`. Register a new report in reports/index.ts; `kvlab report <name>` finds it.
 *
 * Determinism: everything a report computes comes from seeded simulations, so the page, the data
 * and the charts are the same on every machine — except the section the report builds from
 * `measured` (wall-clock figures), which it keeps apart under a "Measured on this machine" heading.
 */

export interface ReportContext {
  /** CI-sized runs. */
  quick: boolean;
  /** Wall-clock milliseconds (only for the "measured on this machine" section). */
  clock: () => number;
  /** CPU milliseconds of this process, if the caller can tell (same section). */
  cpuClock?: () => number;
  /** Progress of the simulations: done of total, and what is running. */
  progress: (done: number, total: number, label: string) => void;
  /** The command line that regenerates this report (shown on the page). */
  command: string;
}

export interface ReportChart {
  /** File name in the output directory, e.g. "throughput-vs-threads.png". */
  file: string;
  spec: ChartSpec;
}

export interface ReportOutput {
  /** Markdown page (references the charts by file name). */
  page: Page;
  charts: ReportChart[];
  /** Machine-readable results (deterministic). */
  data: unknown;
  /** Headline figures for `--json` / the terminal. */
  summary: Record<string, unknown>;
}

export interface ReportDefinition {
  name: string;
  title: string;
  /** Default output directory (relative to the working directory). */
  defaultOut: string;
  run(ctx: ReportContext): Promise<ReportOutput>;
}

export interface WrittenReport {
  dir: string;
  markdown: string;
  charts: string[];
  data: string;
}

/** Renders the charts and writes the page, the PNGs and data.json into `dir` (created if needed). */
export async function writeReport(out: ReportOutput, dir: string): Promise<WrittenReport> {
  mkdirSync(dir, { recursive: true });
  const charts: string[] = [];
  for (const c of out.charts) {
    const png = await renderChart(c.spec);
    const path = join(dir, c.file);
    writeFileSync(path, png);
    charts.push(path);
  }
  const markdown = join(dir, 'README.md');
  writeFileSync(markdown, out.page.toString());
  const data = join(dir, 'data.json');
  writeFileSync(data, `${JSON.stringify(out.data, null, 1)}\n`);
  return { dir, markdown, charts, data };
}
