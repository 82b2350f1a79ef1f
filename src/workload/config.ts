import { type FieldDoc, type Schema, SchemaError, type SchemaType, s } from '../kv/schema.js';

/**
 * The workload section of a scenario: what the clients do, how keys and values are drawn, and how
 * operations are paced. Every field has a default; `describeWorkload()` lists them for docs/CLI.
 * See docs/workload.md.
 */

export const YCSB_WORKLOADS = ['A', 'B', 'C', 'D', 'E', 'F', 'custom'] as const;
export type YcsbWorkload = (typeof YCSB_WORKLOADS)[number];

export const DISTRIBUTIONS = ['auto', 'uniform', 'zipfian', 'zipfian-exact', 'latest', 'hotshard'] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

export type ValueSizeConfig = { kind: 'fixed'; bytes: number } | { kind: 'zippydb'; meanBytes: number; maxBytes: number };

const weight = (def: number, doc: string): Schema<number> => s.num({ min: 0, default: def, doc });

const mixFields = s.obj(
  {
    read: weight(0.5, 'weight of reads (get of an existing key)'),
    update: weight(0.5, 'weight of updates (put of a new value to an existing key)'),
    insert: weight(0, 'weight of inserts (put of a new key, extending the key space)'),
    scan: weight(0, 'weight of scans (up to maxScanLength pairs from a start key; counted, not in the history)'),
    readModifyWrite: weight(0, 'weight of read-modify-writes (get, then put of the same key)'),
  },
  { doc: 'operation weights for ycsb: "custom" (relative; normalized by their sum)' },
);

const mixedFields = s.obj(
  {
    keys: s.int({ min: 1, default: 3, doc: 'number of keys ("k0", "k1", …): few, for contention' }),
    get: weight(0.4, 'weight of get'),
    put: weight(0.3, 'weight of put (a unique value)'),
    append: weight(0.1, 'weight of append (a unique value); dropped if the client has no append'),
    cas: weight(0.2, 'weight of cas from the value this client last saw (null if none) to a unique value; dropped if the client has no cas'),
  },
  { doc: 'kind "mixed": a register workload for correctness checks' },
);

const valueSizeSchema = s.tagged<ValueSizeConfig>(
  {
    fixed: s.obj({
      kind: s.oneOf(['fixed'] as const, { default: 'fixed', doc: 'every value has the same size' }),
      bytes: s.int({ min: 1, default: 64, doc: 'value size in bytes' }),
    }),
    zippydb: s.obj({
      kind: s.oneOf(['zippydb'] as const, { default: 'zippydb', doc: 'small, heavy-tailed sizes after Meta ZippyDB (generalized Pareto)' }),
      meanBytes: s.num({ min: 34.5, default: 90.8, doc: 'mean value size in bytes (ZippyDB: 90.8)' }),
      maxBytes: s.int({ min: 64, default: 1024, doc: 'sizes above this are capped' }),
    }),
  },
  { default: { kind: 'fixed', bytes: 64 }, doc: 'value size model: {kind:"fixed", bytes} or {kind:"zippydb", meanBytes, maxBytes}' },
);


// Enum fields are declared outside the object literal: inside it, the contextual type
// Schema<unknown> would widen s.oneOf's literal union to plain string.
const kindField = s.oneOf(['ycsb', 'mixed'] as const, { default: 'ycsb', doc: '"ycsb": YCSB core workloads; "mixed": get/put/append/cas on a few keys (checker-friendly contention)' });
const ycsbField = s.oneOf(YCSB_WORKLOADS, { default: 'A', doc: 'YCSB core workload A–F, or "custom" to take the weights from `mix`' });
const distributionField = s.oneOf(DISTRIBUTIONS, {
  default: 'auto',
  doc: 'key distribution. auto: the YCSB workload\'s own (latest for D, zipfian otherwise; uniform for kind "mixed"). zipfian: YCSB scrambled zipfian; zipfian-exact: zipfian over exactly the keys (ranks permuted); latest: recent inserts hot; hotshard: see hotShard',
});
const keyOrderField = s.oneOf(['hashed', 'ordered'] as const, { default: 'hashed', doc: 'YCSB key names: hashed = "user" + FNV-64(n) (YCSB default), ordered = "user" + n zero-padded to 12 digits' });
const modeField = s.oneOf(['closed', 'open'] as const, { default: 'closed', doc: 'closed: each client issues its next op when the previous completes (plus think time); open: Poisson arrivals at arrivalRatePerSec' });

