/** Workload flags of `kvlab load` and `kvlab crashtest`, mapped onto the workload schema (src/workload/config.ts). */
import { InputError } from '../../src/kv/input-error.js';
import { SchemaError } from '../../src/kv/schema.js';
import { type WorkloadConfig, parseWorkload } from '../../src/workload/config.js';

export const WORKLOAD_FLAGS = { workload: 'string', keys: 'int', 'value-bytes': 'int', distribution: 'string', threads: 'int' } as const;

export const WORKLOAD_HELP = `  --workload W        YCSB A–F (default A), or "mixed" (get/put on few keys: contention)
  --keys N            keys loaded before the run (default 1000; mixed: 8)
  --value-bytes N     value size (default 64)
  --distribution D    auto (the workload's own), uniform, zipfian, latest, ...
  --threads N         client threads, each one closed-loop client (default 8)`;

export function workloadFromFlags(flags: Record<string, unknown>): { workload: WorkloadConfig; threads: number } {
  const w = String(flags['workload'] ?? 'A');
  const threads = flags['threads'] === undefined ? 8 : Number(flags['threads']);
  if (!(threads >= 1 && threads <= 1024)) throw new InputError('argv', '--threads', `must be in [1, 1024], got ${threads}`);
  const raw: Record<string, unknown> = { clientsPerNode: threads, opsPerClient: 0 };
  if (w === 'mixed') {
    raw['kind'] = 'mixed';
    raw['mixed'] = { keys: flags['keys'] ?? 8, get: 0.5, put: 0.5, append: 0, cas: 0 };
  } else {
    const up = w.toUpperCase();
    if (!['A', 'B', 'C', 'D', 'E', 'F'].includes(up)) throw new InputError('argv', '--workload', `expected A, B, C, D, E, F or mixed, got ${JSON.stringify(w)}`);
    raw['kind'] = 'ycsb';
    raw['ycsb'] = up;
    if (flags['keys'] !== undefined) raw['keys'] = flags['keys'];
  }
  if (flags['value-bytes'] !== undefined) raw['valueSize'] = { kind: 'fixed', bytes: flags['value-bytes'] };
  if (flags['distribution'] !== undefined) raw['distribution'] = flags['distribution'];
  try {
    return { workload: parseWorkload(raw, 'workload'), threads };
  } catch (e) {
    if (e instanceof SchemaError) {
      const flag = e.path.includes('distribution') ? '--distribution' : e.path.includes('keys') ? '--keys' : e.path.includes('valueSize') ? '--value-bytes' : e.path;
      throw new InputError('argv', flag, e.reason);
    }
    throw e;
  }
}
