import type { TraceValue } from '../../src/platform/index.js';
import type { TraceRecord } from '../kernel.js';

/**
 * The trace file: JSONL, one JSON value per line (docs/trace.md).
 *
 *   line 1   {"kvlab":"trace","version":1,"scenario":...,"seed":...,"traceHash":"...","records":N,...}
 *   line 2.. [t, node, "kind"]            a record without fields
 *            [t, node, "kind", {fields}]  a record with fields
 *
 * `t` is the virtual time in ns, `node` the node id (-1: no node, e.g. a cluster-wide violation).
 * Field values are strings, numbers, booleans or null; the numbers JSON cannot spell (NaN,
 * ±Infinity, -0) are written as {"$num":"NaN"} etc., so a file round-trips exactly.
 *
 * This module only turns records into lines and back: reading and writing files is the CLI's job.
 */

export const TRACE_FORMAT_VERSION = 1;

/** What a trace file says about its run (the header, less the format keys). */
export interface TraceInfo {
  /** The scenario: its name, or the scenario object itself; null when unknown. */
  scenario: unknown;
  seed: number;
  /** The kernel's trace hash of the run (16 hex digits). */
  traceHash: string;
  /** Records offered by the simulator when the recorder had a cap (records < total ⇒ truncated). */
  totalRecords?: number;
  truncated?: boolean;
  /** Whether thread steps were recorded. */
  threadSteps?: boolean;
  /** Kernel events processed and final virtual time (ns). */
  events?: number;
  virtualTimeNs?: number;
  /** Cluster roles, for naming processes in the Perfetto export. */
  cluster?: { servers: number[]; clients: number[] };
}

/** What the writer takes: the run's info plus any extra keys (kept as they are, in order). */
export interface TraceMeta extends TraceInfo {
  [extra: string]: unknown;
}

/** The first line of a trace file. Unknown extra keys are kept as they are. */
export interface TraceHeader extends TraceMeta {
  kvlab: 'trace';
  version: 1;
  /** Number of record lines that follow (checked on read). */
  records: number;
}

export interface TraceFile {
  header: TraceHeader;
  records: TraceRecord[];
}

/** A malformed trace file. `line` is 1-based (0: the input as a whole). */
export class TraceFormatError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `line ${line}: ${reason}` : reason);
    this.name = 'TraceFormatError';
  }
}

// ---- writing ----

function encodeValue(v: TraceValue): unknown {
  if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0))) return { $num: Object.is(v, -0) ? '-0' : String(v) };
  return v;
}

/** One record as a line (no newline). */
export function formatRecordLine(r: TraceRecord): string {
  if (r.fields === undefined) return JSON.stringify([r.t, r.node, r.kind]);
  const f: Record<string, unknown> = {};
  for (const k in r.fields) f[k] = encodeValue(r.fields[k]!);
  return JSON.stringify([r.t, r.node, r.kind, f]);
}

/** The header line (no newline). */
export function formatHeaderLine(meta: TraceMeta, recordCount: number): string {
  const { kvlab: _k, version: _v, records: _r, scenario, seed, traceHash, ...rest } = meta;
  const h: Record<string, unknown> = { kvlab: 'trace', version: TRACE_FORMAT_VERSION, scenario: scenario ?? null, seed, traceHash, records: recordCount };
  for (const k of Object.keys(rest)) if (rest[k] !== undefined) h[k] = rest[k];
  return JSON.stringify(h);
}

/** The file as lines (no newlines): header, then one line per record. */
export function traceLines(meta: TraceMeta, records: readonly TraceRecord[]): string[] {
  const out: string[] = [formatHeaderLine(meta, records.length)];
  for (const r of records) out.push(formatRecordLine(r));
  return out;
}

/** The file's text: `traceLines` joined with '\n', with a final newline. */
export function writeTrace(meta: TraceMeta, records: readonly TraceRecord[]): string {
  return traceLines(meta, records).join('\n') + '\n';
}

