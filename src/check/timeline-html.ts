import { describeCall, describeOp } from './describe.js';
import type { FaultMarker, History } from './history.js';
import { show } from './kv-model.js';
import type { KeyViolation } from './linearizability.js';
import { usesTimes, type Op } from './ops.js';

/**
 * A self-contained HTML page (inline CSS and SVG, no scripts, no external assets) with per-process
 * timelines of checked histories: one row per process, one bar per operation from invoke to
 * completion, colored by outcome, the 1-minimal violating operations outlined, fault markers as
 * vertical lines.
 *
 * What is drawn: every violating history; when none violates, every history (so the page is never
 * empty). A violating history gets a zoomed timeline of its minimal operations and a timeline of
 * the whole history — or, above FULL_TIMELINE_MAX_OPS operations, of the violating key only, so
 * the page stays small enough to open.
 */

export interface TimelineInput {
  file: string;
  history: History;
  ops: readonly Op[];
  linearizable: boolean;
  wallMs: number;
  /** The first violating key's report (with minimalOps). */
  violation?: KeyViolation;
  otherViolatingKeys?: readonly string[];
  /** 1-based file line per event, to cite in tooltips. */
  eventLines?: readonly number[];
}

export const FULL_TIMELINE_MAX_OPS = 2000;

const WIDTH_PX = 1100;
const LEFT_PX = 56;
const RIGHT_PX = 16;
const ROW_PX = 22;
const TOP_PX = 26;
const AXIS_PX = 22;

export function renderTimelineHtml(inputs: readonly TimelineInput[]): string {
  const violating = inputs.filter((i) => !i.linearizable);
  const shown = violating.length > 0 ? violating : inputs;
  const rows = inputs
    .map(
      (i) =>
        `<tr><td>${esc(i.file)}</td><td class="${i.linearizable ? 'good' : 'bad'}">${i.linearizable ? '✓ linearizable' : '✗ not linearizable'}</td>` +
        `<td>${i.ops.length}</td><td>${i.wallMs.toFixed(1)} ms</td></tr>`,
    )
    .join('\n');
  const sections = shown.map(section).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kvlab check</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:32px}h3{font-size:14px;margin:16px 0 4px}
