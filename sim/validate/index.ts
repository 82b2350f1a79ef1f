/**
 * Trace validation (spec/README.md, "Trace validation"): a run's recorded events become a TLA+
 * module of trace steps that spec/trace/<Spec>Trace.tla walks with TLC. Pure: building the module
 * text and reading TLC's answer; writing files and running java is the CLI's job
 * (cli/commands/validate.ts).
 */
import { buildLolkvTrace } from './lolkv.js';
import { buildRowankvTrace } from './rowankv.js';
import type { RecordLike, ValidationTrace } from './types.js';
import { eventText } from './types.js';

export * from './types.js';
export * from './tla.js';
export { buildLolkvTrace, selectLolkvEvents } from './lolkv.js';
export { buildRowankvTrace } from './rowankv.js';

export type ValidatedProtocol = 'lolkv' | 'rowankv';

export const VALIDATED_PROTOCOLS: readonly ValidatedProtocol[] = ['lolkv', 'rowankv'];

export interface BuildOptions {
  servers: readonly number[];
  /** Validate the first N protocol events only. */
  maxEvents?: number;
  /** The protocol's options (sizes the mapping needs, e.g. LoLKV's incarnation array). */
  protocolOptions?: Record<string, unknown>;
  /** TLC budget written into the module: stop (inconclusive) after this many seconds / states. */
  budgetSeconds?: number;
  budgetStates?: number;
  /** LoLKV: an uncommitted PUT a later read could reveal lands on any subset of its followers (default: none or all). */
  fullLanding?: boolean;
}

export function buildValidationTrace(protocol: ValidatedProtocol, records: readonly RecordLike[], opts: BuildOptions): ValidationTrace {
  const budget = { seconds: opts.budgetSeconds ?? 600, states: opts.budgetStates ?? 2_000_000 };
  if (protocol === 'lolkv') {
    const inc = opts.protocolOptions?.['incarnations'];
    const rc = opts.protocolOptions?.['readCheckTimeoutNs'];
    return buildLolkvTrace(records, {
      servers: opts.servers,
      ...(opts.maxEvents !== undefined ? { maxEvents: opts.maxEvents } : {}),
      ...(typeof inc === 'number' ? { incarnations: inc } : {}),
      ...(typeof rc === 'number' ? { readCheckTimeoutNs: rc } : {}),
      ...(opts.fullLanding === true ? { fullLanding: true } : {}),
      budget,
    });
  }
  const shards = opts.protocolOptions?.['shards'];
  const replicas = opts.protocolOptions?.['replicas'];
  return buildRowankvTrace(records, {
    servers: opts.servers,
    ...(typeof shards === 'number' ? { shards } : {}),
    ...(typeof replicas === 'number' ? { replicas } : {}),
    ...(opts.maxEvents !== undefined ? { maxEvents: opts.maxEvents } : {}),
    budget,
  });
}

/** TLC's answer to a trace spec run, read from its output. */
export interface ValidationVerdict {
  verdict: 'valid' | 'rejected' | 'inconclusive' | 'error';
  /** Highest cursor value reached (1-based step index; steps + 1 when the whole trace was taken). */
  maxStep: number;
  /** When rejected: the first step no behavior could take, and its event. */
  firstRejected?: {
    index: number;
    event: string;
    kind: string;
    step: { index: number; action: string };
    /** Up to five events before it (their text), for context. */
    context: string[];
  };
  /** Why inconclusive / error. */
  reason?: string;
}

/**
 * Reads the trace spec's markers out of TLC's output: "tv-accepted" (the whole trace was
 * consumed), the last "tv-progress" (the highest cursor value reached), "tv-budget" (stopped
 * early). `tlcVerdict` is kvlab tlc's parse of the same output.
 */
export function readValidationOutput(output: string, trace: ValidationTrace, tlcVerdict: 'ok' | 'violation' | 'error', tlcError?: string): ValidationVerdict {
  let maxStep = 1;
  let accepted = false;
  let budget: string | null = null;
  for (const l of output.split(/\r?\n/)) {
    const m = /^<<"tv-progress", (\d+)>>$/.exec(l);
    if (m) maxStep = Math.max(maxStep, Number(m[1]));
    else if (l === '"tv-accepted"') accepted = true;
    else {
      const b = /^<<"tv-budget", "(\w+)">>$/.exec(l);
      if (b) budget = b[1]!;
    }
  }
  if (accepted && maxStep > trace.steps.length) return { verdict: 'valid', maxStep };
  if (budget !== null) return { verdict: 'inconclusive', maxStep, reason: `TLC stopped at its ${budget} budget before deciding (highest step reached ${maxStep} of ${trace.steps.length})` };
  if (tlcVerdict !== 'ok') return { verdict: 'error', maxStep, reason: tlcError ?? `TLC reported a ${tlcVerdict}` };
  const step = trace.steps[maxStep - 1];
  if (step === undefined) return { verdict: 'error', maxStep, reason: `TLC's highest step ${maxStep} is outside the trace (${trace.steps.length} steps)` };
  const ev = trace.events[step.ev - 1]!;
  const context = trace.events.slice(Math.max(0, step.ev - 6), step.ev - 1).map(eventText);
  return {
    verdict: 'rejected',
    maxStep,
    firstRejected: { index: ev.index, event: eventText(ev), kind: ev.kind, step: { index: maxStep, action: step.a }, context },
  };
}

export { eventText };
export type { RecordLike };
