import type { History, HistoryEvent, OpFn } from './history.js';

/**
 * Operations: a history's invoke events paired with their completions, on one real-time axis.
 *
 * This is the single place that decides whether a sequence of events is a well-formed history
 * (pairing and values); the JSONL parser reuses it and turns its errors into line numbers.
 */

/** How an operation ended. An invoke that never completes is treated as `info` (outcome unknown). */
export type OpStatus = 'ok' | 'fail' | 'info';

export interface Op {
  /** Position in invoke order (0-based); stable for a given history. */
  id: number;
  process: number;
  f: OpFn;
  key: string;
  status: OpStatus;
  /** put/append: the string written; cas: [expected, new]; get: null. */
  input: string | [string | null, string] | null;
  /** get with status ok: the value read (null = absent); undefined otherwise. */
  output?: string | null;
  /** Index of the invoke event in `history.events`. */
  invokeIndex: number;
  /** Index of the completion event, or null when the operation never completed. */
  completeIndex: number | null;
  invokeTimeNs?: number;
  completeTimeNs?: number;
  /**
   * Real-time interval on the history's axis: event times in ns when every event has one, else
   * event indices. `end` is +Infinity for info and pending operations: they may take effect at
   * any later point. Op A precedes op B iff A.end < B.start.
   */
  start: number;
  end: number;
}

/** A malformed history, located by event index; the parser maps the index to a line number. */
export class HistoryError extends Error {
  constructor(
    readonly eventIndex: number,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`event ${eventIndex}: ${field}: ${reason}`);
    this.name = 'HistoryError';
  }
}

/** True when every event has a time, so times (not event order) define real-time order. */
export function usesTimes(history: History): boolean {
  return history.events.length > 0 && history.events.every((e) => typeof e.time === 'number');
}

/** Pairs events into operations (in invoke order), validating pairing and values. */
export function toOps(history: History): Op[] {
  const timed = usesTimes(history);
  const ops: Op[] = [];
  /** Pending operation per process (insertion-ordered; only looked up by key). */
  const pending = new Map<number, Op>();
  let lastTimeNs = -Infinity;
  history.events.forEach((e, i) => {
    if (timed) {
      const t = e.time!;
      if (t < lastTimeNs) throw new HistoryError(i, 'time', `goes backwards (${t} < ${lastTimeNs})`);
      lastTimeNs = t;
    }
    const at = timed ? e.time! : i;
    const open = pending.get(e.process);
    if (e.type === 'invoke') {
      if (open) {
        throw new HistoryError(
          i,
          'type',
          `process ${e.process} already has a pending ${open.f} (event ${open.invokeIndex}); it must complete first`,
        );
      }
      const op: Op = {
        id: ops.length,
        process: e.process,
        f: e.f,
        key: e.key,
        status: 'info',
        input: invokeInput(e, i),
        invokeIndex: i,
        completeIndex: null,
        start: at,
        end: Infinity,
      };
      if (timed) op.invokeTimeNs = e.time!;
      ops.push(op);
      pending.set(e.process, op);
      return;
    }
    if (!open) throw new HistoryError(i, 'type', `${e.type} without a pending invoke for process ${e.process}`);
    if (e.f !== open.f) throw new HistoryError(i, 'f', `must be ${open.f}, as in the pending invoke (event ${open.invokeIndex})`);
    if (e.key !== open.key) {
      throw new HistoryError(i, 'key', `must be ${JSON.stringify(open.key)}, as in the pending invoke (event ${open.invokeIndex})`);
    }
    checkCompletionValue(e, open, i);
    pending.delete(e.process);
    open.status = e.type;
    open.completeIndex = i;
    if (timed) open.completeTimeNs = e.time!;
    // Only ok and fail bound the operation in time; info leaves it open to take effect later.
    if (e.type !== 'info') open.end = at;
    if (e.type === 'ok' && e.f === 'get') open.output = e.value as string | null;
  });
  return ops;
}

function invokeInput(e: HistoryEvent, i: number): Op['input'] {
  switch (e.f) {
    case 'get':
      if (e.value !== null && e.value !== undefined) throw new HistoryError(i, 'value', 'must be null for a get invoke');
      return null;
    case 'put':
    case 'append':
      if (typeof e.value !== 'string') throw new HistoryError(i, 'value', `must be a string (the value to ${e.f})`);
      return e.value;
    case 'cas':
      if (!isCasValue(e.value)) throw new HistoryError(i, 'value', 'must be a 2-array [expected: string|null, new: string]');
      return [e.value[0], e.value[1]];
  }
}

/**
 * A completion repeats its invoke's value or omits it (null/absent), except a get ok, which
 * carries the value read. Anything else is a history that contradicts itself.
 */
function checkCompletionValue(e: HistoryEvent, open: Op, i: number): void {
  if (e.f === 'get') {
    if (e.type === 'ok') {
      if (e.value === undefined) throw new HistoryError(i, 'value', 'missing: a get ok carries the value read (null = absent)');
      if (e.value !== null && typeof e.value !== 'string') throw new HistoryError(i, 'value', 'must be a string or null (the value read)');
    } else if (e.value !== null && e.value !== undefined) {
      throw new HistoryError(i, 'value', `must be null for a get ${e.type}`);
    }
    return;
  }
  if (e.value === null || e.value === undefined) return;
  if (e.f === 'cas') {
    if (!isCasValue(e.value)) throw new HistoryError(i, 'value', 'must be a 2-array [expected: string|null, new: string]');
    const [x, y] = open.input as [string | null, string];
    if (e.value[0] !== x || e.value[1] !== y) throw new HistoryError(i, 'value', `must equal the invoked ${JSON.stringify([x, y])}`);
    return;
  }
  if (e.value !== open.input) throw new HistoryError(i, 'value', `must equal the invoked ${JSON.stringify(open.input)}`);
}

function isCasValue(v: unknown): v is [string | null, string] {
  return Array.isArray(v) && v.length === 2 && (v[0] === null || typeof v[0] === 'string') && typeof v[1] === 'string';
}
