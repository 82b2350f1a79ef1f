import type { TraceValue } from '../../src/platform/index.js';
import type { TraceRecord } from '../kernel.js';
import type { TraceInfo } from './format.js';
import { isFault, isPlannedFault, isViolation } from './recorder.js';

/**
 * The human timeline: one line per record (docs/trace.md).
 *
 *       12.345 µs  n2  rc.write      qp=7 to=1 wrId=0 bytes=128 rkey=16777217 off=0
 *
 * Injected faults get a `!!` prefix and a rule above (labelled `⚡ FAULT` and what happened) and
 * below; the violation gets `XX` and `✖ VIOLATION` rules; failed operations (error completions,
 * NAKs, QP errors, lost/dropped datagrams, failed connects, CQ overruns) get ` !`.
 *
 * A pure function of the records and options: the same records give the same text.
 */
export interface TimelineOptions {
  /** Only records of these nodes. */
  nodes?: readonly number[];
  /** Only records whose kind starts with one of these prefixes (e.g. 'rc.', 'fault', 'lolkv.commit'). */
  kinds?: readonly string[];
  /** Drop records whose kind starts with one of these prefixes. */
  excludeKinds?: readonly string[];
  /** Time window, inclusive, in ns. */
  fromNs?: number;
  toNs?: number;
  /** Show only records within `aroundWindowNs` of this time (ns). Narrows fromNs/toNs. */
  aroundNs?: number;
  /** Half-width of the `aroundNs` window (default 10,000 ns = 10 µs). */
  aroundWindowNs?: number;
  /** Show thread steps (`step` records). Default false. */
  threadSteps?: boolean;
  /** Faults and violations pass the node and kind filters (not the time window). Default true. */
  contextFaults?: boolean;
  /** Print the summary header. Default true. */
  summary?: boolean;
  /** At most this many record lines; the rest are counted in a final line. */
  maxLines?: number;
  /** Plain ASCII (us, ->, -, =) instead of µ, →, ─, ═, ⚡, ✖. Default false. */
  ascii?: boolean;
  /** The trace file's header (scenario, seed, hash, totals), shown in the summary. */
  meta?: Partial<TraceInfo>;
}

export const DEFAULT_AROUND_WINDOW_NS = 10_000;
const RULE_WIDTH = 78;
const MAX_SUMMARY_FAULTS = 40;

interface Glyphs {
  us: string;
  arrow: string;
  rule: string;
  vrule: string;
  fault: string;
  violation: string;
  ellipsis: string;
  dot: string;
  times: string;
}

const UNICODE: Glyphs = { us: 'µs', arrow: '→', rule: '─', vrule: '═', fault: '⚡ FAULT', violation: '✖ VIOLATION', ellipsis: '…', dot: '·', times: '×' };
const ASCII: Glyphs = { us: 'us', arrow: '->', rule: '-', vrule: '=', fault: '!! FAULT', violation: 'XX VIOLATION', ellipsis: '...', dot: '|', times: 'x' };

/** `ns` as microseconds with three decimals (ns precision): 12345 → "12.345". */
export function formatMicros(ns: number): string {
  if (Number.isSafeInteger(ns) && ns >= 0) {
    const us = Math.floor(ns / 1000);
    return `${us}.${String(ns % 1000).padStart(3, '0')}`;
  }
  return (ns / 1000).toFixed(3);
}

function fmtValue(v: TraceValue): string {
  if (typeof v === 'string') return /^[A-Za-z0-9_.:/@+\-]+$/.test(v) ? v : JSON.stringify(v);
  return String(v);
}

/** `k=v k=v`, in the record's field order; strings with spaces or quotes are JSON-quoted. */
export function formatFields(fields: Record<string, TraceValue> | undefined): string {
  if (fields === undefined) return '';
  const parts: string[] = [];
  for (const k in fields) parts.push(`${k}=${fmtValue(fields[k]!)}`);
  return parts.join(' ');
}

function nodeLabel(node: number): string {
  return node < 0 ? '--' : `n${node}`;
}

