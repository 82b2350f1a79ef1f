/**
 * Client histories (DESIGN.md "Formats"): JSONL, an optional first line `{"init": <string|null>}`,
 * then one event per line. Real-time order is line order, or the `time` field (ns) when present.
 *
 *   get    invoke value null; ok value = the value read (null = absent)
 *   put    invoke/ok value = the string written
 *   append invoke/ok value = the string appended
 *   cas    invoke/ok/fail value = [expected, new]; ok = swapped, fail = did not take effect
 *
 * `fail` means the operation certainly did not take effect; `info` means unknown (it may take
 * effect at any later point, or never).
 */

export type OpFn = 'get' | 'put' | 'append' | 'cas';
export type EventType = 'invoke' | 'ok' | 'fail' | 'info';

export interface HistoryEvent {
  process: number;
  type: EventType;
  f: OpFn;
  key: string;
  value: unknown;
  /** Virtual (simulator) or wall (native) time in ns. */
  time?: number;
}

/** The keys the history writes (every non-get invoke), in order of first write: what final reads read. */
export function writtenKeys(events: readonly HistoryEvent[]): string[] {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const e of events) {
    if (e.type !== 'invoke' || e.f === 'get' || seen.has(e.key)) continue;
    seen.add(e.key);
    keys.push(e.key);
  }
  return keys;
}

export interface History {
  /** Initial value of every key (null = absent). */
  init: string | null;
  events: HistoryEvent[];
  /** Fault markers (JSONL lines `{"fault": text, "time": ns}`): drawn on timelines, ignored by the checkers. */
  faults?: FaultMarker[];
}

/** A simulator fault (crash, partition, ...) noted in a history, for display only. */
export interface FaultMarker {
  text: string;
  /** When the fault happened, if the line had a `time`. */
  timeNs?: number;
  /** How many events precede the marker in the file: its position when there are no times. */
  afterEvent: number;
}
