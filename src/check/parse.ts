import { InputError } from '../kv/input-error.js';
import type { EventType, FaultMarker, History, HistoryEvent, OpFn } from './history.js';
import { HistoryError, toOps } from './ops.js';

/**
 * Strict parser for history JSONL (DESIGN.md "Formats", docs/checker.md). Every malformed input
 * throws InputError(file, "line N: field", reason); a checker must never guess what a broken
 * history meant, because a guess can hide or invent a violation.
 */

/** A parsed history plus where each event came from, so reports can cite file lines. */
export interface ParsedHistory extends History {
  /** 1-based file line of each event in `events`. */
  eventLines: number[];
}

const EVENT_TYPES: readonly EventType[] = ['invoke', 'ok', 'fail', 'info'];
const OP_FNS: readonly OpFn[] = ['get', 'put', 'append', 'cas'];
const EVENT_FIELDS = new Set(['process', 'type', 'f', 'key', 'value', 'time']);

export function parseHistory(text: string, file: string): ParsedHistory {
  const history: ParsedHistory = { init: null, events: [], eventLines: [] };
  const faults: FaultMarker[] = [];
  // Lines split on LF or CRLF; blank lines (e.g. the trailing newline) carry nothing and are skipped.
  const lines = text.split(/\r?\n/);
  let seenContent = false;
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const raw = lines[n]!;
    if (raw.trim() === '') continue;
    const where = `line ${lineNo}`;
    let obj: unknown;
    try {
      obj = JSON.parse(raw);
    } catch (err) {
      throw new InputError(file, where, `invalid JSON (${(err as Error).message})`);
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
      throw new InputError(file, where, 'must be a JSON object');
    }
    const rec = obj as Record<string, unknown>;
    if ('init' in rec) {
      if (seenContent) throw new InputError(file, `${where}: init`, 'the init line must be the first line');
      onlyFields(rec, ['init'], file, where);
      if (rec.init !== null && typeof rec.init !== 'string') throw new InputError(file, `${where}: init`, 'must be a string or null');
      history.init = rec.init;
    } else if ('fault' in rec) {
      onlyFields(rec, ['fault', 'time'], file, where);
      if (typeof rec.fault !== 'string') throw new InputError(file, `${where}: fault`, 'must be a string');
      const marker: FaultMarker = { text: rec.fault, afterEvent: history.events.length };
      if (rec.time !== undefined) marker.timeNs = timeField(rec.time, file, where);
      faults.push(marker);
    } else {
      history.events.push(eventFields(rec, file, where));
      history.eventLines.push(lineNo);
    }
    seenContent = true;
  }
  if (faults.length > 0) history.faults = faults;
  try {
    toOps(history);
  } catch (err) {
    if (err instanceof HistoryError) {
      throw new InputError(file, `line ${history.eventLines[err.eventIndex]}: ${err.field}`, err.reason);
    }
    throw err;
  }
  return history;
}

function eventFields(rec: Record<string, unknown>, file: string, where: string): HistoryEvent {
  onlyFields(rec, [...EVENT_FIELDS], file, where);
  for (const f of ['process', 'type', 'f', 'key']) {
    if (!(f in rec)) throw new InputError(file, `${where}: ${f}`, 'missing');
  }
  const { process, type, f, key } = rec;
  if (typeof process !== 'number' || !Number.isSafeInteger(process) || process < 0) {
    throw new InputError(file, `${where}: process`, 'must be a non-negative integer');
  }
  if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
    throw new InputError(file, `${where}: type`, `must be one of ${EVENT_TYPES.join(', ')}`);
  }
  if (typeof f !== 'string' || !(OP_FNS as readonly string[]).includes(f)) {
    throw new InputError(file, `${where}: f`, `must be one of ${OP_FNS.join(', ')}`);
  }
  if (typeof key !== 'string') throw new InputError(file, `${where}: key`, 'must be a string');
  // Value shapes depend on f, type and the pending invoke: toOps checks them.
  const e: HistoryEvent = { process, type: type as EventType, f: f as OpFn, key, value: rec.value };
  if (rec.time !== undefined) e.time = timeField(rec.time, file, where);
  return e;
}

function timeField(v: unknown, file: string, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new InputError(file, `${where}: time`, 'must be a non-negative number (ns)');
  }
  return v;
}

function onlyFields(rec: Record<string, unknown>, allowed: readonly string[], file: string, where: string): void {
  for (const k of Object.keys(rec)) {
    if (!allowed.includes(k)) throw new InputError(file, `${where}: ${k}`, `unknown field (allowed: ${allowed.join(', ')})`);
  }
}
