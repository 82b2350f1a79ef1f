import { Access, type CompletionQueue, type Listener, type Memory, type MemoryKey, type Platform, type SharedReceiveQueue, type Task } from '../../platform/index.js';
import { Writer } from '../../kv/codec.js';

/**
 * The receiver side of Rowan (remote write aggregation).
 *
 * One PM region holds a ring of `buffers` receive buffers of `bufferBytes` each. All RC QPs from
 * remote senders are bound to ONE shared receive queue in multi-packet mode (stride
 * `strideBytes`), so the NIC lands every SEND, whatever QP it came on, at the next stride-aligned
 * offset of the buffer at the head of the SRQ: concurrent small writes from many senders become one
 * sequential PM write stream.
 *
 * A control thread posts buffers in ring order — increasing PM addresses, wrapping at the end of
 * the region — in batches of `postBatch`, keeping `postAhead` buffers posted. It never polls the
 * receive CQ per message: the CQ is an overrun-ignoring ring that the NIC may overwrite. The
 * control thread learns how many buffers the NIC has retired from the SRQ's consumer index
 * (`postedCount`: buffers posted and not yet retired — what the mlx5 driver reads from the striding
 * RQ's consumed-strides counter and libfabric reports with FI_MULTI_RECV completions), once per
 * `pollIntervalNs`. A retired buffer is reposted when its turn in the ring comes and it is free:
 * at once (`recycle: 'on-retire'`, the microbenchmark, which keeps no data) or after the owner
 * releases it (`'on-release'`, Rowan-KV, whose backup log keeps data until it is cleaned).
 *
 * Senders learn the receiver's boot tag (private data of the connection) and put it into every
 * frame, so frames left in PM by an earlier boot are never taken for new ones.
 */

export interface RowanReceiverOptions {
  /** PM region name (the backup log). */
  region: string;
  /** Service name senders connect to. */
  service: string;
  buffers: number;
  bufferBytes: number;
  strideBytes: number;
  postBatch: number;
  postAhead: number;
  pollIntervalNs: number;
  recycle: 'on-retire' | 'on-release';
  cqCapacity: number;
  /** TEST ONLY: post each batch in decreasing address order (a DLWA / ordering bug). */
  unsafeReverseBatches?: boolean;
}

export const ROWAN_DEFAULTS = {
  buffers: 64,
  bufferBytes: 64 << 10,
  strideBytes: 64,
  postBatch: 4,
  postAhead: 4,
  pollIntervalNs: 2_000,
  cqCapacity: 64,
} as const;

export class RowanReceiver {
  readonly mem: Memory;
  readonly key: MemoryKey;
  readonly tag: number;
  readonly srq: SharedReceiveQueue;
  readonly cq: CompletionQueue;
  /** Ring indexes of buffers, in the order they were posted (the order the NIC fills them). */
  readonly postedSeq: number[] = [];
  /** How many of postedSeq the NIC has retired. */
  retired = 0;
  private readonly free: Uint8Array;
  private nextRing = 0;
  private listener: Listener | null = null;
  /** Address-order violations seen (the backup log must be one increasing stream, mod the ring). */
  readonly orderProblems: string[] = [];
  private lastRetiredRing = -1;
  stopped = false;

  constructor(
    private readonly p: Platform,
    readonly opts: RowanReceiverOptions,
  ) {
    if (opts.bufferBytes % opts.strideBytes !== 0) throw new Error('rowan: bufferBytes must be a multiple of strideBytes');
    this.mem = p.memory.pm(opts.region, opts.buffers * opts.bufferBytes);
    this.key = p.fabric.registerMemory(this.mem, Access.REMOTE_READ);
    this.tag = (p.rt.bootCount + 1) >>> 0;
    this.cq = p.fabric.createCq({ capacity: opts.cqCapacity, overrunIgnoring: true });
    this.srq = p.fabric.createSrq({ capacity: opts.buffers, cq: this.cq, multiPacket: { strideBytes: opts.strideBytes } });
    this.free = new Uint8Array(opts.buffers).fill(1);
  }

  get strides(): number {
    return this.opts.bufferBytes / this.opts.strideBytes;
  }

  bufferOffset(ring: number): number {
    return ring * this.opts.bufferBytes;
  }

  /** Posts the first batches, then starts listening and the control thread. */
  *start(): Task<void> {
    yield* this.refill();
    const pd = new Writer(8).u32(this.tag).u32(this.key.rkey).finish();
    const sendCq = this.p.fabric.createCq({ capacity: 16, overrunIgnoring: true });
    this.listener = this.p.fabric.listen(this.opts.service, { cq: sendCq, srq: this.srq, privateData: pd });
    const self = this;
    this.p.rt.spawn(`rowan.control.${this.opts.service}`, function* (): Task<void> {
      while (!self.stopped) {
        yield* self.p.rt.sleep(self.opts.pollIntervalNs);
        self.observeRetired();
        yield* self.refill();
      }
    });
  }

  /** Reads the SRQ consumer index: every buffer posted before the still-posted ones is retired. */
  observeRetired(): void {
    const nowRetired = this.postedSeq.length - this.srq.postedCount;
    while (this.retired < nowRetired) {
      const ring = this.postedSeq[this.retired]!;
      this.noteRetired(ring);
      this.retired++;
      if (this.opts.recycle === 'on-retire') this.free[ring] = 1;
    }
  }

  private noteRetired(ring: number): void {
    const prev = this.lastRetiredRing;
    if (prev >= 0 && ring !== (prev + 1) % this.opts.buffers && this.orderProblems.length < 4) {
      this.orderProblems.push(`backup log filled buffer ${ring} (offset ${this.bufferOffset(ring)}) right after buffer ${prev} (offset ${this.bufferOffset(prev)}): not one increasing write stream`);
    }
    this.lastRetiredRing = ring;
  }

  /** Posts free buffers in ring order, a batch at a time, while fewer than postAhead are posted. */
  *refill(): Task<void> {
    const o = this.opts;
    while (this.srq.postedCount < o.postAhead) {
      const batch: number[] = [];
      for (let i = 0; i < o.postBatch; i++) {
        const ring = (this.nextRing + i) % o.buffers;
        if (this.free[ring] !== 1) break;
        batch.push(ring);
      }
      if (batch.length === 0) return;
      if (o.unsafeReverseBatches === true) batch.reverse();
      for (const ring of batch) {
        this.free[ring] = 0;
        yield* this.srq.postRecv({ mem: this.mem, offset: ring * o.bufferBytes, length: o.bufferBytes }, ring);
        // Recorded only once posted (no scheduling point in between): the consumer-index
        // arithmetic in observeRetired counts posted buffers.
        this.postedSeq.push(ring);
      }
      this.nextRing = (this.nextRing + batch.length) % o.buffers;
    }
  }

  /** The owner no longer needs buffer `ring` (its live frames were cleaned away): it may be reposted. */
  release(ring: number): void {
    this.free[ring] = 1;
  }

  stop(): void {
    this.stopped = true;
    this.listener?.close();
  }
}
