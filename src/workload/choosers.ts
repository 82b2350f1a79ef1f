import type { Rng } from '../platform/index.js';
import { fnvhash64, mod64 } from './fnv.js';
import type { KeySpace } from './keyspace.js';
import { FeistelPermutation } from './permutation.js';
import { YCSB_SCRAMBLED_ITEM_COUNT, YCSB_SCRAMBLED_ZETAN, YCSB_ZIPFIAN_CONSTANT, zetaEulerMaclaurin } from './zeta.js';
import { ZipfianGenerator } from './zipfian.js';

/** Picks the logical index of the key an operation reads or writes. */
export interface KeyChooser {
  next(): number;
}

/** Every one of `n` keys equally likely (YCSB `UniformLongGenerator(0, n−1)`). */
export class UniformChooser implements KeyChooser {
  constructor(
    private readonly n: number,
    private readonly rng: Rng,
  ) {}

  next(): number {
    return this.rng.int(this.n);
  }
}

/**
 * YCSB's `ScrambledZipfianGenerator`: a zipfian over 10^10 items (far more than there are keys),
 * whose item is hashed with FNV-64 and reduced mod the item count. Popular items land on scattered
 * keys, and since the big item space is fixed the hot keys do not move as inserts add keys.
 *
 * With θ = 0.99 this is YCSB bit for bit: its precomputed ζ(10^10, 0.99) = 26.469… and its item
 * count 10^10 + 1. Any other θ uses ζ(10^10, θ) from Euler–Maclaurin (YCSB itself would sum 10^10
 * terms). Note the scrambling makes the key-level skew much weaker than the nominal θ: at 0.99 the
 * hottest key gets ≈ 1/26.47 = 3.8% of requests whatever the key count, and below θ ≈ 0.8 the
 * result is close to uniform — use {@link ExactZipfianChooser} for a zipfian over the keys.
 */
export class ScrambledZipfianChooser implements KeyChooser {
  private readonly gen: ZipfianGenerator;

  /** @param itemCount keys the hash is reduced to (YCSB: record count + expected inserts) */
  constructor(
    readonly itemCount: number,
    theta: number,
    private readonly rng: Rng,
  ) {
    const items = YCSB_SCRAMBLED_ITEM_COUNT + 1; // YCSB: new ZipfianGenerator(0, ITEM_COUNT) spans ITEM_COUNT + 1 items
    const zetan = theta === YCSB_ZIPFIAN_CONSTANT ? YCSB_SCRAMBLED_ZETAN : zetaEulerMaclaurin(items, theta);
    this.gen = new ZipfianGenerator(items, theta, zetan);
  }

  next(): number {
    return mod64(fnvhash64(this.gen.next(this.rng)), this.itemCount);
  }
}

/**
 * A zipfian with constant θ over exactly `n` keys: rank r has probability ≈ r^−θ / ζ(n, θ) (exact
 * for the two hottest ranks), ranks placed on keys by a fixed {@link FeistelPermutation}. θ = 0 is
 * uniform. This is the distribution skew sweeps want: the hottest key's share is 1/ζ(n, θ).
 */
export class ExactZipfianChooser implements KeyChooser {
  private readonly gen: ZipfianGenerator | null;
  private readonly perm: FeistelPermutation;

  constructor(
    readonly n: number,
    readonly theta: number,
    private readonly rng: Rng,
  ) {
    this.gen = theta === 0 ? null : new ZipfianGenerator(n, theta);
    this.perm = new FeistelPermutation(n);
  }

  /** The key (logical index) holding rank `r`: rank 0 is the hottest. */
  keyOfRank(r: number): number {
    return this.perm.apply(r);
  }

  next(): number {
    const rank = this.gen === null ? this.rng.int(this.n) : this.gen.next(this.rng);
    return this.perm.apply(rank);
  }
}

/**
 * YCSB's `SkewedLatestGenerator`: the most recently inserted keys are the most popular — key
 * `last − z` where `last` is the key space's last acknowledged index and z is zipfian over the
 * acknowledged keys. YCSB draws z over `last` items so it never picks key 0; we draw over
 * `last + 1` so every existing key can be picked (an off-by-one not worth copying).
 */
export class LatestChooser implements KeyChooser {
  private readonly gen: ZipfianGenerator;

  constructor(
    private readonly keys: KeySpace,
    theta: number,
    private readonly rng: Rng,
  ) {
    this.gen = new ZipfianGenerator(keys.lastAcknowledged() + 1, theta);
  }

  next(): number {
    const last = this.keys.lastAcknowledged();
    return last - this.gen.next(this.rng, last + 1);
  }
}

/** The default shard of a key number: FNV-64 of the number mod the shard count (for `hashed` key names, the number in the name mod S). */
export function hashShardOf(keynum: number, shards: number): number {
  return mod64(fnvhash64(keynum), shards);
}

/**
 * Skew concentrated on one shard: keys are split into `shards` shards by `shardOf`; with
 * probability `fraction` an operation picks a key of shard 0 uniformly, otherwise a key of the
 * other shards uniformly. By rejection sampling over the key numbers — no per-key tables, so any
 * key count works — with a cap that turns a degenerate split into an error instead of a hang.
 */
export class HotShardChooser implements KeyChooser {
  private readonly maxTries: number;

  constructor(
    private readonly n: number,
    private readonly shards: number,
    private readonly fraction: number,
    private readonly rng: Rng,
    private readonly shardOf: (index: number) => number = (i) => hashShardOf(i, shards),
  ) {
    if (!(shards >= 2)) throw new Error(`hot-shard needs at least 2 shards, got ${shards}`);
    // Both classes must be non-empty for the ones the fraction can ask for.
    let hot = false;
    let cold = false;
    for (let i = 0; i < n && !(hot && cold); i++) {
      if (this.shardOf(i) === 0) hot = true;
      else cold = true;
    }
    if (fraction > 0 && !hot) throw new Error(`hot-shard: no key of ${n} falls in shard 0 of ${shards}`);
    if (fraction < 1 && !cold) throw new Error(`hot-shard: every key of ${n} falls in shard 0 of ${shards}`);
    this.maxTries = 1000 * shards + 1000;
  }

  next(): number {
    const wantHot = this.rng.chance(this.fraction);
    for (let t = 0; t < this.maxTries; t++) {
      const k = this.rng.int(this.n);
      if ((this.shardOf(k) === 0) === wantHot) return k;
    }
    throw new Error(`hot-shard: no ${wantHot ? 'shard-0' : 'other-shard'} key found in ${this.maxTries} draws (${this.n} keys, ${this.shards} shards)`);
  }
}

/** Uniform integer in [1, max] (YCSB scan lengths). */
export function uniformLength(rng: Rng, max: number): number {
  return 1 + rng.int(max);
}
