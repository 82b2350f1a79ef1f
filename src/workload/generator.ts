import type { Rng } from '../platform/index.js';
import {
  ExactZipfianChooser,
  HotShardChooser,
  type KeyChooser,
  LatestChooser,
  ScrambledZipfianChooser,
  UniformChooser,
  hashShardOf,
  uniformLength,
} from './choosers.js';
import type { WorkloadConfig } from './config.js';
import { KeySpace, keyName } from './keyspace.js';
import { DiscreteChooser, type Mix, YCSB_PRESETS } from './mixes.js';
import type { OpKind } from './stats.js';
import { FixedSize, ValueFactory, type ValueSizer, ZippyDbSize } from './values.js';

/**
 * Turns a workload config into a stream of operations for one client. Pure apart from its rng
 * streams and the (possibly shared) key space, so the operations of a seed are the same on every
 * backend. Values are generated here, unique per client (see ValueFactory).
 */

export type Op =
  | { kind: 'read'; key: string }
  | { kind: 'update'; key: string; value: string }
  /** `index`: the key space index to acknowledge once the insert returns (whatever the outcome). */
  | { kind: 'insert'; key: string; value: string; index: number }
  | { kind: 'scan'; key: string; count: number }
  | { kind: 'readModifyWrite'; key: string; value: string }
  | { kind: 'get'; key: string }
  | { kind: 'put'; key: string; value: string }
  | { kind: 'append'; key: string; value: string }
  | { kind: 'cas'; key: string; expected: string | null; value: string };

/** Which optional KvClient methods exist (missing ones are removed from the mix). */
export interface ClientCapabilities {
  append: boolean;
  cas: boolean;
  scan: boolean;
}

export interface GeneratorOptions {
  /** Unique across the run: goes into every value written. */
  clientId: number;
  /** The client's random stream for a purpose (e.g. `p.rt.rng`-backed; one stream per purpose). */
  rng: (purpose: string) => Rng;
  /** A key space shared with other clients (YCSB's global insert counter); default: a private one. */
  keySpace?: KeySpace;
  /** Clients in the run: YCSB's operation count (expected inserts) and the default insert partition. */
  totalClients?: number;
  /** Without a shared key space: this client's share of new key numbers (default clientId mod totalClients of totalClients). */
  insertPartition?: { stride: number; offset: number };
  capabilities?: ClientCapabilities;
  /** Shard of a key name for "hotshard" (e.g. the protocol's own placement); default FNV-64 of the key number mod S. */
  shardOfKey?: (key: string, shards: number) => number;
}

export type ResolvedDistribution = 'uniform' | 'zipfian' | 'zipfian-exact' | 'latest' | 'hotshard';

/** The operation weights a config asks for (before removing operations the client lacks). */
export function configuredMix(cfg: WorkloadConfig): Mix {
  if (cfg.kind === 'mixed') return { get: cfg.mixed.get, put: cfg.mixed.put, append: cfg.mixed.append, cas: cfg.mixed.cas };
  if (cfg.ycsb === 'custom') return { ...cfg.mix };
  return { ...YCSB_PRESETS[cfg.ycsb].mix };
}

/** The key distribution a config uses, `auto` resolved. */
export function resolvedDistribution(cfg: WorkloadConfig): ResolvedDistribution {
  if (cfg.distribution !== 'auto') return cfg.distribution;
  if (cfg.kind === 'mixed') return 'uniform';
  if (cfg.ycsb === 'custom') return 'zipfian';
  return YCSB_PRESETS[cfg.ycsb].distribution;
}

const MIX_ORDER: readonly OpKind[] = ['read', 'update', 'insert', 'scan', 'readModifyWrite', 'get', 'put', 'append', 'cas'];

export class OpGenerator {
  readonly keySpace: KeySpace;
  readonly distribution: ResolvedDistribution;
  /** Operations of the mix the client cannot run (no such method), removed from it. */
  readonly disabledOps: OpKind[] = [];
  private readonly ops: DiscreteChooser<OpKind>;
  private readonly chooser: KeyChooser;
  private readonly sizer: ValueSizer;
  private readonly values: ValueFactory;
  private readonly opRng: Rng;
  private readonly scanRng: Rng;
  private readonly mixed: boolean;
  /** kind "mixed": the value this client last saw per key, for cas expectations. */
  private readonly lastSeen = new Map<string, string | null>();

