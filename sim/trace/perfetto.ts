import type { TraceValue } from '../../src/platform/index.js';
import type { TraceRecord } from '../kernel.js';
import type { TraceInfo } from './format.js';
import { isFault, isViolation } from './recorder.js';
import { describeFault } from './timeline.js';

/**
 * Export to the Chrome trace-event JSON format (opens in https://ui.perfetto.dev and
 * chrome://tracing). See docs/trace.md.
 *
 * Layout:
 *  - one process per node, "node 0 (server)" (pid = node + 1; pid 0 and tid 0 are avoided, they
 *    mean the idle task to Perfetto); one more process "cluster", pid = highest node + 2, holds the
 *    global fault markers and records without a node (a cluster-wide violation);
 *  - in each process, thread tracks (tid) in order of first appearance:
 *      "events"             node-level records (boot, registrations, protocol notes, faults);
 *      "thread <name>"      thread steps, when the recorder kept them;
 *      "qp 7 → n1 bench"    everything about one queue pair (posts, completions, errors, recvs);
 *                           operations in flight at once that do not nest spill into lanes
 *                           "qp 7 #2", "#3", ... (slices on one thread must nest);
 *      "ud 3"               one UD endpoint;
 *      "client p2", "<x>"   spans of the pairing table below;
 *  - a record that starts an operation and the record that ends it become one complete event
 *    (ph "X", ts + dur); every other record is an instant event (ph "i");
 *  - faults (`fault.*`) and the violation are also global instants (s "g"): vertical lines across
 *    every track;
 *  - metadata events (ph "M") name and order processes and threads.
 *
 * Timestamps: `ts`/`dur` are microseconds (the format's unit) with the ns as decimals (12.345).
 *
 * Pairing table (PAIRINGS, extendable through `opts.pairings`): an operation is identified by its
 * node and the values of the `key` fields; ends match the oldest open begin with the same
 * identity (RC completes in order). Kinds `<x>.begin` / `<x>.end` pair generically, keyed by the
 * node, `<x>` and the `id` field when present. A begin with `signaled: false` is an instant (no
 * completion will come). Spans still open when their node crashes end at the crash (args.outcome
 * "crashed"); spans open at the end of the trace end there (outcome "unfinished"); an end
 * without a begin is an instant with args.unmatched = true.
 */
export interface Pairing {
  begin: readonly string[];
  end: readonly string[];
  /** Fields that, with the node, identify one operation. */
  key: readonly string[];
  /** Track of the spans: a template over the begin record ('{qp}' = its qp field). */
  track: string;
  /** Slice name template (default '{kind}', the begin kind). Missing fields are left out. */
  name?: string;
}

export const PAIRINGS: readonly Pairing[] = [
  { begin: ['rc.write', 'rc.read', 'rc.cas', 'rc.send'], end: ['rc.complete'], key: ['qp', 'wrId'], track: 'qp:{qp}' },
  { begin: ['client.invoke'], end: ['client.ok', 'client.fail', 'client.info'], key: ['process'], track: 'client p{process}', name: '{f} {key}' },
];

export type PerfettoMeta = Partial<Pick<TraceInfo, 'scenario' | 'seed' | 'traceHash' | 'virtualTimeNs'>> & { cluster?: { servers: readonly number[]; clients: readonly number[] } };

export interface PerfettoOptions {
  /** Extra pairings, tried before the built-in table. */
  pairings?: readonly Pairing[];
}

export type ChromeArgs = Record<string, TraceValue | Record<string, TraceValue>>;

export interface ChromeEvent {
  name: string;
  ph: 'X' | 'i' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  s?: 'g' | 'p' | 't';
  args?: ChromeArgs;
}

export interface ChromeTrace {
  traceEvents: ChromeEvent[];
  displayTimeUnit: 'ns';
  otherData: Record<string, TraceValue>;
}

function us(ns: number): number {
  return ns / 1000;
}

function category(kind: string): string {
  if (kind === 'step') return 'thread';
  const i = kind.indexOf('.');
  return i < 0 ? kind : kind.slice(0, i);
}