table{border-collapse:collapse}td,th{padding:2px 10px;border-bottom:1px solid #ddd;text-align:left}
.good{color:#2e7d32}.bad{color:#c62828;font-weight:600}
code,.mono{font-family:ui-monospace,monospace;font-size:12px}
.legend span{display:inline-block;margin-right:14px}
.sw{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}
svg text{font-family:ui-monospace,monospace;font-size:11px}
ol{margin:4px 0}
</style></head><body>
<h1>kvlab check — ${inputs.length} ${inputs.length === 1 ? 'history' : 'histories'}, ${violating.length} not linearizable</h1>
<table><tr><th>file</th><th>result</th><th>ops</th><th>check time</th></tr>
${rows}</table>
<p class="legend"><span><i class="sw" style="background:#66bb6a"></i>ok</span><span><i class="sw" style="background:#bdbdbd"></i>fail (no effect)</span>
<span><i class="sw" style="background:#ffa726"></i>info / pending (may take effect until the end)</span>
<span><i class="sw" style="border:2px solid #c62828"></i>in the minimal violating set</span>
<span><i class="sw" style="background:#7b1fa2;width:2px"></i>fault</span></p>
${violating.length > 0 ? '' : '<p>No history violates linearizability; all are drawn.</p>'}
${sections}
</body></html>
`;
}

function section(input: TimelineInput): string {
  const parts: string[] = [`<h2>${esc(input.file)} — ${input.linearizable ? '✓ linearizable' : '✗ not linearizable'}</h2>`];
  const v = input.violation;
  const highlight = new Set<number>((v?.minimalOps ?? []).map((op) => op.id));
  if (v) {
    const minimal = v.minimalOps ?? [];
    parts.push(`<p>Key <code>${esc(JSON.stringify(v.key))}</code>: these ${minimal.length} operations cannot be linearized, and removing any one of them makes the rest linearizable.</p>`);
    if (input.otherViolatingKeys && input.otherViolatingKeys.length > 0) {
      parts.push(`<p>Also not linearizable: keys ${input.otherViolatingKeys.map((k) => `<code>${esc(JSON.stringify(k))}</code>`).join(', ')}.</p>`);
    }
    parts.push('<h3>Minimal violating operations</h3>');
    parts.push(timeline(input, minimal, highlight, true));
    parts.push('<h3>Longest partial linearization of those</h3>');
    parts.push(
      v.partialLinearization.length === 0
        ? '<p>None: no operation can go first.</p>'
        : `<ol class="mono">${v.partialLinearization.map((s) => `<li>${esc(describeOp(s.op))} ⇒ ${esc(show(s.stateAfter))}</li>`).join('')}</ol>`,
    );
  }
  let all: readonly Op[] = input.ops;
  let title = 'Whole history';
  if (all.length > FULL_TIMELINE_MAX_OPS && v) {
    all = input.ops.filter((op) => op.key === v.key);
    title = `Key ${JSON.stringify(v.key)} only (the history has ${input.ops.length} operations)`;
  } else if (all.length > FULL_TIMELINE_MAX_OPS) {
    all = input.ops.slice(0, FULL_TIMELINE_MAX_OPS);
    title = `First ${FULL_TIMELINE_MAX_OPS} of ${input.ops.length} operations`;
  }
  parts.push(`<h3>${esc(title)}</h3>`);
  parts.push(timeline(input, all, highlight, all.length <= 200));
  return parts.join('\n');
}

/** Real-time extent of an op for drawing: invoke to completion, or to the end when it has none. */
function span(op: Op, timed: boolean): { from: number; to: number | null } {
  if (timed) return { from: op.invokeTimeNs!, to: op.completeTimeNs ?? null };
  return { from: op.invokeIndex, to: op.completeIndex };
}

function timeline(input: TimelineInput, ops: readonly Op[], highlight: ReadonlySet<number>, labels: boolean): string {
  if (ops.length === 0) return '<p>(no operations)</p>';
  const timed = usesTimes(input.history);
  const faults = (input.history.faults ?? []).map((f) => ({ f, at: faultPosition(f, input.history, timed) }));
  let lo = Infinity;
  let hi = -Infinity;
  for (const op of ops) {
    const s = span(op, timed);
    lo = Math.min(lo, s.from);
    hi = Math.max(hi, s.to ?? s.from);
  }
  // Faults inside (or touching) the drawn window only; a zoomed view must not stretch to far-away faults.
  const shownFaults = faults.filter((x) => x.at >= lo - 1 && x.at <= hi + 1);
  hi += Math.max(1, (hi - lo) * 0.03); // room for open-ended (info/pending) bars
  const processes = [...new Set(ops.map((op) => op.process))].sort((a, b) => a - b);
  const rowOf = new Map(processes.map((p, i) => [p, i]));
  const plotPx = WIDTH_PX - LEFT_PX - RIGHT_PX;
  const x = (t: number): number => LEFT_PX + ((t - lo) / (hi - lo || 1)) * plotPx;
  const heightPx = TOP_PX + processes.length * ROW_PX + AXIS_PX;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH_PX}" height="${heightPx}" viewBox="0 0 ${WIDTH_PX} ${heightPx}">`];
  processes.forEach((p, i) => {
    const y = TOP_PX + i * ROW_PX;
    if (i % 2 === 0) out.push(`<rect x="${LEFT_PX}" y="${y}" width="${plotPx}" height="${ROW_PX}" fill="#f7f7f7"/>`);
    out.push(`<text x="4" y="${y + 15}">p${p}</text>`);
  });
  for (const op of ops) {
    const s = span(op, timed);
    const y = TOP_PX + rowOf.get(op.process)! * ROW_PX + 3;
    const x0 = x(s.from);
    const open = op.status === 'info' || s.to === null;
    const x1 = s.to === null ? x(hi) : Math.max(x(s.to), x0 + 2);
    const fill = op.status === 'ok' ? '#66bb6a' : op.status === 'fail' ? '#bdbdbd' : '#ffa726';
    const hl = highlight.has(op.id);
    const stroke = hl ? ' stroke="#c62828" stroke-width="2.5"' : '';
    const where = location(op, input.eventLines);
    out.push(`<g><title>${esc(`${describeOp(op)} — key ${JSON.stringify(op.key)}, ${where}`)}</title>`);
    out.push(`<rect x="${x0.toFixed(1)}" y="${y}" width="${(x1 - x0).toFixed(1)}" height="${ROW_PX - 6}" rx="2" fill="${fill}"${stroke}/>`);
    if (open && s.to !== null && op.status === 'info') {
      // The info event is not the end: the op may still take effect until the history ends.
      out.push(`<line x1="${x1.toFixed(1)}" y1="${y + 8}" x2="${x(hi).toFixed(1)}" y2="${y + 8}" stroke="#ffa726" stroke-dasharray="4 3"/>`);
    }
    const text = describeCall(op);
    if (labels && text.length * 6.6 < x1 - x0 - 4) out.push(`<text x="${(x0 + 3).toFixed(1)}" y="${y + 12}">${esc(text)}</text>`);
    out.push('</g>');
  }
  for (const { f, at } of shownFaults) {
    const fx = x(at).toFixed(1);
    out.push(`<g><title>${esc(`fault: ${f.text}`)}</title><line x1="${fx}" y1="${TOP_PX - 14}" x2="${fx}" y2="${heightPx - AXIS_PX}" stroke="#7b1fa2" stroke-width="1.5" stroke-dasharray="5 3"/>`);
    out.push(`<text x="${(Number(fx) + 3).toFixed(1)}" y="${TOP_PX - 4}" fill="#7b1fa2">${esc(f.text)}</text></g>`);
  }
  const axisY = heightPx - AXIS_PX + 14;
  out.push(`<text x="${LEFT_PX}" y="${axisY}">${esc(axisLabel(lo, timed))}</text>`);
  out.push(`<text x="${WIDTH_PX - RIGHT_PX}" y="${axisY}" text-anchor="end">${esc(axisLabel(hi, timed))}</text>`);
  out.push('</svg>');
  return out.join('\n');
}

