import type { CompletionQueue, Memory, Platform, Task } from '../../../platform/index.js';
import { RowanSender } from '../sender.js';
import { ROWAN_SERVICE, type RowanKvOptions } from './options.js';

/**
 * How one thread of a primary sends frames to backups. Every implementation gives one completion
 * per posted frame (wrId, ok). `ok` means the frame is durable at the target (per the flush mode).
 */
export interface Replicator {
  /** Posts a remote write of `frame` to `target`; false when no connection can be made now. */
  post(target: number, frame: Uint8Array, wrId: number): Task<boolean>;
  /** The next completion, or null after `timeoutNs`. */
  next(timeoutNs: number): Task<{ wrId: number; ok: boolean } | null>;
  /** Connects to `target` ahead of the first write (at boot: no connection setup on the first PUT). */
  warm(target: number): Task<void>;
}

export type ReplicatorFactory = (p: Platform, owner: number) => Replicator;

const CONNECT_TIMEOUT_NS = 200_000;
const RECONNECT_BACKOFF_NS = 50_000;

/** Rowan replication: a SEND (+ flush READ) on an RC QP into the target's Rowan backup log. */
export class RowanReplicator implements Replicator {
  private readonly senders: (RowanSender | null)[];
  private readonly retryAt: number[];
  readonly cq: CompletionQueue;
  private readonly scratch: Memory;

  constructor(
    private readonly p: Platform,
    private readonly opts: RowanKvOptions,
    servers: number,
    private readonly owner: number,
  ) {
    this.senders = new Array(servers).fill(null);
    this.retryAt = new Array(servers).fill(0);
    this.cq = p.fabric.createCq({ capacity: 1024 });
    this.scratch = p.memory.dram(`rk.scratch.${owner}`, 8 * servers);
  }

  *warm(target: number): Task<void> {
    yield* this.ensure(target);
  }

  private *ensure(target: number): Task<RowanSender | null> {
    let s = this.senders[target] ?? null;
    if (s === null || !s.ready) {
      if (this.p.rt.now() < this.retryAt[target]!) return null;
      if (s === null) {
        s = new RowanSender(this.p, target, ROWAN_SERVICE, this.cq, this.opts.flush, { mem: this.scratch, offset: 8 * target, length: 8 }, this.p.rt.nodeId * 256 + this.owner);
        this.senders[target] = s;
      }
      if (!(yield* s.connect(CONNECT_TIMEOUT_NS))) {
        this.retryAt[target] = this.p.rt.now() + RECONNECT_BACKOFF_NS;
        return null;
      }
    }
    return s;
  }

  *post(target: number, frame: Uint8Array, wrId: number): Task<boolean> {
    const s = yield* this.ensure(target);
    if (s === null) return false;
    yield* s.write(frame, wrId);
    return true;
  }

  *next(timeoutNs: number): Task<{ wrId: number; ok: boolean } | null> {
    const c = yield* this.cq.next(timeoutNs);
    if (c === null) return null;
    if (c.status !== 'success') {
      for (const s of this.senders) if (s !== null && s.qp !== null && s.qp.id === c.qpId) s.close();
    }
    return { wrId: c.wrId, ok: c.status === 'success' };
  }
}
