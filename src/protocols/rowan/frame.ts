import { crc32c } from '../../kv/checksum.js';

/**
 * The framing of every message Rowan lands and of every entry of a CPU-written log (Rowan-KV's
 * primary logs use the same frames, so a primary sends the bytes it logged):
 *
 *   0  u32 crc   CRC-32C over bytes [12, len): the length and the payload
 *   4  u32 tag   who may trust the frame: the receiver's boot count (Rowan messages; a sender
 *                learns it when it connects) or the segment generation (CPU logs)
 *   8  u32 seq   the sender's sequence number (makes every frame unique; outside the CRC so a
 *                resend only patches it)
 *  12  u32 len   total bytes, header included
 *  16  payload
 *
 * A frame is *valid* at a position iff len is in range, the CRC matches and the tag is the expected
 * one. Zeroed memory is never valid (len 0). A torn frame (some words old, some new, or a prefix)
 * fails the CRC with probability 1 - 2^-32.
 */

export const FRAME_HEADER = 16;
const OFF_TAG = 4;
const OFF_SEQ = 8;
const OFF_LEN = 12;

/** A frame with an empty header around `payloadLen` bytes; fill the payload, then `seal`. */
export function newFrame(payloadLen: number): Uint8Array {
  return new Uint8Array(FRAME_HEADER + payloadLen);
}

/** Writes len and CRC (tag and seq are patched separately). */
export function seal(frame: Uint8Array): void {
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  dv.setUint32(OFF_LEN, frame.length, true);
  dv.setUint32(0, crc32c(frame, OFF_LEN, frame.length), true);
}

export function setTag(frame: Uint8Array, tag: number): void {
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(OFF_TAG, tag >>> 0, true);
}

export function setSeq(frame: Uint8Array, seq: number): void {
  new DataView(frame.buffer, frame.byteOffset, frame.byteLength).setUint32(OFF_SEQ, seq >>> 0, true);
}

/** Length field of the frame header at `at` (not validated). */
export function frameLen(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at + OFF_LEN, true);
}

export function frameTag(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at + OFF_TAG, true);
}

/**
 * Fingerprint of the frame at `at`: distinguishes two valid frames that lie at the same position in
 * different laps of a ring (their seq differs even when their content is the same).
 */
export function fingerprint(bytes: Uint8Array, at: number): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (dv.getUint32(at, true) ^ Math.imul(dv.getUint32(at + OFF_SEQ, true), 0x9e3779b1)) >>> 0;
}

/**
 * Checks the frame starting at `at` in `bytes` (which holds at least up to `limit`): its total
 * length if it is valid with tag `tag`, else 0.
 */
export function validFrame(bytes: Uint8Array, at: number, limit: number, tag: number): number {
  if (at + FRAME_HEADER > limit) return 0;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = dv.getUint32(at + OFF_LEN, true);
  if (len < FRAME_HEADER || at + len > limit) return 0;
  if (dv.getUint32(at + OFF_TAG, true) !== tag >>> 0) return 0;
  if (crc32c(bytes, at + OFF_LEN, at + len) !== dv.getUint32(at, true)) return 0;
  return len;
}

export function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}
