import type { LocalSlice, SharedReceiveQueue, Task, Wait } from '../../src/platform/index.js';
import type { SimMemory } from '../memory.js';
import type { SimNode } from '../node.js';
import { OneStep } from '../op.js';
import type { SimCq } from './cq.js';

interface PostedBuffer {
  mem: SimMemory;
  offset: number;
  length: number;
  wrId: number;
  /** Multi-packet: bytes of this buffer already consumed (stride-aligned). */
  used: number;
}

/** Where an incoming message landed. */
export interface Placement {
  mem: SimMemory;
  /** Absolute offset in `mem`. */
  offset: number;
  wrId: number;
  /** Offset inside the posted buffer. */
  bufOffset: number;
  /** The buffer is retired after this message. */
  bufferDone: boolean;
}

export type TakeResult =
  | { kind: 'placed'; at: Placement; retired: { wrId: number }[] }
  | { kind: 'rnr'; retired: { wrId: number }[] }
  | { kind: 'too-long'; wrId: number };

/**
 * A receive queue: per-QP, or shared by many QPs (SRQ). Buffers are consumed strictly in posting
 * order — the property Rowan builds on.
 *
 * Multi-packet mode (mlx5 MP-RQ, libfabric FI_MULTI_RECV): a posted buffer takes many messages,
 * each placed at the next stride-aligned offset. When the next message does not fit in what is
 * left, the buffer is retired (a completion with `bufferDone`) and the message goes to the next.
 */
export class ReceiveQueue implements SharedReceiveQueue {
  private readonly buffers: PostedBuffer[] = [];
  private headIndex = 0;

  constructor(
    private readonly node: SimNode,
    readonly postCostNs: number,
    readonly capacity: number,
    readonly cq: SimCq,
    readonly strideBytes: number | null,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new Error(`receive queue capacity must be a positive integer, got ${capacity}`);
    if (strideBytes !== null && !(Number.isInteger(strideBytes) && strideBytes > 0)) throw new Error(`stride must be a positive integer, got ${strideBytes}`);
  }

  get multiPacket(): boolean {
    return this.strideBytes !== null;
  }

  get postedCount(): number {
    return this.buffers.length - this.headIndex;
  }

  postRecv(buf: LocalSlice, wrId: number): Task<void> {
    return new SrqPost(this, buf, wrId);
  }

  post(buf: LocalSlice, wrId: number): void {
    if (this.postedCount >= this.capacity) throw new Error(`receive queue full (capacity ${this.capacity})`);
    const mem = buf.mem as SimMemory;
    if (mem.visible === undefined) throw new Error('receive buffer is not memory of this node');
    if (!(buf.offset >= 0 && buf.length > 0 && buf.offset + buf.length <= mem.sizeBytes)) throw new RangeError(`receive buffer [${buf.offset}, +${buf.length}) outside ${mem.name}`);
    this.buffers.push({ mem, offset: buf.offset, length: buf.length, wrId, used: 0 });
    this.node.sim.hash.word(wrId >>> 0);
  }

  /** The NIC takes space for a message of `length` bytes. */
  take(length: number): TakeResult {
    const retired: { wrId: number }[] = [];
    for (;;) {
      if (this.headIndex >= this.buffers.length) {
        this.compact();
        return { kind: 'rnr', retired };
      }
      const b = this.buffers[this.headIndex]!;
      if (this.strideBytes === null) {
        this.headIndex++;
        this.compact();
        if (length > b.length) return { kind: 'too-long', wrId: b.wrId };
        return { kind: 'placed', at: { mem: b.mem, offset: b.offset, wrId: b.wrId, bufOffset: 0, bufferDone: true }, retired };
      }
      if (length > b.length) {
        this.headIndex++;
        return { kind: 'too-long', wrId: b.wrId };
      }
      if (b.used + length > b.length) {
        // Does not fit in what is left: retire this buffer, try the next.
        this.headIndex++;
        retired.push({ wrId: b.wrId });
        continue;
      }
      const at = b.used;
      const stride = this.strideBytes;
      b.used = Math.min(b.length, at + Math.ceil(Math.max(length, 1) / stride) * stride);
      const done = b.used >= b.length;
      if (done) this.headIndex++;
      this.compact();
      return { kind: 'placed', at: { mem: b.mem, offset: b.offset + at, wrId: b.wrId, bufOffset: at, bufferDone: done }, retired };
    }
  }

  /** Drops consumed entries now and then, so the array does not grow without bound. */
  private compact(): void {
    if (this.headIndex > 64 && this.headIndex * 2 > this.buffers.length) {
      this.buffers.splice(0, this.headIndex);
      this.headIndex = 0;
    }
  }

  /** Drops every posted buffer (QP destroyed with its own RQ, or node crash). */
  clear(): void {
    this.buffers.length = 0;
    this.headIndex = 0;
  }
}

/** A post to a shared receive queue: one scheduling point (the post's cost), then the post. */
class SrqPost extends OneStep<void> {
  constructor(
    private readonly rq: ReceiveQueue,
    private readonly buf: LocalSlice,
    private readonly wrId: number,
  ) {
    super();
  }
  protected cost(): Wait {
    return this.rq.postCostNs;
  }
  protected effect(): void {
    this.rq.post(this.buf, this.wrId);
  }
}
