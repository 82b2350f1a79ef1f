/**
 * An HDR-style latency histogram over integer nanoseconds: exact below 256 ns, then 128 buckets per
 * power of two (relative bucket width ≤ 1/128 ≈ 0.8%). Everything is integer counting — no float
 * accumulates — so histograms merge by addition, in any order, with identical results; a report is
 * a pure function of the recorded multiset.
 *
 * A quantile reports the highest value equivalent to its bucket (as HdrHistogram does), clamped to
 * the largest value recorded: never below the true quantile, at most 0.8% above it.
 */

const SUB_BITS = 8;
const SUB_COUNT = 1 << SUB_BITS; // 256 exact values, then 128 per octave
const HALF = SUB_COUNT >> 1;
const TWO32 = 4294967296;

/** Index of the highest set bit of a positive integer < 2^53. */
function msb(v: number): number {
  if (v < TWO32) return 31 - Math.clz32(v);
  return 63 - Math.clz32(Math.floor(v / TWO32));
}

/** The bucket of a value. */
export function bucketOf(v: number): number {
  if (v < SUB_COUNT) return v;
  const shift = msb(v) - (SUB_BITS - 1); // ≥ 1
  const sub = Math.floor(v / 2 ** shift); // in [128, 256)
  return SUB_COUNT + (shift - 1) * HALF + (sub - HALF);
}

/** The largest value that falls in bucket `b`. */
export function bucketHigh(b: number): number {
  if (b < SUB_COUNT) return b;
  const shift = Math.floor((b - SUB_COUNT) / HALF) + 1;
  const sub = ((b - SUB_COUNT) % HALF) + HALF;
  return (sub + 1) * 2 ** shift - 1;
}

/** The smallest value that falls in bucket `b`. */
export function bucketLow(b: number): number {
  if (b < SUB_COUNT) return b;
  const shift = Math.floor((b - SUB_COUNT) / HALF) + 1;
  const sub = ((b - SUB_COUNT) % HALF) + HALF;
  return sub * 2 ** shift;
}

export interface LatencySummary {
  count: number;
  minNs: number;
  maxNs: number;
  /** Integer mean (floor of sum / count). */
  meanNs: number;
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  p999Ns: number;
}

export class LatencyHistogram {
  private counts: number[] = [];
  private n = 0;
  private sum = 0;
  private min = Infinity;
  private max = 0;

  /** Records one latency (rounded to a non-negative integer of ns). */
  record(latencyNs: number): void {
    const v = latencyNs > 0 ? Math.round(latencyNs) : 0;
    const b = bucketOf(v);
    while (this.counts.length <= b) this.counts.push(0);
    this.counts[b]!++;
    this.n++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  get count(): number {
    return this.n;
  }

  get maxNs(): number {
    return this.max;
  }

  get minNs(): number {
    return this.n === 0 ? 0 : this.min;
  }

  /** Adds every value of `other` to this histogram. */
  merge(other: LatencyHistogram): void {
    while (this.counts.length < other.counts.length) this.counts.push(0);
    for (let i = 0; i < other.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.n += other.n;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /**
   * The value at quantile `q` in [0, 1]: the smallest recorded bucket whose cumulative count reaches
   * ⌈q·count⌉ (at least 1). q is taken in parts per million so the rank is exact integer arithmetic.
   */
  quantileNs(q: number): number {
    if (this.n === 0) return 0;
    const ppm = Math.min(1_000_000, Math.max(0, Math.round(q * 1_000_000)));
    const rank = Math.max(1, Math.ceil((ppm * this.n) / 1_000_000));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.min(bucketHigh(b), this.max);
    }
    return this.max;
  }

  summary(): LatencySummary {
    return {
      count: this.n,
      minNs: this.minNs,
      maxNs: this.max,
      meanNs: this.n === 0 ? 0 : Math.floor(this.sum / this.n),
      p50Ns: this.quantileNs(0.5),
      p90Ns: this.quantileNs(0.9),
      p99Ns: this.quantileNs(0.99),
      p999Ns: this.quantileNs(0.999),
    };
  }
}