function axisLabel(t: number, timed: boolean): string {
  if (!timed) return `event ${Math.round(t)}`;
  if (t >= 1e6) return `${(t / 1e6).toFixed(3)} ms`;
  if (t >= 1e3) return `${(t / 1e3).toFixed(3)} µs`;
  return `${Math.round(t)} ns`;
}

/** Where a fault sits on the axis: its time; without one, between its neighbouring events. */
function faultPosition(f: FaultMarker, history: History, timed: boolean): number {
  if (!timed) return f.afterEvent - 0.5;
  if (f.timeNs !== undefined) return f.timeNs;
  const before = history.events[f.afterEvent - 1]?.time;
  const after = history.events[f.afterEvent]?.time;
  return before !== undefined && after !== undefined ? (before + after) / 2 : (before ?? after ?? 0);
}

function location(op: Op, eventLines: readonly number[] | undefined): string {
  if (eventLines) {
    const a = eventLines[op.invokeIndex];
    const b = op.completeIndex === null ? undefined : eventLines[op.completeIndex];
    return b === undefined ? `line ${a}, never completed` : `lines ${a}–${b}`;
  }
  return op.completeIndex === null ? `event ${op.invokeIndex}, never completed` : `events ${op.invokeIndex}–${op.completeIndex}`;
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
