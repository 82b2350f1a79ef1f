import type { Memory, Platform, Task } from '../../platform/index.js';

/**
 * The incarnation array (docs/lolkv.md, "Concurrent writes to the same key"): atomic counters in
 * shared DRAM indexed by key hash. A PUT takes `faa + 1` as its incarnation, so of two PUTs to
 * one key the later `faa` gets the larger number; with the term, (term, inc) orders a key's
 * versions. Reset to zero when a new term starts (the term alone makes its objects newer).
 */
export class Incarnations {
  readonly mem: Memory;

  constructor(
    p: Platform,
    readonly size: number,
  ) {
    this.mem = p.memory.dram('lolkv.incarnations', size * 8);
  }

  *next(hash: number): Task<number> {
    return (yield* this.mem.faa64((hash % this.size) * 8, 1)) + 1;
  }

  *reset(): Task<void> {
    yield* this.mem.write(0, new Uint8Array(this.size * 8));
  }
}