/** Failed operations and other trouble the eye should catch (marked ' !'). */
export function isTrouble(r: TraceRecord): boolean {
  const k = r.kind;
  if (k === 'rc.error' || k === 'rc.nak' || k === 'ud.lost' || k === 'ud.drop' || k === 'cm.connect-failed' || k === 'cq.overrun') return true;
  if (k === 'rc.complete' || k === 'rc.recv') {
    const s = r.fields?.status;
    return s !== undefined && s !== 'success';
  }
  return false;
}

/** A short human description of a fault record: "n1 crashes", "link n0→n2 blocked". */
export function describeFault(r: TraceRecord, arrow = '→'): string {
  const n = nodeLabel(r.node);
  const f = r.fields;
  const to = f?.to;
  const link = () => `link ${n}${arrow}${to === undefined || to === null ? '?' : nodeLabel(Number(to))}`;
  switch (r.kind) {
    case 'fault.crash':
      return `${n} crashes`;
    case 'fault.restart':
      return `${n} restarts`;
    case 'fault.nic-down':
      return `${n} NIC fails`;
    case 'fault.nic-up':
      return `${n} NIC back up`;
    case 'fault.link-down':
      return `${link()} blocked`;
    case 'fault.link-up':
      return `${link()} restored`;
    case 'fault.latency-spike':
      return `${n} latency spike${f?.extraNs !== undefined ? ` +${fmtValue(f.extraNs)} ns` : ''}`;
    case 'fault.latency-spike-end':
      return `${n} latency spike ends`;
    case 'fault.ud-loss':
      return `UD loss${f?.rate !== undefined ? ` +${fmtValue(f.rate)}` : ''}${r.node >= 0 ? ` on ${n}` : ''}`;
    case 'fault.ud-loss-end':
      return `UD loss ends${r.node >= 0 ? ` on ${n}` : ''}`;
    default: {
      const what = r.kind.slice('fault.'.length);
      const rest = formatFields(f);
      return `${r.node >= 0 ? n + ' ' : ''}${what}${rest === '' ? '' : ' ' + rest}`;
    }
  }
}

export interface TraceSummary {
  records: number;
  firstNs: number;
  lastNs: number;
  nodes: number[];
  /** [kind, count], by count descending then kind. */
  kinds: [string, number][];
  faults: TraceRecord[];
  /** `fault.planned` notes (the schedule the harness announced). */
  planned: TraceRecord[];
  violations: TraceRecord[];
}

export function summarize(records: readonly TraceRecord[]): TraceSummary {
  const counts = new Map<string, number>();
  const nodes = new Set<number>();
  const faults: TraceRecord[] = [];
  const planned: TraceRecord[] = [];
  const violations: TraceRecord[] = [];
  for (const r of records) {
    counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
    if (r.node >= 0) nodes.add(r.node);
    if (isFault(r.kind)) faults.push(r);
    else if (isPlannedFault(r.kind)) planned.push(r);
    else if (isViolation(r.kind)) violations.push(r);
  }
  const kinds = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return {
    records: records.length,
    firstNs: records.length > 0 ? records[0]!.t : 0,
    lastNs: records.length > 0 ? records[records.length - 1]!.t : 0,
    nodes: [...nodes].sort((a, b) => a - b),
    kinds,
    faults,
    planned,
    violations,
  };
}

function startsWithAny(kind: string, prefixes: readonly string[]): boolean {
  for (const p of prefixes) if (kind.startsWith(p)) return true;
  return false;
}

/** The records the options select, in order. */
export function filterRecords(records: readonly TraceRecord[], opts: TimelineOptions = {}): TraceRecord[] {
  let from = opts.fromNs ?? -Infinity;
  let to = opts.toNs ?? Infinity;
  if (opts.aroundNs !== undefined) {
    const w = opts.aroundWindowNs ?? DEFAULT_AROUND_WINDOW_NS;
    from = Math.max(from, opts.aroundNs - w);
    to = Math.min(to, opts.aroundNs + w);
  }
  const nodes = opts.nodes === undefined ? null : new Set(opts.nodes);
  const steps = opts.threadSteps ?? false;
  const context = opts.contextFaults ?? true;
  const out: TraceRecord[] = [];
  for (const r of records) {
    if (r.t < from || r.t > to) continue;
    if (r.kind === 'step' && !steps) continue;
    if (context && (isFault(r.kind) || isViolation(r.kind))) {
      out.push(r);
      continue;
    }
    if (nodes !== null && !nodes.has(r.node)) continue;
    if (opts.kinds !== undefined && !startsWithAny(r.kind, opts.kinds)) continue;
    if (opts.excludeKinds !== undefined && startsWithAny(r.kind, opts.excludeKinds)) continue;
    out.push(r);
  }
  return out;
}