const fields = s.obj(
  {
    kind: kindField,
    ycsb: ycsbField,
    mix: mixFields,
    mixed: mixedFields,
    distribution: distributionField,
    zipfTheta: s.num({ min: 0, max: 0.99, default: 0.99, doc: 'zipfian constant θ for zipfian, zipfian-exact and latest (0 = uniform)' }),
    hotShard: s.obj(
      {
        shards: s.int({ min: 2, default: 8, doc: 'number of shards S the keys are split into by hash' }),
        fraction: s.num({ min: 0, max: 1, default: 0.5, doc: 'fraction of operations that go (uniformly) to the keys of shard 0; the rest go uniformly to the other shards' }),
      },
      { doc: 'distribution "hotshard"' },
    ),
    keys: s.int({ min: 1, max: 2 ** 52, default: 1000, doc: 'kind "ycsb": keys loaded before the run (YCSB recordcount); inserts add more' }),
    keyOrder: keyOrderField,
    maxScanLength: s.int({ min: 1, default: 100, doc: 'scans read a uniform 1..maxScanLength pairs' }),
    valueSize: valueSizeSchema,
    clientsPerNode: s.int({ min: 1, default: 1, doc: 'client threads per client node (each runs its own driver)' }),
    mode: modeField,
    thinkTimeNs: s.int({ min: 0, default: 0, doc: 'closed loop: idle time between an op\'s completion and the next op' }),
    arrivalRatePerSec: s.num({ min: 1e-6, default: 100_000, doc: 'open loop: mean arrivals per second of (virtual) time, per client' }),
    maxOutstanding: s.int({ min: 1, default: 64, doc: 'open loop: max ops in flight per client; arrivals beyond it are dropped and counted' }),
    opsPerClient: s.int({ min: 0, default: 1000, doc: 'ops each client issues (open loop: arrivals, including dropped ones); 0 = no limit' }),
    durationNs: s.int({ min: 0, default: 0, doc: 'each client stops issuing ops this long after it starts; 0 = no limit' }),
    warmupNs: s.int({ min: 0, default: 0, doc: 'ops invoked earlier than this after the client starts are left out of the stats (they stay in the history)' }),
    opTimeoutNs: s.int({ min: 0, default: 0, doc: 'the driver gives up on an op after this long and records info (the process is retired); 0 = wait for the client library' }),
  },
  { doc: 'client workload' },
);

export type WorkloadConfig = SchemaType<typeof fields>;

/** Cross-field checks the field schemas cannot express. */
function validate(c: WorkloadConfig, path: string): void {
  const at = (k: string): string => (path === '' ? k : `${path}.${k}`);
  if (c.kind === 'ycsb' && c.ycsb === 'custom') {
    const m = c.mix;
    if (m.read + m.update + m.insert + m.scan + m.readModifyWrite <= 0) throw new SchemaError(at('mix'), 'weights must not all be zero');
  }
  if (c.kind === 'mixed') {
    const m = c.mixed;
    if (m.get + m.put + m.append + m.cas <= 0) throw new SchemaError(at('mixed'), 'weights must not all be zero');
  }
}

/** The workload schema (embed it in a scenario schema as is). */
export const workloadSchema: Schema<WorkloadConfig> = {
  typeName: fields.typeName,
  doc: fields.doc,
  get defaultValue(): WorkloadConfig | undefined {
    return fields.defaultValue;
  },
  parse(v: unknown, path: string): WorkloadConfig {
    const c = fields.parse(v, path);
    validate(c, path);
    return c;
  },
  describe(path: string): FieldDoc[] {
    return fields.describe(path);
  },
};

/** Parses a workload section; throws SchemaError naming the field. */
export function parseWorkload(v: unknown, path = 'workload'): WorkloadConfig {
  return workloadSchema.parse(v, path);
}

/** Documentation rows of every workload field. */
export function describeWorkload(path = 'workload'): FieldDoc[] {
  return workloadSchema.describe(path);
}
