/**
 * PNG charts with chart.js through chartjs-node-canvas. This is the only place that loads `canvas`
 * (a native module compiled from source): the simulator and the rest of the CLI never need it.
 * It is loaded lazily, so `kvlab` starts without it and a missing build is one clear error.
 *
 * Charts are described by a small spec (line or bar, series of numbers), not by chart.js
 * configuration, so every report draws with the same look: white background, fixed palette,
 * fixed size, no animation — the same data gives the same PNG.
 */

export interface Series {
  label: string;
  /** One value per category (bar, or line with categories), or [x, y] pairs (line with a numeric x axis). */
  data: (number | null)[] | [number, number][];
  /** Dashed line (e.g. a derived, not simulated, series). */
  dashed?: boolean;
  /** Palette index (default: position in the chart). */
  color?: number;
}

export interface ChartSpec {
  kind: 'line' | 'bar';
  title: string;
  /** Category labels (bar charts, or line charts over categories). Omit for a numeric x axis. */
  categories?: string[];
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** y axis starts at zero (default true). */
  yFromZero?: boolean;
  /** Logarithmic y axis. */
  yLog?: boolean;
  width?: number;
  height?: number;
}

/** Colour-blind-safe palette (Okabe–Ito). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#F0E442', '#000000'];

type ChartJSNodeCanvasCtor = new (opts: { width: number; height: number; backgroundColour?: string }) => {
  renderToBuffer(config: unknown, mimeType?: 'image/png'): Promise<Buffer>;
};

let ctor: ChartJSNodeCanvasCtor | null = null;
let loadError: string | null = null;

/** Loads chartjs-node-canvas (and so canvas); null when it loaded, else the reason it cannot. */
export async function loadRenderer(): Promise<string | null> {
  if (ctor !== null) return null;
  if (loadError !== null) return loadError;
  try {
    const mod = (await import('chartjs-node-canvas')) as unknown as { ChartJSNodeCanvas?: ChartJSNodeCanvasCtor; default?: { ChartJSNodeCanvas?: ChartJSNodeCanvasCtor } };
    const c = mod.ChartJSNodeCanvas ?? mod.default?.ChartJSNodeCanvas;
    if (c === undefined) throw new Error('chartjs-node-canvas has no ChartJSNodeCanvas export');
    // A tiny render proves the native canvas module works, not just that the JS loads.
    await new c({ width: 16, height: 16 }).renderToBuffer({ type: 'bar', data: { labels: ['x'], datasets: [{ data: [1] }] }, options: { animation: false, responsive: false } });
    ctor = c;
    return null;
  } catch (e) {
    loadError = `cannot load chartjs-node-canvas/canvas (${(e as Error)?.message?.split('\n')[0] ?? String(e)}); run \`npm install\` (canvas is compiled from source: scripts/setup.sh)`;
    return loadError;
  }
}

const renderers = new Map<string, InstanceType<ChartJSNodeCanvasCtor>>();

/** Renders a chart to PNG bytes. Call `loadRenderer()` first (it throws with the reason otherwise). */
export async function renderChart(spec: ChartSpec): Promise<Buffer> {
  const why = await loadRenderer();
  if (why !== null || ctor === null) throw new Error(why ?? 'chart renderer not loaded');
  const width = spec.width ?? 900;
  const height = spec.height ?? 480;
  const key = `${width}x${height}`;
  let r = renderers.get(key);
  if (r === undefined) {
    r = new ctor({ width, height, backgroundColour: 'white' });
    renderers.set(key, r);
  }
  return r.renderToBuffer(chartConfig(spec), 'image/png');
}

/** The chart.js configuration of a spec (exported for tests and for reports that need a tweak). */
export function chartConfig(spec: ChartSpec): Record<string, unknown> {
  const numericX = spec.kind === 'line' && spec.categories === undefined;
  const datasets = spec.series.map((s, i) => {
    const color = PALETTE[(s.color ?? i) % PALETTE.length]!;
    const data = numericX ? (s.data as [number, number][]).map(([x, y]) => ({ x, y })) : s.data;
    return {
      label: s.label,
      data,
      borderColor: color,
      backgroundColor: spec.kind === 'bar' ? color : color,
      borderWidth: spec.kind === 'bar' ? 0 : 2.5,
      borderDash: s.dashed === true ? [8, 5] : [],
      pointRadius: spec.kind === 'line' ? 4 : 0,
      pointStyle: s.dashed === true ? 'rectRot' : 'circle',
      tension: 0,
      fill: false,
      spanGaps: true,
    };
  });
  const font = { family: 'DejaVu Sans, Helvetica, Arial, sans-serif', size: 13 };
  return {
    type: spec.kind,
    data: numericX ? { datasets } : { labels: spec.categories ?? [], datasets },
    options: {
      animation: false,
      responsive: false,
      devicePixelRatio: 1,
      plugins: {
        title: { display: true, text: spec.title, font: { ...font, size: 16, weight: 'bold' } },
        legend: { position: 'bottom', labels: { font } },
      },
      scales: {
        x: {
          type: numericX ? 'linear' : 'category',
          title: { display: true, text: spec.xLabel, font },
          ticks: { font },
        },
        y: {
          type: spec.yLog === true ? 'logarithmic' : 'linear',
          beginAtZero: spec.yFromZero !== false,
          title: { display: true, text: spec.yLabel, font },
          ticks: { font },
        },
      },
    },
  };
}

/** The PNG signature every rendered chart starts with. */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
