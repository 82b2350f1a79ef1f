import type { Rng } from '../platform/index.js';
import type { OpKind } from './stats.js';

/**
 * Operation mixes: YCSB's core workloads as its `workloads/workload{a..f}` files define them, and
 * the weighted choice among operations (YCSB's `DiscreteGenerator`).
 */

export type YcsbOp = 'read' | 'update' | 'insert' | 'scan' | 'readModifyWrite';
export type Mix = Partial<Record<OpKind, number>>;

export interface YcsbPreset {
  mix: Mix;
  /** YCSB `requestdistribution`. */
  distribution: 'zipfian' | 'latest';
  /** One line for docs. */
  summary: string;
}

export const YCSB_PRESETS: Readonly<Record<'A' | 'B' | 'C' | 'D' | 'E' | 'F', YcsbPreset>> = {
  A: { mix: { read: 0.5, update: 0.5 }, distribution: 'zipfian', summary: 'update heavy: 50% read, 50% update' },
  B: { mix: { read: 0.95, update: 0.05 }, distribution: 'zipfian', summary: 'read mostly: 95% read, 5% update' },
  C: { mix: { read: 1 }, distribution: 'zipfian', summary: 'read only' },
  D: { mix: { read: 0.95, insert: 0.05 }, distribution: 'latest', summary: 'read latest: 95% read, 5% insert, recent keys hot' },
  E: { mix: { scan: 0.95, insert: 0.05 }, distribution: 'zipfian', summary: 'short ranges: 95% scan (uniform length 1–100), 5% insert' },
  F: { mix: { read: 0.5, readModifyWrite: 0.5 }, distribution: 'zipfian', summary: 'read-modify-write: 50% read, 50% read-modify-write' },
};

/**
 * Weighted choice: one uniform draw u·Σw, then the first operation whose cumulative weight exceeds
 * it, in the fixed order given (YCSB's DiscreteGenerator). Zero-weight entries are never chosen.
 */
export class DiscreteChooser<T> {
  private readonly items: readonly { item: T; weight: number }[];
  readonly total: number;

  constructor(items: readonly { item: T; weight: number }[]) {
    this.items = items.filter((x) => x.weight > 0);
    this.total = this.items.reduce((a, x) => a + x.weight, 0);
    if (!(this.total > 0)) throw new Error('every operation weight is zero');
  }

  /** The normalized probability of `item`. */
  probability(item: T): number {
    let w = 0;
    for (const x of this.items) if (x.item === item) w += x.weight;
    return w / this.total;
  }

  next(rng: Rng): T {
    let v = rng.next() * this.total;
    for (const x of this.items) {
      if (v < x.weight) return x.item;
      v -= x.weight;
    }
    return this.items[this.items.length - 1]!.item; // rounding at the top end
  }
}
