/**
 * Byte copies carved out of shared slabs.
 *
 * The simulator copies bytes all the time: every load of a byte range (`Memory.read`, `peek`),
 * every posted payload, every READ response. `Uint8Array.prototype.slice` allocates a fresh
 * ArrayBuffer each time, and above V8's on-heap limit (64 bytes) that is a separately allocated,
 * GC-tracked backing store: ≈ 730 ns per copy on this machine against ≈ 40 ns at 64 bytes — most
 * LoLKV objects (key, 64-byte value, header) are just above it. A view into a 64 KiB slab costs
 * ≈ 70 ns at any small size. Copies above `MAX_SLAB_COPY_BYTES` get their own buffer.
 *
 * Each copy is the caller's alone (slab regions are never handed out twice), so this is a drop-in
 * for `slice`. A slab lives as long as any copy carved from it: a copy kept for a long time keeps
 * its 64 KiB slab alive, a bounded overhead per long-lived copy. Nothing here is observable by
 * the simulation: runs and trace hashes do not depend on where bytes are stored.
 */
const SLAB_BYTES = 64 * 1024;
const MAX_SLAB_COPY_BYTES = 4096;

let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

/** A fresh copy of `src[from, from + length)` (bounds are the caller's to check). */
export function copyBytes(src: Uint8Array, from: number, length: number): Uint8Array {
  if (length > MAX_SLAB_COPY_BYTES || length <= 64) return src.slice(from, from + length);
  if (slabUsed + length > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, length);
  // 8-byte alignment keeps every copy's words aligned (DataView and Float64Array users).
  slabUsed += (length + 7) & ~7;
  out.set(src.subarray(from, from + length));
  return out;
}