// ---- reading ----

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function parseJson(line: string, lineNo: number): unknown {
  try {
    return JSON.parse(line);
  } catch (e) {
    throw new TraceFormatError(lineNo, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Validates and decodes the header line. */
export function parseHeaderLine(line: string, lineNo = 1): TraceHeader {
  const h = parseJson(line, lineNo);
  if (typeof h !== 'object' || h === null || Array.isArray(h)) throw new TraceFormatError(lineNo, `header: expected a JSON object, got ${typeName(h)}`);
  const o = h as Record<string, unknown>;
  if (o.kvlab !== 'trace') throw new TraceFormatError(lineNo, `header: "kvlab" must be "trace" (not a kvlab trace file?)`);
  if (o.version !== TRACE_FORMAT_VERSION) throw new TraceFormatError(lineNo, `header: unsupported version ${JSON.stringify(o.version)} (this reader knows version ${TRACE_FORMAT_VERSION})`);
  if (!('scenario' in o)) throw new TraceFormatError(lineNo, 'header: missing "scenario"');
  if (typeof o.seed !== 'number' || !Number.isSafeInteger(o.seed)) throw new TraceFormatError(lineNo, `header: "seed" must be an integer, got ${JSON.stringify(o.seed)}`);
  if (typeof o.traceHash !== 'string') throw new TraceFormatError(lineNo, `header: "traceHash" must be a string, got ${typeName(o.traceHash)}`);
  if (typeof o.records !== 'number' || !Number.isSafeInteger(o.records) || o.records < 0) throw new TraceFormatError(lineNo, `header: "records" must be a non-negative integer, got ${JSON.stringify(o.records)}`);
  for (const k of ['totalRecords', 'events', 'virtualTimeNs'] as const) {
    if (k in o && (typeof o[k] !== 'number' || !((o[k] as number) >= 0))) throw new TraceFormatError(lineNo, `header: "${k}" must be a non-negative number`);
  }
  for (const k of ['truncated', 'threadSteps'] as const) {
    if (k in o && typeof o[k] !== 'boolean') throw new TraceFormatError(lineNo, `header: "${k}" must be a boolean`);
  }
  if ('cluster' in o) {
    const c = o.cluster as Record<string, unknown> | null;
    const ok = (a: unknown) => Array.isArray(a) && a.every((x) => Number.isInteger(x));
    if (typeof c !== 'object' || c === null || !ok(c.servers) || !ok(c.clients)) throw new TraceFormatError(lineNo, 'header: "cluster" must be {"servers": [int...], "clients": [int...]}');
  }
  return o as TraceHeader;
}

function decodeValue(v: unknown, lineNo: number, key: string): TraceValue {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v;
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$num') {
      switch (o.$num) {
        case 'NaN':
          return NaN;
        case 'Infinity':
          return Infinity;
        case '-Infinity':
          return -Infinity;
        case '-0':
          return -0;
      }
    }
  }
  throw new TraceFormatError(lineNo, `field "${key}": expected a string, number, boolean or null, got ${JSON.stringify(v)}`);
}

/** Validates and decodes one record line. */
export function parseRecordLine(line: string, lineNo: number): TraceRecord {
  const a = parseJson(line, lineNo);
  if (!Array.isArray(a)) throw new TraceFormatError(lineNo, `record: expected [t, node, kind, fields?], got ${typeName(a)}`);
  if (a.length !== 3 && a.length !== 4) throw new TraceFormatError(lineNo, `record: expected 3 or 4 elements [t, node, kind, fields?], got ${a.length}`);
  const [t, node, kind, fields] = a as unknown[];
  if (typeof t !== 'number' || !(t >= 0)) throw new TraceFormatError(lineNo, `record: time must be a non-negative number (ns), got ${JSON.stringify(t)}`);
  if (typeof node !== 'number' || !Number.isInteger(node) || node < -1) throw new TraceFormatError(lineNo, `record: node must be an integer ≥ -1, got ${JSON.stringify(node)}`);
  if (typeof kind !== 'string' || kind.length === 0) throw new TraceFormatError(lineNo, `record: kind must be a non-empty string, got ${JSON.stringify(kind)}`);
  if (a.length === 3) return { t, node, kind };
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new TraceFormatError(lineNo, `record: fields must be an object, got ${typeName(fields)}`);
  const f: Record<string, TraceValue> = {};
  const src = fields as Record<string, unknown>;
  for (const k of Object.keys(src)) f[k] = decodeValue(src[k], lineNo, k);
  return { t, node, kind, fields: f };
}

/**
 * Reads a trace file from its text or its lines. Empty lines (and a trailing newline) are ignored;
 * '\r' line ends are accepted. Throws TraceFormatError naming the 1-based line on bad input,
 * including records out of time order and a record count that differs from the header's.
 */
export function readTrace(input: string | readonly string[]): TraceFile {
  const lines = typeof input === 'string' ? input.split('\n') : input;
  let header: TraceHeader | null = null;
  const records: TraceRecord[] = [];
  let lastT = 0;
  let lastLine = 0;
  let headerLine = 0;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const lineNo = i + 1;
    if (header === null) {
      header = parseHeaderLine(line, lineNo);
      headerLine = lineNo;
      continue;
    }
    const r = parseRecordLine(line, lineNo);
    if (r.t < lastT) throw new TraceFormatError(lineNo, `record: time ${r.t} ns is before the previous record's ${lastT} ns (records must be in time order)`);
    lastT = r.t;
    lastLine = lineNo;
    records.push(r);
  }
  if (header === null) throw new TraceFormatError(0, 'empty trace: no header line');
  if (records.length !== header.records) {
    throw new TraceFormatError(Math.max(lastLine, headerLine), `expected ${header.records} records (header), found ${records.length}${records.length < header.records ? ' (file cut short?)' : ''}`);
  }
  return { header, records };
}