  constructor(
    readonly cfg: WorkloadConfig,
    opts: GeneratorOptions,
  ) {
    this.mixed = cfg.kind === 'mixed';
    const caps = opts.capabilities ?? { append: true, cas: true, scan: true };
    const mix = configuredMix(cfg);
    const weights: { item: OpKind; weight: number }[] = [];
    for (const op of MIX_ORDER) {
      const w = mix[op] ?? 0;
      if (w <= 0) continue;
      if ((op === 'append' && !caps.append) || (op === 'cas' && !caps.cas) || (op === 'scan' && !caps.scan)) {
        this.disabledOps.push(op);
        continue;
      }
      weights.push({ item: op, weight: w });
    }
    if (weights.length === 0) throw new Error(`workload: the client supports none of the operations of the mix (${this.disabledOps.join(', ')})`);
    this.ops = new DiscreteChooser(weights);

    const totalClients = opts.totalClients ?? 1;
    const n = this.mixed ? cfg.mixed.keys : cfg.keys;
    if (opts.keySpace !== undefined && !this.mixed) {
      if (opts.keySpace.recordCount !== n) throw new Error(`workload: shared key space has ${opts.keySpace.recordCount} keys, config says ${n}`);
      this.keySpace = opts.keySpace;
    } else {
      this.keySpace = new KeySpace(n, opts.insertPartition ?? { stride: totalClients, offset: ((opts.clientId % totalClients) + totalClients) % totalClients });
    }

    this.opRng = opts.rng('op');
    this.scanRng = opts.rng('scan');
    const keyRng = opts.rng('key');
    this.distribution = resolvedDistribution(cfg);
    const theta = cfg.zipfTheta;
    switch (this.distribution) {
      case 'uniform':
        this.chooser = new UniformChooser(n, keyRng);
        break;
      case 'zipfian': {
        // YCSB sizes the scrambled zipfian for the keys inserts will add (2× the expected
        // inserts, its "fudge factor") so hot keys stay put as the key space grows; keys not yet
        // inserted are redrawn (see nextIndex).
        const insertShare = this.ops.probability('insert');
        const expectedNewKeys = this.mixed ? 0 : Math.floor(cfg.opsPerClient * totalClients * insertShare * 2);
        this.chooser = new ScrambledZipfianChooser(n + expectedNewKeys, theta, keyRng);
        break;
      }
      case 'zipfian-exact':
        this.chooser = new ExactZipfianChooser(n, theta, keyRng);
        break;
      case 'latest':
        this.chooser = new LatestChooser(this.keySpace, theta, keyRng);
        break;
      case 'hotshard': {
        const shards = cfg.hotShard.shards;
        const shardOfKey = opts.shardOfKey;
        const shardOf = shardOfKey === undefined ? (i: number) => hashShardOf(this.keySpace.keynum(i), shards) : (i: number) => shardOfKey(this.keyOf(i), shards);
        this.chooser = new HotShardChooser(n, shards, cfg.hotShard.fraction, keyRng, shardOf);
        break;
      }
    }

    const vs = cfg.valueSize;
    this.sizer = vs.kind === 'fixed' ? new FixedSize(vs.bytes) : new ZippyDbSize(opts.rng('size'), vs.meanBytes, vs.maxBytes);
    this.values = new ValueFactory(opts.clientId);
  }

  /** The key name of a logical key index. */
  keyOf(index: number): string {
    if (this.mixed) return `k${index}`;
    return keyName(this.keySpace.keynum(index), this.cfg.keyOrder);
  }

  /** YCSB `nextKeynum()`: a key that exists — redraw while the chooser lands beyond the acknowledged keys. */
  private nextIndex(): number {
    let k = this.chooser.next();
    while (k > this.keySpace.lastAcknowledged()) k = this.chooser.next();
    return k;
  }

  private nextValue(): string {
    return this.values.make(this.sizer.nextSizeBytes());
  }

  /** The probability of `op` in the effective mix. */
  probability(op: OpKind): number {
    return this.ops.probability(op);
  }

  next(): Op {
    const kind = this.ops.next(this.opRng);
    switch (kind) {
      case 'read':
        return { kind, key: this.keyOf(this.nextIndex()) };
      case 'update':
        return { kind, key: this.keyOf(this.nextIndex()), value: this.nextValue() };
      case 'insert': {
        const index = this.keySpace.nextInsert();
        return { kind, key: this.keyOf(index), value: this.nextValue(), index };
      }
      case 'scan': {
        const key = this.keyOf(this.nextIndex());
        return { kind, key, count: uniformLength(this.scanRng, this.cfg.maxScanLength) };
      }
      case 'readModifyWrite':
        return { kind, key: this.keyOf(this.nextIndex()), value: this.nextValue() };
      case 'get':
        return { kind, key: this.keyOf(this.nextIndex()) };
      case 'put':
      case 'append':
        return { kind, key: this.keyOf(this.nextIndex()), value: this.nextValue() };
      case 'cas': {
        const key = this.keyOf(this.nextIndex());
        return { kind, key, expected: this.lastSeen.get(key) ?? null, value: this.nextValue() };
      }
    }
  }

  /** The client learnt the current value of `key` (a read, or its own write that took effect). */
  observe(key: string, value: string | null): void {
    if (this.mixed) this.lastSeen.set(key, value);
  }

  /** The client no longer knows the value of `key`. */
  forget(key: string): void {
    if (this.mixed) this.lastSeen.delete(key);
  }

  /** An insert returned (ok, fail or info): its key may now be chosen by other operations. */
  insertDone(index: number): void {
    this.keySpace.acknowledge(index);
  }
}