function ruleWith(label: string, ch: string): string {
  const head = `  ${ch.repeat(4)} ${label} `;
  return head + ch.repeat(Math.max(4, RULE_WIDTH - head.length));
}

function summaryLines(all: readonly TraceRecord[], shown: number, opts: TimelineOptions, g: Glyphs): string[] {
  const s = summarize(all);
  const m = opts.meta ?? {};
  const out: string[] = [];
  const id: string[] = [];
  if (m.scenario !== undefined && m.scenario !== null) id.push(`scenario ${typeof m.scenario === 'string' ? m.scenario : JSON.stringify(m.scenario).slice(0, 60)}`);
  if (m.seed !== undefined) id.push(`seed ${m.seed}`);
  if (m.traceHash !== undefined) id.push(`hash ${m.traceHash}`);
  out.push(`kvlab trace${id.length > 0 ? '  ' + id.join('  ') : ''}`);
  let recs = `${s.records} records`;
  if (m.truncated === true || (m.totalRecords !== undefined && m.totalRecords > s.records)) recs += ` (TRUNCATED: ${s.records} kept of ${m.totalRecords ?? '?'})`;
  recs += `, ${shown} shown`;
  if (m.events !== undefined) recs += `; ${m.events} kernel events`;
  out.push(`  records   ${recs}`);
  const end = m.virtualTimeNs ?? s.lastNs;
  out.push(`  time      ${formatMicros(s.firstNs)} ${g.arrow} ${formatMicros(end)} ${g.us} (virtual)   nodes ${s.nodes.map(nodeLabel).join(' ') || 'none'}`);
  // Kinds, wrapped to the rule width.
  const kindLines: string[] = [];
  let cur = '';
  for (const [k, c] of s.kinds) {
    const p = `${k} ${c}`;
    if (cur === '') cur = p;
    else if (12 + cur.length + 3 + p.length > RULE_WIDTH) {
      kindLines.push(cur);
      cur = p;
    } else cur += ` ${g.dot} ${p}`;
  }
  if (cur !== '') kindLines.push(cur);
  if (kindLines.length === 0) out.push('  kinds     none');
  else kindLines.forEach((l, i) => out.push((i === 0 ? '  kinds     ' : '            ') + l));
  if (s.planned.length > 0) {
    const p = s.planned.map((r) => {
      const k = r.fields?.kind;
      const at = r.fields?.atNs;
      return k !== undefined && typeof at === 'number' ? `${fmtValue(k)} @ ${formatMicros(at)} ${g.us}` : formatFields(r.fields);
    });
    out.push(`  planned   ${p.join(` ${g.dot} `)}`);
  }
  if (s.faults.length === 0) out.push('  faults    none');
  else {
    out.push(`  faults    ${s.faults.length}`);
    const shownFaults = s.faults.length > MAX_SUMMARY_FAULTS ? s.faults.slice(0, MAX_SUMMARY_FAULTS) : s.faults;
    for (const f of shownFaults) out.push(`    ${formatMicros(f.t).padStart(12)} ${g.us}  ${nodeLabel(f.node).padEnd(3)} ${f.kind.padEnd(16)} ${describeFault(f, g.arrow)}`);
    if (shownFaults.length < s.faults.length) out.push(`    ${g.ellipsis} ${s.faults.length - shownFaults.length} more`);
  }
  if (s.violations.length === 0) out.push('  violation none');
  else for (const v of s.violations) out.push(`  violation ${formatMicros(v.t)} ${g.us}  ${nodeLabel(v.node)}  ${formatFields(v.fields)}`);
  const filt: string[] = [];
  if (opts.nodes !== undefined) filt.push(`nodes=${opts.nodes.map(nodeLabel).join(',')}`);
  if (opts.kinds !== undefined) filt.push(`kinds=${opts.kinds.join(',')}`);
  if (opts.excludeKinds !== undefined) filt.push(`exclude=${opts.excludeKinds.join(',')}`);
  if (opts.aroundNs !== undefined) filt.push(`around=${formatMicros(opts.aroundNs)}${g.us}±${formatMicros(opts.aroundWindowNs ?? DEFAULT_AROUND_WINDOW_NS)}${g.us}`);
  if (opts.fromNs !== undefined || opts.toNs !== undefined) {
    filt.push(`window=${opts.fromNs === undefined ? 'start' : formatMicros(opts.fromNs) + g.us}${g.ellipsis}${opts.toNs === undefined ? 'end' : formatMicros(opts.toNs) + g.us}`);
  }
  filt.push(opts.threadSteps === true ? 'thread steps shown' : 'thread steps hidden');
  out.push(`  filter    ${filt.join('  ')}`);
  out.push('  ' + g.rule.repeat(RULE_WIDTH - 2));
  return out;
}

