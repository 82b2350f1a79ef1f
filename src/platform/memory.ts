import type { Task } from './task.js';

/** Largest value a 64-bit memory word may hold through this interface (JS numbers are exact to 2^53). */
export const MAX_WORD = Number.MAX_SAFE_INTEGER;

/**
 * A contiguous region of a node's memory: DRAM (lost at a crash) or persistent memory.
 *
 * Two kinds of access:
 *  - Task-returning operations are *shared-memory operations*: each is a scheduling point, so the
 *    simulator decides how the threads of a node interleave around them. Use them for anything
 *    another thread or the NIC may touch concurrently (hash tables, counters, published objects).
 *  - `peek`/`poke` are synchronous, for bytes the calling thread owns exclusively (a buffer it is
 *    composing, a segment it alone appends to). They are not scheduling points.
 *
 * 64-bit words are little-endian and hold integers in [0, 2^53). Aligned 8-byte words are the unit
 * of atomicity: at a crash each unpersisted word of PM keeps either its old or its new value.
 *
 * Persistent memory: stores land in a volatile cache level; `persist(range)` (clwb + sfence) moves
 * them to the persistence domain. On DRAM `persist` only costs its fence.
 */
export interface Memory {
  readonly name: string;
  readonly kind: 'dram' | 'pm';
  readonly sizeBytes: number;

  read(offset: number, length: number): Task<Uint8Array>;
  write(offset: number, bytes: Uint8Array): Task<void>;
  load64(offset: number): Task<number>;
  store64(offset: number, value: number): Task<void>;
  /** Atomic compare-and-swap of an aligned word; returns the old value (success iff old === expected). */
  cas64(offset: number, expected: number, desired: number): Task<number>;
  /** Atomic fetch-and-add of an aligned word; returns the old value. */
  faa64(offset: number, delta: number): Task<number>;
  /** Makes [offset, offset+length) durable (PM) — clwb of every line, then sfence. */
  persist(offset: number, length: number): Task<void>;

  /** Copy of bytes, no scheduling point (thread-private data only). */
  peek(offset: number, length: number): Uint8Array;
  /** Stores bytes, no scheduling point (thread-private data only). Still volatile until persisted. */
  poke(offset: number, bytes: Uint8Array): void;
  peek64(offset: number): number;
  poke64(offset: number, value: number): void;
}

/** A slice of local memory: the source or destination of a fabric operation. */
export interface LocalSlice {
  readonly mem: Memory;
  readonly offset: number;
  readonly length: number;
}

export function slice(mem: Memory, offset: number, length: number): LocalSlice {
  return { mem, offset, length };
}

/** Allocates memory regions on a node. PM regions are named and reopened with their contents after a restart. */
export interface MemoryProvider {
  /** A DRAM region, zeroed; gone after a crash. */
  dram(name: string, sizeBytes: number): Memory;
  /**
   * A persistent-memory region (`pmem_map_file`): created zeroed on first use, reopened with its
   * durable contents after a restart. `sizeBytes` must match the existing region.
   */
  pm(name: string, sizeBytes: number): Memory;
  /** Whether `pm` regions are backed by real persistent memory (always false in the simulator). */
  readonly isRealPm: boolean;
}
