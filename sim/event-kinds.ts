import { EV } from './kernel.js';
import { FEV } from './fabric/world.js';

/** Event code of fault injections (sim/faults.ts). */
export const EV_FAULT = 40;

/** Every event kind code, named: the kernel's, the fabric's and fault injections. */
const NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  ...Object.entries(EV).map(([name, code]) => [code, name] as [number, string]),
  ...Object.entries(FEV).map(([name, code]) => [code, name] as [number, string]),
  [EV_FAULT, 'FAULT'],
]);

/**
 * A run's events by kind, in code order, kinds that did not occur left out — where a run's events
 * go (`kvlab bench lolkv --json`: THREAD_STEP is every resumption of a coroutine, the rest are NIC,
 * timer and fault events). A code nobody named shows as `code<N>`.
 */
export function eventsByKind(byCode: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let c = 0; c < byCode.length; c++) {
    const n = byCode[c]!;
    if (n > 0) out[NAMES.get(c) ?? `code${c}`] = n;
  }
  return out;
}
