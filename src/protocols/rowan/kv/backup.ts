import type { Platform, Task } from '../../../platform/index.js';
import { RowanReceiver } from '../receiver.js';
import { RowanScanner } from '../scanner.js';
import { frameTag, roundUp, validFrame } from '../frame.js';
import { peekEntryHead } from './entry.js';
import { ROWAN_SERVICE, type RowanKvOptions } from './options.js';

/** Where a backup holds the newest version it has seen of a key. */
export interface BackupLoc {
  off: number;
  len: number;
  ver: number;
}

/**
 * The backup side of Rowan-KV: ONE backup log per server, fed by one Rowan instance (every
 * primary of every shard this server backs up SENDs into it), and per-shard DRAM indexes built by
 * the *digest* thread off the critical path: it follows the Rowan position scan and records, per
 * shard and key, the newest version's location (a version replaces an entry only if strictly newer,
 * so duplicates and late frames of deposed primaries never roll a key back), and per shard the
 * highest PUT request id of every client (from every frame, superseded ones included: a new
 * primary must recognize the retry of a PUT that took effect even if a later PUT overwrote it).
 */
export class BackupStore {
  readonly rx: RowanReceiver;
  readonly scanner: RowanScanner;
  readonly index: Map<string, BackupLoc>[];
  /** Per shard: clientId → highest PUT reqId among every frame received (superseded ones too). */
  readonly dedup: Map<number, number>[];
  digested = 0;

  constructor(
    private readonly p: Platform,
    opts: RowanKvOptions,
  ) {
    this.rx = new RowanReceiver(p, {
      region: 'rk.blog',
      service: ROWAN_SERVICE,
      buffers: opts.backupBuffers,
      bufferBytes: opts.backupBufferBytes,
      strideBytes: 64,
      postBatch: opts.postBatch,
      postAhead: Math.max(2, opts.postBatch),
      pollIntervalNs: 2_000,
      recycle: 'on-release',
      cqCapacity: 64,
      unsafeReverseBatches: opts.unsafe.reverseRepost,
    });
    this.scanner = new RowanScanner(this.rx);
    this.index = Array.from({ length: opts.shards }, () => new Map<string, BackupLoc>());
    this.dedup = Array.from({ length: opts.shards }, () => new Map<number, number>());
  }

  /**
   * After a restart: every intact frame an earlier boot of this server received (any earlier tag,
   * any lap: a stride-by-stride scan that skips what is not a valid frame). Called before the
   * receiver starts reposting — and overwriting — the ring; the caller copies what it needs.
   */
  recoverEarlierBoots(visit: (bytes: Uint8Array, at: number, len: number) => void): void {
    const rx = this.rx;
    if (rx.tag <= 1) return;
    const B = rx.opts.bufferBytes;
    const stride = rx.opts.strideBytes;
    for (let ring = 0; ring < rx.opts.buffers; ring++) {
      const bytes = rx.mem.peek(rx.bufferOffset(ring), B);
      let at = 0;
      while (at < B) {
        const tag = frameTag(bytes, at);
        const len = tag >= 1 && tag < rx.tag ? validFrame(bytes, at, B, tag) : 0;
        if (len === 0) {
          at += stride;
          continue;
        }
        visit(bytes, at, len);
        at += roundUp(len, stride);
      }
    }
  }

  *start(digestIntervalNs: number): Task<void> {
    yield* this.rx.start();
    const self = this;
    this.p.rt.spawn('rk.digest', function* (): Task<void> {
      for (;;) {
        yield* self.digest();
        yield* self.p.rt.sleep(digestIntervalNs);
      }
    });
  }

  /** Indexes every frame landed so far. */
  *digest(): Task<void> {
    yield* this.scanner.scan((bytes, at, len, off) => {
      const h = peekEntryHead(bytes, at, len);
      const m = this.index[h.shard];
      if (m === undefined) return;
      const d = this.dedup[h.shard]!;
      const seen = d.get(h.clientId);
      if (seen === undefined || seen < h.reqId) d.set(h.clientId, h.reqId);
      this.digested++;
      if (h.key === '') return; // a dedup record (sent with a shard snapshot)
      const cur = m.get(h.key);
      if (cur === undefined || cur.ver < h.ver) m.set(h.key, { off, len, ver: h.ver });
    });
  }

  /** Reads the frame at a backup location. */
  *read(loc: BackupLoc): Task<Uint8Array> {
    return yield* this.rx.mem.read(loc.off, loc.len);
  }
}
