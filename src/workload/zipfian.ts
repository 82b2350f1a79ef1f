import type { Rng } from '../platform/index.js';
import { zeta, zetaRange } from './zeta.js';

/**
 * YCSB's `ZipfianGenerator`: Gray et al.'s rejection-free method ("Quickly Generating
 * Billion-Record Synthetic Databases", SIGMOD '94). Rank 0 is the most popular item; ranks 0 and 1
 * get exactly 1/ζ(n,θ) and 2^−θ/ζ(n,θ), the tail follows the zipfian closely. One rng draw per
 * sample, so the stream of draws is the same whatever the item count.
 *
 * The item count may grow between samples (YCSB's "latest"): ζ is then extended incrementally.
 * One deliberate deviation: YCSB keeps using the *initial* item count inside η after growth; we use
 * the current one, as Gray's formula intends (the difference vanishes for large counts).
 */
export class ZipfianGenerator {
  private readonly alpha: number;
  private readonly zeta2: number;
  private readonly half: number;
  private countForZeta: number;
  private zetan: number;
  private eta: number;

  /**
   * @param items number of items (ranks 0..items−1), ≥ 1
   * @param theta the zipfian constant in [0, 1)
   * @param zetan ζ(items, θ) when known in advance (YCSB precomputes it for 10^10 items)
   */
  constructor(
    items: number,
    readonly theta: number,
    zetan?: number,
  ) {
    if (!(items >= 1)) throw new Error(`zipfian needs at least one item, got ${items}`);
    if (!(theta >= 0 && theta < 1)) throw new Error(`zipfian constant must be in [0, 1), got ${theta}`);
    this.alpha = 1 / (1 - theta);
    this.zeta2 = zetaRange(0, 2, theta);
    this.half = 1 + Math.pow(0.5, theta);
    this.countForZeta = items;
    this.zetan = zetan ?? zeta(items, theta);
    this.eta = this.etaFor(items);
  }

  /** ζ(n, θ) for the current item count. */
  get zetaN(): number {
    return this.zetan;
  }

  private etaFor(items: number): number {
    return (1 - Math.pow(2 / items, 1 - this.theta)) / (1 - this.zeta2 / this.zetan);
  }

  /** A rank in [0, items). `items` may grow (never shrink) from call to call. */
  next(rng: Rng, items: number = this.countForZeta): number {
    if (items !== this.countForZeta) {
      if (items < this.countForZeta) throw new Error(`zipfian item count may only grow (${this.countForZeta} → ${items})`);
      this.zetan = zetaRange(this.countForZeta, items, this.theta, this.zetan);
      this.countForZeta = items;
      this.eta = this.etaFor(items);
    }
    const u = rng.next();
    const uz = u * this.zetan;
    if (uz < 1) return 0;
    if (uz < this.half) return items > 1 ? 1 : 0;
    const r = Math.floor(items * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    // Rounding can land on `items` when u is within an ulp of 1.
    return r < items ? r : items - 1;
  }
}
