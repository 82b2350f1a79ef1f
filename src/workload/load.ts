import type { Runtime, Task } from '../platform/index.js';
import type { KvClient } from '../protocols/protocol.js';
import type { WorkloadConfig } from './config.js';
import type { HistorySink, ProcessIdSource } from './driver.js';
import { keyName } from './keyspace.js';
import { FixedSize, ValueFactory, type ValueSizer, ZippyDbSize } from './values.js';

/**
 * YCSB's load phase: writes the `keys` keys a run starts with (YCSB `-load`), so reads find values
 * and value sizes are what the run measures. Each put is recorded in the history like any other
 * (a checker then knows every initial value); values are unique, `vL<clientId>:<seq>:…`, distinct
 * from the same client's run values. Loading can be split between clients with `part`.
 */

export interface LoadOptions {
  clientId: number;
  processIds: ProcessIdSource;
  sink: HistorySink;
  /** Load only share `index` of `of` equal contiguous shares of the keys. Default: all of them. */
  part?: { index: number; of: number };
}

export interface LoadResult {
  ok: number;
  fail: number;
  info: number;
}

/** The key name of key number `n` in a config's key space (`k<n>` for kind "mixed"). */
export function initialKeyName(cfg: WorkloadConfig, n: number): string {
  return cfg.kind === 'mixed' ? `k${n}` : keyName(n, cfg.keyOrder);
}

/** The key numbers [from, to) of share `index` of `of`. */
export function loadRange(keys: number, index: number, of: number): [number, number] {
  return [Math.floor((keys * index) / of), Math.floor((keys * (index + 1)) / of)];
}

export function* loadKeys(p: { readonly rt: Runtime }, client: KvClient, cfg: WorkloadConfig, opts: LoadOptions): Task<LoadResult> {
  const rt = p.rt;
  const keys = cfg.kind === 'mixed' ? cfg.mixed.keys : cfg.keys;
  const [from, to] = opts.part === undefined ? [0, keys] : loadRange(keys, opts.part.index, opts.part.of);
  const vs = cfg.valueSize;
  const sizer: ValueSizer = vs.kind === 'fixed' ? new FixedSize(vs.bytes) : new ZippyDbSize(rt.rng(`workload/c${opts.clientId}/load-size`), vs.meanBytes, vs.maxBytes);
  const values = new ValueFactory(opts.clientId, true);
  const result: LoadResult = { ok: 0, fail: 0, info: 0 };
  let process = opts.processIds.next();
  for (let n = from; n < to; n++) {
    const key = initialKeyName(cfg, n);
    const value = values.make(sizer.nextSizeBytes());
    opts.sink.invoke({ process, type: 'invoke', f: 'put', key, value, time: rt.now() });
    const r = yield* client.put(key, value);
    opts.sink.complete({ process, type: r.type, f: 'put', key, value, time: rt.now() });
    result[r.type]++;
    if (r.type === 'info') process = opts.processIds.next();
  }
  return result;
}
