/**
 * Trace tooling: the in-memory recorder, the JSONL trace file, the human timeline and the
 * Chrome trace-event (Perfetto) export. Pure: no I/O, no wall clock (docs/trace.md).
 */
import type { Sim } from '../kernel.js';
import type { TraceMeta } from './format.js';
import type { MemoryRecorder } from './recorder.js';

export * from './recorder.js';
export * from './format.js';
export * from './timeline.js';
export * from './perfetto.js';

/**
 * The trace-file header for a finished run: seed, trace hash, kernel events and virtual time from
 * the kernel; record totals from the recorder.
 */
export function traceMetaFor(
  sim: Sim,
  rec: MemoryRecorder,
  info: { scenario: unknown; cluster?: { servers: readonly number[]; clients: readonly number[] } },
): TraceMeta {
  const meta: TraceMeta = {
    scenario: info.scenario,
    seed: sim.seed,
    traceHash: sim.hash.hex(),
    events: sim.events,
    virtualTimeNs: sim.now,
    threadSteps: rec.threadSteps,
    totalRecords: rec.total,
    truncated: rec.truncated,
  };
  if (info.cluster !== undefined) meta.cluster = { servers: [...info.cluster.servers], clients: [...info.cluster.clients] };
  return meta;
}
