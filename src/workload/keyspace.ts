import { fnvhash64, toDecimal } from './fnv.js';

/**
 * The key space of a YCSB run: `recordCount` keys loaded up front (logical indexes 0..recordCount−1)
 * and the keys inserts add after them.
 *
 * Mirrors YCSB's `transactioninsertkeysequence` (an AcknowledgedCounterGenerator): inserts draw the
 * next index, and acknowledge it when the insert returns, whatever its outcome; `lastAcknowledged`
 * is the highest index below which every insert has returned — what "latest" reads and what other
 * distributions must not exceed (a key whose insert is still in flight may not exist yet).
 *
 * One KeySpace may be shared by every client of a simulator run (all run in one process, in a
 * deterministic order) — that is YCSB's shared counter. Clients that cannot share one (separate
 * processes on the native backend) each take a partition: the inserts of client `offset` of
 * `stride` get key numbers recordCount + offset + stride·j, so no two clients insert the same key.
 * Logical indexes stay dense either way; only {@link KeySpace.keynum} knows about partitions.
 */
export class KeySpace {
  private nextIndex: number;
  private limit: number;
  /** Acknowledged indexes above `limit`: only membership is ever asked, never iteration order. */
  private readonly early = new Set<number>();
  readonly stride: number;
  readonly offset: number;

  constructor(
    readonly recordCount: number,
    partition: { stride: number; offset: number } = { stride: 1, offset: 0 },
  ) {
    if (!(Number.isInteger(recordCount) && recordCount >= 1)) throw new Error(`recordCount must be a positive integer, got ${recordCount}`);
    if (!(partition.stride >= 1 && partition.offset >= 0 && partition.offset < partition.stride)) {
      throw new Error(`bad key-space partition ${partition.offset}/${partition.stride}`);
    }
    this.stride = partition.stride;
    this.offset = partition.offset;
    this.nextIndex = recordCount;
    this.limit = recordCount - 1;
  }

  /** The logical index of the next insert (YCSB `transactioninsertkeysequence.nextValue()`). */
  nextInsert(): number {
    return this.nextIndex++;
  }

  /** The insert of `index` has returned (ok, fail or info). */
  acknowledge(index: number): void {
    if (index <= this.limit) return;
    this.early.add(index);
    while (this.early.has(this.limit + 1)) {
      this.limit++;
      this.early.delete(this.limit);
    }
  }

  /** Highest logical index below which every key has been loaded or its insert acknowledged. */
  lastAcknowledged(): number {
    return this.limit;
  }

  /** Logical indexes handed out so far (loaded keys plus inserts started). */
  get allocated(): number {
    return this.nextIndex;
  }

  /** The key number (what names the key) of a logical index. */
  keynum(index: number): number {
    if (index < this.recordCount || this.stride === 1) return index;
    return this.recordCount + (index - this.recordCount) * this.stride + this.offset;
  }
}

export type KeyOrder = 'hashed' | 'ordered';

/** Digits of an ordered key: enough for 10^12 keys, so lexicographic order is numeric order. */
const ORDERED_DIGITS = 12;

/**
 * YCSB's key name for a key number. `hashed` (YCSB's default `insertorder=hashed`): "user" + the
 * decimal FNV-64 hash of the number, spreading consecutive inserts over the key order.
 * `ordered`: "user" + the number zero-padded to 12 digits (YCSB pads with `zeropadding`).
 */
export function keyName(keynum: number, order: KeyOrder): string {
  if (order === 'hashed') return 'user' + toDecimal(fnvhash64(keynum));
  return 'user' + String(keynum).padStart(ORDERED_DIGITS, '0');
}
