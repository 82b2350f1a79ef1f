/**
 * The generalized harmonic number ζ(n, θ) = Σ_{i=1..n} 1/i^θ that normalizes a zipfian over n items.
 *
 * YCSB sums it term by term, which is fine for a thousand items and hopeless for its scrambled
 * zipfian's 10^10 — so YCSB ships that one value precomputed (`ScrambledZipfianGenerator.ZETAN`).
 * Here small n are summed exactly (in YCSB's order) and large n use the Euler–Maclaurin expansion,
 * whose error with a 1000-term head is below 1e-15 relative: far under double rounding of the sum.
 */

/** YCSB's default zipfian constant. */
export const YCSB_ZIPFIAN_CONSTANT = 0.99;
/** Items of YCSB's scrambled zipfian (`ScrambledZipfianGenerator.ITEM_COUNT`). */
export const YCSB_SCRAMBLED_ITEM_COUNT = 10_000_000_000;
/** YCSB's precomputed ζ(10^10, 0.99) (`ScrambledZipfianGenerator.ZETAN`). */
export const YCSB_SCRAMBLED_ZETAN = 26.46902820178302;

/** Up to this many items the sum is computed term by term. */
export const EXACT_ZETA_LIMIT = 1_000_000;
const HEAD = 1000;

/** Σ_{i=from+1..to} 1/i^θ added to `initial`, in increasing i (YCSB's `zetastatic(st, n, theta, initialsum)`). */
export function zetaRange(from: number, to: number, theta: number, initial = 0): number {
  let sum = initial;
  for (let i = from; i < to; i++) sum += 1 / Math.pow(i + 1, theta);
  return sum;
}

/** ζ(n, θ): exact summation up to {@link EXACT_ZETA_LIMIT} items, Euler–Maclaurin beyond. */
export function zeta(n: number, theta: number): number {
  if (n <= EXACT_ZETA_LIMIT) return zetaRange(0, n, theta);
  return zetaEulerMaclaurin(n, theta);
}

/**
 * ζ(n, θ) ≈ Σ_{i<m} f(i) + ∫_m^n f + (f(m)+f(n))/2 + (f'(n)−f'(m))/12 − (f'''(n)−f'''(m))/720
 * with f(x) = x^−θ and m = 1000; the next term is O(m^−θ−5) ≈ 1e-19.
 */
export function zetaEulerMaclaurin(n: number, theta: number): number {
  const m = HEAD;
  if (n <= m) return zetaRange(0, n, theta);
  const f = (x: number): number => Math.pow(x, -theta);
  const f1 = (x: number): number => -theta * Math.pow(x, -theta - 1);
  const f3 = (x: number): number => -theta * (theta + 1) * (theta + 2) * Math.pow(x, -theta - 3);
  const integral = Math.abs(1 - theta) < 1e-12 ? Math.log(n / m) : (Math.pow(n, 1 - theta) - Math.pow(m, 1 - theta)) / (1 - theta);
  const head = zetaRange(0, m - 1, theta);
  return head + integral + (f(m) + f(n)) / 2 + (f1(n) - f1(m)) / 12 - (f3(n) - f3(m)) / 720;
}
