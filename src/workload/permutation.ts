import { fnvhash64 } from './fnv.js';

/**
 * A fixed pseudo-random bijection of [0, n): a 4-round balanced Feistel network on the smallest
 * even bit width that covers n, with cycle walking (re-encrypt until the value falls below n;
 * fewer than 4 rounds of walking on average since the domain is < 4n).
 *
 * Used to place the ranks of an exact zipfian on keys: the popular keys are spread over the key
 * space (and over shards) like YCSB's hash scrambling, but without hash collisions, so every key
 * keeps exactly its rank's probability and θ = 0 stays exactly uniform. The permutation is a
 * constant of the code, not of the seed: the same keys are hot in every run.
 */
export class FeistelPermutation {
  private readonly halfBits: number;
  private readonly mask: number;
  private readonly half: number;

  constructor(readonly n: number) {
    if (!(Number.isInteger(n) && n >= 1 && n <= 2 ** 52)) throw new Error(`permutation size must be an integer in [1, 2^52], got ${n}`);
    let bits = 1;
    while (2 ** bits < n) bits++;
    this.halfBits = Math.ceil(bits / 2);
    this.half = 2 ** this.halfBits;
    this.mask = this.half - 1;
  }

  private round(r: number, k: number): number {
    const h = fnvhash64(r * 4 + k);
    return ((h.lo ^ h.hi) & this.mask) >>> 0;
  }

  /** The image of `x` in [0, n). */
  apply(x: number): number {
    if (this.n === 1) return 0;
    let v = x;
    do {
      let left = Math.floor(v / this.half);
      let right = v - left * this.half;
      for (let k = 0; k < 4; k++) {
        const next = (left ^ this.round(right, k)) >>> 0;
        left = right;
        right = next;
      }
      v = left * this.half + right;
    } while (v >= this.n);
    return v;
  }
}