function faultLabel(group: readonly TraceRecord[], g: Glyphs): string {
  const at = `  @ ${formatMicros(group[0]!.t)} ${g.us}`;
  if (group.length === 1) return `${g.fault}  ${describeFault(group[0]!, g.arrow)}${at}`;
  const head = `${g.fault} ${g.times}${group.length}  `;
  const room = RULE_WIDTH - 12 - head.length - at.length;
  let text = '';
  let k = 0;
  for (; k < group.length; k++) {
    const d = describeFault(group[k]!, g.arrow);
    const next = text === '' ? d : `${text}, ${d}`;
    if (next.length > room && k > 0) break;
    text = next;
  }
  if (k < group.length) text += `, ${g.ellipsis}`;
  return `${head}${text}${at}`;
}

/** Renders the timeline: summary header (unless `summary: false`), then one line per selected record. */
export function renderTimeline(records: readonly TraceRecord[], opts: TimelineOptions = {}): string[] {
  const g = opts.ascii === true ? ASCII : UNICODE;
  const sel = filterRecords(records, opts);
  const out: string[] = opts.summary === false ? [] : summaryLines(records, sel.length, opts, g);
  const max = opts.maxLines ?? Infinity;
  const shown = sel.length > max ? sel.slice(0, Math.max(0, max)) : sel;
  // Column widths over what is shown (deterministic).
  let tw = 10;
  let nw = 2;
  let kw = 12;
  for (const r of shown) {
    tw = Math.max(tw, formatMicros(r.t).length);
    nw = Math.max(nw, nodeLabel(r.node).length);
    kw = Math.max(kw, r.kind.length);
  }
  kw = Math.min(kw, 20);
  const line = (prefix: string, r: TraceRecord) => {
    const f = formatFields(r.fields);
    return `${prefix} ${formatMicros(r.t).padStart(tw)} ${g.us}  ${nodeLabel(r.node).padEnd(nw)}  ${f === '' ? r.kind : r.kind.padEnd(kw) + '  ' + f}`;
  };
  for (let i = 0; i < shown.length; i++) {
    const r = shown[i]!;
    if (isFault(r.kind)) {
      // Faults injected at the same instant (a partition blocks many links) form one group:
      // one labelled rule above, a !! line each, one rule below.
      let j = i + 1;
      while (j < shown.length && isFault(shown[j]!.kind) && shown[j]!.t === r.t) j++;
      const group = shown.slice(i, j);
      out.push(ruleWith(faultLabel(group, g), g.rule));
      for (const x of group) out.push(line('!!', x));
      out.push('  ' + g.rule.repeat(RULE_WIDTH - 2));
      i = j - 1;
    } else if (isViolation(r.kind)) {
      const kind = r.fields?.kind;
      out.push(ruleWith(`${g.violation}${kind === undefined ? '' : ' ' + fmtValue(kind)}  @ ${formatMicros(r.t)} ${g.us}`, g.vrule));
      out.push(line('XX', r));
      out.push('  ' + g.vrule.repeat(RULE_WIDTH - 2));
    } else out.push(line(isTrouble(r) ? ' !' : '  ', r));
  }
  if (shown.length < sel.length) out.push(`  ${g.ellipsis} ${sel.length - shown.length} more records not shown`);
  return out;
}
