import type { TraceValue } from '../../src/platform/index.js';
import type { TlaRecord } from './tla.js';

/** A recorded simulator event (the shape of sim/kernel.ts's TraceRecord). */
export interface RecordLike {
  t: number;
  node: number;
  kind: string;
  fields?: Record<string, TraceValue>;
}

/** An event of the run that the trace spec consumes (1-based position in the validated trace). */
export interface TraceEvent {
  index: number;
  t: number;
  node: number;
  kind: string;
  fields: Record<string, TraceValue>;
}

/** One step of the trace module: a spec action and the values the event fixed. */
export interface TraceStep extends TlaRecord {
  /** The step kind (the TLA+ trace spec dispatches on it). */
  a: string;
  /** The event (TraceEvent.index) this step comes from. */
  ev: number;
}

/** What the generators return: the module text and how to read TLC's answer. */
export interface ValidationTrace {
  protocol: 'lolkv' | 'rowankv';
  /** The trace spec module (spec/trace/<Spec>.tla) and its cfg template. */
  specModule: string;
  /** Spec modules the trace spec needs next to it (the main spec). */
  specDeps: string[];
  /** The generated data module: its name and text. */
  dataModule: string;
  dataText: string;
  /** The events consumed, in order. */
  events: TraceEvent[];
  steps: TraceStep[];
  /** Protocol events in the run, and how many the prefix bound cut off. */
  totalProtocolEvents: number;
  truncatedEvents: number;
  /** Concrete value -> model value maps (documented in spec/README.md). */
  maps: Record<string, Record<string, string>>;
  /** Dropped events by kind (not modelled), for the report. */
  dropped: Record<string, number>;
  /** Free-form notes about the normalization (reorderings etc.). */
  notes: string[];
}

/** The text of an event as the validator reports it (close to the timeline's). */
export function eventText(e: TraceEvent): string {
  const f = Object.entries(e.fields)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `@${e.t} node ${e.node} ${e.kind}${f ? ` ${f}` : ''}`;
}
