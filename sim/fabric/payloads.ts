import { copyBytes } from '../bytes.js';

/**
 * Recycled payload buffers of the NIC model.
 *
 * A posted WRITE or SEND captures its bytes at post time (the platform's contract for inline
 * sources; for registered memory it is the DMA read), and a READ captures the remote bytes when
 * the responder serves it. Allocating a fresh ArrayBuffer for each was ≈ 9% of `kvlab bench
 * sim-core` (backing-store allocation, and scavenges copying the in-flight ones). A buffer goes back
 * to the pool only where the NIC model is provably its last holder — once its bytes have been
 * placed in the destination memory — and the work request drops its reference at that point, so a
 * use after release fails loudly instead of reading recycled bytes. Buffers of a work request that
 * fails, is flushed or is cut off by a crash are simply left to the garbage collector.
 *
 * Recycling is invisible to the simulation: a buffer is always filled completely before use, so
 * runs (and trace hashes) are the same with or without it.
 */
export class PayloadPool {
  /** Free buffers by exact length. */
  private readonly free = new Map<number, Uint8Array[]>();
  private pooledBytes = 0;

  constructor(
    /** Bytes kept for reuse at most (beyond that, released buffers are left to the GC). */
    private readonly maxPooledBytes = 4 << 20,
    /** Payloads longer than this are never pooled (rare, and they would crowd out the small ones). */
    private readonly maxPooledLength = 16384,
  ) {}

  /** A buffer holding a copy of `src[from, from + length)`. */
  copy(src: Uint8Array, from = 0, length = src.length - from): Uint8Array {
    if (!(Number.isInteger(from) && Number.isInteger(length) && from >= 0 && length >= 0 && from + length <= src.length)) {
      throw new RangeError(`payload [${from}, +${length}) outside its ${src.length}-byte source`);
    }
    const list = this.free.get(length);
    if (list !== undefined && list.length > 0) {
      const b = list.pop()!;
      this.pooledBytes -= length;
      b.set(from === 0 && length === src.length ? src : src.subarray(from, from + length));
      return b;
    }
    return copyBytes(src, from, length);
  }

  /** Gives back a buffer from `copy` that nobody reads any more. */
  release(b: Uint8Array): void {
    const n = b.length;
    if (n === 0 || n > this.maxPooledLength || this.pooledBytes + n > this.maxPooledBytes) return;
    let list = this.free.get(n);
    if (list === undefined) {
      list = [];
      this.free.set(n, list);
    }
    list.push(b);
    this.pooledBytes += n;
  }
}
