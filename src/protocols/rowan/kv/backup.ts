import type { Platform, Task } from '../../../platform/index.js';
import { RowanReceiver } from '../receiver.js';
import { RowanScanner } from '../scanner.js';
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
