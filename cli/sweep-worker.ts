import { parentPort, workerData } from 'node:worker_threads';
import { runScenario } from '../sim/harness.js';
import { loadScenario } from './load.js';

/** A sweep worker thread: runs the seeds the main thread hands it, one at a time. */

export interface SweepTask {
  seed: number;
  attempt: number;
}

export interface SweepOutcome {
  seed: number;
  attempt: number;
  worker: number;
  traceHash: string;
  result: 'ok' | 'violation';
  events: number;
  virtualTimeNs: number;
  wallMs: number;
  violations: { kind: string; message: string }[];
  swarmKinds: string[] | null;
}

const { file, worker } = workerData as { file: string; worker: number };
const sc = loadScenario(file);
parentPort!.on('message', (task: SweepTask | null) => {
  if (task === null) {
    process.exit(0);
  }
  const t0 = performance.now();
  const r = runScenario(sc, { seed: task.seed });
  const out: SweepOutcome = {
    seed: task.seed,
    attempt: task.attempt,
    worker,
    traceHash: r.traceHash,
    result: r.result,
    events: r.events,
    virtualTimeNs: r.virtualTimeNs,
    wallMs: performance.now() - t0,
    violations: r.violations.map((v) => ({ kind: v.kind, message: v.message })),
    swarmKinds: r.swarm?.kinds ?? null,
  };
  parentPort!.postMessage(out);
});
parentPort!.postMessage('ready');
