import type { Rng } from '../platform/index.js';

/**
 * Value sizes and value contents.
 *
 * ZippyDB model. The Rowan seed sizes its objects after Meta's ZippyDB, "average object size 90.8 B"
 * (Cao et al., FAST '20: small, heavy-tailed sizes; the authors' RocksDB `db_bench mixgraph`
 * benchmark draws value sizes from a generalized Pareto distribution). We draw sizes from a
 * generalized Pareto distribution with shape ξ = 0.2615 and scale σ = 25.45 — the value-size
 * parameters of the `mixgraph` example — shifted by a location μ chosen so the mean μ + σ/(1−ξ)
 * is the configured mean (90.8 B by default, so μ ≈ 56.3 B: every value fits the uniqueness prefix
 * below). Sizes are rounded to whole bytes and capped at `maxBytes` (default 1024;
 * P(X > 1024) ≈ 1e-4, moving the mean by < 0.05 B). Standard deviation ≈ 50 B; the tail decays
 * like x^−3.8.
 */

/** Draws the size in bytes of the next value written. */
export interface ValueSizer {
  nextSizeBytes(): number;
  /** The distribution's mean in bytes (before rounding and capping). */
  readonly meanBytes: number;
}

export class FixedSize implements ValueSizer {
  constructor(readonly sizeBytes: number) {}

  get meanBytes(): number {
    return this.sizeBytes;
  }

  nextSizeBytes(): number {
    return this.sizeBytes;
  }
}

export const ZIPPYDB_MEAN_BYTES = 90.8;
export const ZIPPYDB_GPD_SHAPE = 0.2615;
export const ZIPPYDB_GPD_SCALE = 25.45;

/** Generalized Pareto sizes by inversion: x = μ + σ/ξ · ((1−u)^−ξ − 1). */
export class ZippyDbSize implements ValueSizer {
  readonly locationBytes: number;

  constructor(
    private readonly rng: Rng,
    readonly meanBytes: number = ZIPPYDB_MEAN_BYTES,
    readonly maxBytes: number = 1024,
    readonly shape: number = ZIPPYDB_GPD_SHAPE,
    readonly scale: number = ZIPPYDB_GPD_SCALE,
  ) {
    this.locationBytes = meanBytes - scale / (1 - shape);
    if (!(this.locationBytes >= 0)) throw new Error(`zippydb mean ${meanBytes} B is below the distribution's excess mean ${(scale / (1 - shape)).toFixed(2)} B`);
  }

  nextSizeBytes(): number {
    const u = this.rng.next();
    const x = this.locationBytes + (this.scale / this.shape) * (Math.pow(1 - u, -this.shape) - 1);
    const b = Math.round(x);
    return b < 1 ? 1 : b > this.maxBytes ? this.maxBytes : b;
  }
}

/**
 * Unique values: every write of a run carries a string no other write has, so a checker can tell
 * which write a read observed. Grammar: `v<writer>:<seq>:` followed by `x` padding up to the
 * requested size, where `<writer>` is the client id, or `L<client id>` for the load phase. The
 * prefix wins when the size is smaller than it (values are then longer than asked: ≥ 5 bytes).
 * Concatenations (appends) stay parseable: each piece starts with `v`, which never occurs inside
 * one.
 */
export class ValueFactory {
  private seq = 0;
  private readonly writer: string;

  /** @param load values of the load phase (`vL<id>:…`): distinct from the same client's run values */
  constructor(
    readonly clientId: number,
    load = false,
  ) {
    this.writer = load ? `L${clientId}` : String(clientId);
  }

  /** Values made so far. */
  get count(): number {
    return this.seq;
  }

  make(sizeBytes: number): string {
    const prefix = `v${this.writer}:${this.seq++}:`;
    return prefix.length >= sizeBytes ? prefix : prefix + 'x'.repeat(sizeBytes - prefix.length);
  }
}

/** Splits a concatenation of unique values (an appended key's content) back into its pieces. */
export function splitValues(s: string): string[] {
  return s.match(/vL?\d+:\d+:x*/g) ?? [];
}