function fill(template: string, kind: string, f: Record<string, TraceValue> | undefined): string {
  return template
    .replace(/\{(\w+)\}/g, (_m, k: string) => (k === 'kind' ? kind : f !== undefined && f[k] !== undefined ? String(f[k]) : ''))
    .replace(/\s+/g, ' ')
    .trim();
}

interface Track {
  pid: number;
  /** Lane 0's tid, then extra lanes' tids. */
  tids: number[];
  /** Per lane, the end times (ns) of the spans open at the last placed span's start (a nesting stack). */
  lanes: number[][];
  name: string;
}

interface OpenSpan {
  rec: TraceRecord;
  trackKey: string;
  name: string;
  idKey: string;
  order: number;
}

interface Span {
  start: TraceRecord;
  endNs: number;
  trackKey: string;
  name: string;
  args: ChromeArgs;
  order: number;
}

/** Builds the Chrome trace-event JSON object for `records`. */
export function toPerfetto(records: readonly TraceRecord[], meta: PerfettoMeta = {}, opts: PerfettoOptions = {}): ChromeTrace {
  const pairings = [...(opts.pairings ?? []), ...PAIRINGS];
  const roles = new Map<number, string>();
  for (const s of meta.cluster?.servers ?? []) roles.set(s, 'server');
  for (const c of meta.cluster?.clients ?? []) roles.set(c, 'client');

  // QP names from connection records: "qp 7 → n1 bench" on the active side, "qp 8 ← n0 bench" on the passive side.
  const qpNames = new Map<number, string>();
  for (const r of records) {
    if (r.kind !== 'cm.connected' || r.fields === undefined) continue;
    const { qp, peerQp, to, service } = r.fields;
    const svc = typeof service === 'string' ? ` ${service}` : '';
    if (typeof qp === 'number' && !qpNames.has(qp)) qpNames.set(qp, `qp ${qp} → n${to}${svc}`);
    if (typeof peerQp === 'number' && !qpNames.has(peerQp)) qpNames.set(peerQp, `qp ${peerQp} ← n${r.node}${svc}`);
  }

  let maxNode = -1;
  for (const n of roles.keys()) maxNode = Math.max(maxNode, n);
  for (const r of records) maxNode = Math.max(maxNode, r.node);
  const clusterPid = maxNode + 2;
  const pidOf = (node: number) => (node < 0 ? clusterPid : node + 1);
  const pids = new Set<number>();
  for (const n of roles.keys()) pids.add(pidOf(n));
  const tracks = new Map<string, Track>();
  const tidCount = new Map<number, number>();
  const newTid = (pid: number) => {
    const t = (tidCount.get(pid) ?? 0) + 1;
    tidCount.set(pid, t);
    return t;
  };
  const trackName = (key: string) => {
    if (key.startsWith('qp:')) return qpNames.get(Number(key.slice(3))) ?? `qp ${key.slice(3)}`;
    if (key.startsWith('ud:')) return `ud ${key.slice(3)}`;
    if (key.startsWith('th:')) return `thread ${key.slice(3)}`;
    return key;
  };
  const track = (pid: number, key: string): Track => {
    const k = `${pid}/${key}`;
    let tr = tracks.get(k);
    if (tr === undefined) {
      pids.add(pid);
      tr = { pid, tids: [newTid(pid)], lanes: [[]], name: trackName(key) };
      tracks.set(k, tr);
    }
    return tr;
  };
  // Every node process gets its "events" track first (tid 1).
  const ensureNode = (pid: number) => {
    if (pid !== clusterPid) track(pid, 'events');
  };
  for (const n of [...roles.keys()].sort((a, b) => a - b)) ensureNode(pidOf(n));

  const instantTrack = (r: TraceRecord): string => {
    if (r.kind === 'step') return `th:${String(r.fields?.thread ?? '?')}`;
    const f = r.fields;
    if (f !== undefined) {
      if (typeof f.qp === 'number' && (r.kind.startsWith('rc.') || r.kind.startsWith('cm.'))) return `qp:${f.qp}`;
      if (typeof f.ud === 'number' && r.kind.startsWith('ud.')) return `ud:${f.ud}`;
    }
    return 'events';
  };

  const events: { ev: ChromeEvent; t: number; order: number }[] = [];
  const spans: Span[] = [];
  const open = new Map<string, OpenSpan[]>();
  let order = 0;
  let lastNs = 0;

  const instant = (r: TraceRecord, trackKey: string, extra?: ChromeArgs) => {
    const pid = pidOf(r.node);
    ensureNode(pid);
    const tr = track(pid, trackKey);
    const args: ChromeArgs = { ...(r.fields ?? {}), ...(extra ?? {}) };
    const ev: ChromeEvent = { name: r.kind, ph: 'i', s: 't', cat: category(r.kind), ts: us(r.t), pid, tid: tr.tids[0]!, args };
    events.push({ ev, t: r.t, order: order++ });
  };

  const closeSpan = (o: OpenSpan, endNs: number, endArgs: ChromeArgs) => {
    const args: ChromeArgs = { ...(o.rec.fields ?? {}) };
    for (const k in endArgs) if (!(k in args)) args[k] = endArgs[k]!;
    spans.push({ start: o.rec, endNs, trackKey: o.trackKey, name: o.name, args, order: o.order });
  };

  const genericPair = (kind: string): { role: 'begin' | 'end'; base: string } | null => {
    if (kind.endsWith('.begin')) return { role: 'begin', base: kind.slice(0, -'.begin'.length) };
    if (kind.endsWith('.end')) return { role: 'end', base: kind.slice(0, -'.end'.length) };
    return null;
  };

  for (const r of records) {
    lastNs = Math.max(lastNs, r.t);
    const f = r.fields;
    // Faults and violations: global markers, plus an instant on the node.
    if (isFault(r.kind) || isViolation(r.kind)) {
      const label = isFault(r.kind) ? `⚡ ${describeFault(r)}` : `✖ violation${f?.kind !== undefined ? ': ' + String(f.kind) : ''}`;
      const ft = track(clusterPid, 'faults');
      events.push({ ev: { name: label, ph: 'i', s: 'g', cat: category(r.kind), ts: us(r.t), pid: clusterPid, tid: ft.tids[0]!, args: { kind: r.kind, node: r.node, ...(f ?? {}) } }, t: r.t, order: order++ });
      instant(r, 'events');
      if (r.kind === 'fault.crash') {
        // Operations in flight on the crashed node end here.
        const prefix = `${r.node}/`;
        for (const [idKey, list] of [...open.entries()]) {
          if (!idKey.startsWith(prefix)) continue;
          for (const o of list) closeSpan(o, r.t, { outcome: 'crashed' });
          open.delete(idKey);
        }
      }
      continue;
    }
    let handled = false;
    for (const p of pairings) {
      const isBegin = p.begin.includes(r.kind);
      if (!isBegin && !p.end.includes(r.kind)) continue;
      const idKey = `${r.node}/${p.begin[0]}/${p.key.map((k) => String(f?.[k] ?? '')).join('/')}`;
      const trackKey = fill(p.track, r.kind, f);
      if (isBegin) {
        if (f?.signaled === false) instant(r, trackKey);
        else {
          const list = open.get(idKey) ?? [];
          list.push({ rec: r, trackKey, name: fill(p.name ?? '{kind}', r.kind, f) || r.kind, idKey, order: order++ });
          open.set(idKey, list);
          ensureNode(pidOf(r.node));
          track(pidOf(r.node), trackKey);
        }
      } else {
        const list = open.get(idKey);
        if (list === undefined || list.length === 0) instant(r, trackKey, { unmatched: true });
        else {
          const o = list.shift()!;
          if (list.length === 0) open.delete(idKey);
          closeSpan(o, r.t, { end: r.kind, ...(f ?? {}) });
        }
      }
      handled = true;
      break;
    }
    if (handled) continue;
    const g = genericPair(r.kind);
    if (g !== null) {
      const id = f?.id;
      const idKey = `${r.node}/${g.base}.begin/${id === undefined ? '' : String(id)}`;
      if (g.role === 'begin') {
        const list = open.get(idKey) ?? [];
        list.push({ rec: r, trackKey: g.base, name: id === undefined ? g.base : `${g.base} ${String(id)}`, idKey, order: order++ });
        open.set(idKey, list);
        ensureNode(pidOf(r.node));
        track(pidOf(r.node), g.base);
      } else {
        const list = open.get(idKey);
        if (list === undefined || list.length === 0) instant(r, g.base, { unmatched: true });
        else {
          const o = list.shift()!;
          if (list.length === 0) open.delete(idKey);
          closeSpan(o, r.t, { end: r.kind, ...(f ?? {}) });
        }
      }
      continue;
    }
    instant(r, instantTrack(r));
  }
  const endNs = Math.max(lastNs, meta.virtualTimeNs ?? 0);
  for (const list of open.values()) for (const o of list) closeSpan(o, endNs, { outcome: 'unfinished' });

  // Lanes: slices on one thread must nest. Spans of one track that overlap without nesting go to
  // extra threads (RC posts and completes in order, so spans of one QP overlap but never nest).
  // Each span goes to the first lane where it starts after, or fits inside, what is open there.
  spans.sort((a, b) => a.start.t - b.start.t || b.endNs - a.endNs || a.order - b.order);
  for (const s of spans) {
    const pid = pidOf(s.start.node);
    const tr = track(pid, s.trackKey);
    let lane = -1;
    for (let i = 0; i < tr.lanes.length && lane < 0; i++) {
      const stack = tr.lanes[i]!;
      while (stack.length > 0 && stack[stack.length - 1]! <= s.start.t) stack.pop();
      if (stack.length === 0 || s.endNs <= stack[stack.length - 1]!) lane = i;
    }
    if (lane < 0) {
      lane = tr.tids.length;
      tr.tids.push(newTid(pid));
      tr.lanes.push([]);
    }
    tr.lanes[lane]!.push(s.endNs);
    const ev: ChromeEvent = { name: s.name, ph: 'X', cat: category(s.start.kind), ts: us(s.start.t), dur: (s.endNs - s.start.t) / 1000, pid, tid: tr.tids[lane]!, args: s.args };
    events.push({ ev, t: s.start.t, order: s.order });
  }
  events.sort((a, b) => a.t - b.t || a.order - b.order);

  // Metadata.
  const meta_: ChromeEvent[] = [];
  for (const pid of [...pids].sort((a, b) => a - b)) {
    const node = pid - 1;
    const role = roles.get(node);
    const name = pid === clusterPid ? 'cluster' : `node ${node}${role === undefined ? '' : ` (${role})`}`;
    meta_.push({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name } });
    meta_.push({ name: 'process_sort_index', ph: 'M', pid, tid: 0, args: { sort_index: pid === clusterPid ? 0 : pid } });
  }
  const threadMeta: ChromeEvent[] = [];
  for (const tr of tracks.values()) {
    tr.tids.forEach((tid, lane) => {
      threadMeta.push({ name: 'thread_name', ph: 'M', pid: tr.pid, tid, args: { name: lane === 0 ? tr.name : `${tr.name} #${lane + 1}` } });
      threadMeta.push({ name: 'thread_sort_index', ph: 'M', pid: tr.pid, tid, args: { sort_index: tid } });
    });
  }
  threadMeta.sort((a, b) => a.pid - b.pid || a.tid - b.tid);

  const otherData: Record<string, TraceValue> = { kvlab: 'trace' };
  if (meta.scenario !== undefined) otherData.scenario = typeof meta.scenario === 'string' || meta.scenario === null ? meta.scenario : JSON.stringify(meta.scenario);
  if (meta.seed !== undefined) otherData.seed = meta.seed;
  if (meta.traceHash !== undefined) otherData.traceHash = meta.traceHash;
  return { traceEvents: [...meta_, ...threadMeta, ...events.map((e) => e.ev)], displayTimeUnit: 'ns', otherData };
}

