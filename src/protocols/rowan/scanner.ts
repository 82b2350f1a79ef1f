import { Future, type Task, wait } from '../../platform/index.js';
import { fingerprint, roundUp, validFrame } from './frame.js';
import type { RowanReceiver } from './receiver.js';

/**
 * Finds the frames Rowan has landed, in landing order, without relying on receive completions
 * (the CQ is an overrun-ignoring ring): a *position scan* that follows the buffers in the order
 * they were posted (the order the NIC fills them) and walks each buffer's back-to-back,
 * stride-aligned frames.
 *
 * Where is the end of what has landed? At the first position that holds no valid frame:
 *  - a frame is valid if its length, CRC and tag (this boot of the receiver) check out;
 *  - a buffer reposted for another lap still holds frames of the previous lap beyond the new
 *    frontier. They are valid frames — so the scanner remembers, per stride slot, the fingerprint
 *    (CRC ^ seq) of the last frame it accepted there, and a frame with the remembered fingerprint
 *    is stale (every frame a sender sends has a new seq, so a new frame never repeats it).
 * A buffer is finished when the NIC has retired it (the SRQ consumer index, see RowanReceiver) or
 * when the next posted buffer already holds a valid new frame at offset 0 (the NIC never goes back
 * to an earlier buffer): the scan then moves on.
 */
export class RowanScanner {
  /** Position: index into receiver.postedSeq, byte offset inside that buffer. */
  postIndex = 0;
  offset = 0;
  /** Fingerprint of the last accepted frame per stride slot. */
  private readonly stale: Uint32Array;
  /** Per ring buffer: where the frames of its current lap end (known once it is finished), -1 while open. */
  readonly fillEnd: Int32Array;
  frames = 0;

  constructor(
    readonly rx: RowanReceiver,
    private readonly chunkBytes = 4096,
  ) {
    this.stale = new Uint32Array(rx.opts.buffers * rx.strides);
    this.fillEnd = new Int32Array(rx.opts.buffers).fill(-1);
  }

  /**
   * Visits every frame landed since the last call, in landing order: `visit(bytes, at, len, regionOffset)`
   * where bytes[at, at+len) is the frame. Returns the number of frames visited.
   */
  *scan(visit: (bytes: Uint8Array, at: number, len: number, regionOffset: number) => void): Task<number> {
    // One scan at a time (the digest thread and a promotion may both ask): a second caller waits
    // for the running scan, then scans what landed since.
    while (this.busy !== null) yield* wait(this.busy);
    const done = new Future<void>();
    this.busy = done;
    try {
      return yield* this.scanLocked(visit);
    } finally {
      this.busy = null;
      done.resolve();
    }
  }

  private busy: Future<void> | null = null;

  private *scanLocked(visit: (bytes: Uint8Array, at: number, len: number, regionOffset: number) => void): Task<number> {
    const rx = this.rx;
    const B = rx.opts.bufferBytes;
    const stride = rx.opts.strideBytes;
    let n = 0;
    for (;;) {
      if (this.postIndex >= rx.postedSeq.length) return n;
      const ring = rx.postedSeq[this.postIndex]!;
      const base = rx.bufferOffset(ring);
      if (this.offset < B) {
        // Frames are at most chunkBytes long, so a chunk that starts at a frame holds all of it.
        const bytes = yield* rx.mem.read(base + this.offset, Math.min(this.chunkBytes, B - this.offset));
        let at = 0;
        for (;;) {
          const flen = validFrame(bytes, at, bytes.length, rx.tag);
          if (flen === 0) break;
          const slot = ring * rx.strides + (this.offset + at) / stride;
          const fp = fingerprint(bytes, at);
          if (this.stale[slot] === fp) break;
          this.stale[slot] = fp;
          visit(bytes, at, flen, base + this.offset + at);
          n++;
          this.frames++;
          at += roundUp(flen, stride);
          if (at >= bytes.length) break;
        }
        if (at > 0) {
          this.offset += at;
          continue;
        }
      }
      if (this.finished(this.postIndex)) {
        this.fillEnd[ring] = this.offset;
        this.postIndex++;
        this.offset = 0;
        const nx = rx.postedSeq[this.postIndex];
        if (nx !== undefined) this.fillEnd[nx] = -1;
        continue;
      }
      return n;
    }
  }

  /** Has the NIC moved past posted buffer `postIndex`? */
  private finished(postIndex: number): boolean {
    const rx = this.rx;
    if (this.offset >= rx.opts.bufferBytes) return true;
    rx.observeRetired();
    if (postIndex < rx.retired) return true;
    const next = rx.postedSeq[postIndex + 1];
    if (next === undefined) return false;
    // Position scan: a new frame at the start of the next posted buffer.
    const head = rx.mem.peek(rx.bufferOffset(next), 64);
    const flen = validFrame(head, 0, 64, rx.tag);
    if (flen === 0) {
      const full = rx.mem.peek(rx.bufferOffset(next), Math.min(rx.opts.bufferBytes, 4096));
      if (validFrame(full, 0, full.length, rx.tag) === 0) return false;
      return this.stale[next * rx.strides] !== fingerprint(full, 0);
    }
    return this.stale[next * rx.strides] !== fingerprint(head, 0);
  }
}