/** The export as JSON text (what `kvlab replay --perfetto FILE` writes). */
export function perfettoJson(records: readonly TraceRecord[], meta: PerfettoMeta = {}, opts: PerfettoOptions = {}): string {
  return JSON.stringify(toPerfetto(records, meta, opts));
}

const METADATA_NAMES = new Set(['process_name', 'process_labels', 'process_sort_index', 'thread_name', 'thread_sort_index']);

/**
 * Structural check of a Chrome trace-event document (array form or {traceEvents: [...]}):
 * required fields per phase. Returns the problems found (empty: well-formed). Covers the phases
 * this exporter emits (X, i/I, M) and B/E, b/e/n, C.
 */
export function checkChromeTrace(doc: unknown): string[] {
  const errs: string[] = [];
  let evs: unknown;
  if (Array.isArray(doc)) evs = doc;
  else if (typeof doc === 'object' && doc !== null && Array.isArray((doc as { traceEvents?: unknown }).traceEvents)) evs = (doc as { traceEvents: unknown[] }).traceEvents;
  else return ['not a JSON array nor an object with a traceEvents array'];
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  (evs as unknown[]).forEach((e, i) => {
    const at = `traceEvents[${i}]`;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) {
      errs.push(`${at}: not an object`);
      return;
    }
    const o = e as Record<string, unknown>;
    if (typeof o.ph !== 'string') {
      errs.push(`${at}: missing ph`);
      return;
    }
    if (typeof o.name !== 'string') errs.push(`${at}: missing name`);
    if (!Number.isInteger(o.pid)) errs.push(`${at}: pid must be an integer`);
    if (o.ph !== 'C' && !Number.isInteger(o.tid)) errs.push(`${at}: tid must be an integer`);
    if (o.args !== undefined && (typeof o.args !== 'object' || o.args === null || Array.isArray(o.args))) errs.push(`${at}: args must be an object`);
    switch (o.ph) {
      case 'M': {
        if (!METADATA_NAMES.has(o.name as string)) errs.push(`${at}: unknown metadata name ${String(o.name)}`);
        const a = o.args as Record<string, unknown> | undefined;
        if (a === undefined) errs.push(`${at}: metadata without args`);
        else if (o.name === 'process_name' || o.name === 'thread_name') {
          if (typeof a.name !== 'string') errs.push(`${at}: ${String(o.name)} needs args.name`);
        } else if (o.name === 'process_sort_index' || o.name === 'thread_sort_index') {
          if (!Number.isInteger(a.sort_index)) errs.push(`${at}: ${String(o.name)} needs an integer args.sort_index`);
        }
        break;
      }
      case 'X':
        if (!num(o.ts)) errs.push(`${at}: X needs ts`);
        if (!num(o.dur) || (o.dur as number) < 0) errs.push(`${at}: X needs dur ≥ 0`);
        break;
      case 'i':
      case 'I':
        if (!num(o.ts)) errs.push(`${at}: instant needs ts`);
        if (o.s !== undefined && o.s !== 'g' && o.s !== 'p' && o.s !== 't') errs.push(`${at}: instant scope s must be g, p or t`);
        break;
      case 'B':
      case 'E':
        if (!num(o.ts)) errs.push(`${at}: ${o.ph} needs ts`);
        break;
      case 'b':
      case 'e':
      case 'n':
        if (!num(o.ts)) errs.push(`${at}: ${o.ph} needs ts`);
        if (o.id === undefined && o.id2 === undefined) errs.push(`${at}: async event needs id`);
        if (typeof o.cat !== 'string') errs.push(`${at}: async event needs cat`);
        break;
      case 'C':
        if (!num(o.ts)) errs.push(`${at}: C needs ts`);
        break;
      default:
        errs.push(`${at}: unsupported phase ${o.ph}`);
    }
  });
  return errs;
}
