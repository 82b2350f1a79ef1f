import type { CompletionQueue, LocalSlice, Platform, QueuePair, Task } from '../../platform/index.js';
import { Reader } from '../../kv/codec.js';
import { setSeq, setTag } from './frame.js';

/**
 * The sender side of Rowan: a remote PM write is a SEND on an RC QP to the receiver's Rowan
 * service. The receiver's NIC places it (at an address the receiver chose) and ACKs it in hardware;
 * no receiver CPU is involved.
 *
 * Remote persistence (`flush`):
 *  - 'read' (DDIO off, the seed's setting): an RDMA ACK only says the data reached the receiver's
 *    NIC / PCIe domain, not the persistence domain; a small RDMA READ posted right after the SEND on
 *    the same QP cannot complete before the SEND's data is placed (PCIe ordering), so its
 *    completion means the SEND is durable. The SEND goes unsignaled; the READ is signaled.
 *  - 'none': the SEND is signaled and its completion (the ACK) is taken as durable. Right when the
 *    platform places before it ACKs and DDIO is off (the simulator does exactly that); with DDIO on
 *    the data sits in the receiver's volatile cache and neither an ACK nor a READ makes it
 *    durable — the receiver's CPU must flush it (see docs/rowan.md, "DDIO on").
 * Either way one completion per write, carrying the caller's wrId; on error the QP is dead and the
 * caller reconnects (several CQEs may then carry the wrId: the caller takes the first).
 */
export type FlushMode = 'read' | 'none';

export class RowanSender {
  qp: QueuePair | null = null;
  /** The receiver's boot tag (frames carry it). */
  tag = 0;
  private flushRkey = 0;
  private seq = 0;

  constructor(
    private readonly p: Platform,
    readonly remote: number,
    private readonly service: string,
    readonly cq: CompletionQueue,
    private readonly flush: FlushMode,
    /** 8 bytes of local registered memory the flush READ lands in. */
    private readonly scratch: LocalSlice,
    /** Distinguishes senders of one node in frame seqs. */
    private readonly seqBase: number,
  ) {}

  get ready(): boolean {
    return this.qp !== null && this.qp.state === 'ready';
  }

  *connect(timeoutNs: number): Task<boolean> {
    this.qp?.close();
    this.qp = null;
    const conn = yield* this.p.fabric.connect(this.remote, this.service, { cq: this.cq }, timeoutNs);
    if (conn === null) return false;
    const r = new Reader(conn.privateData);
    this.tag = r.u32();
    this.flushRkey = r.u32();
    this.qp = conn.qp;
    return true;
  }

  /** Posts one remote write of `frame` (its tag and seq are patched in place). One completion with `wrId` follows. */
  *write(frame: Uint8Array, wrId: number): Task<void> {
    const qp = this.qp!;
    setTag(frame, this.tag);
    this.seq = (this.seq + 1) >>> 0;
    setSeq(frame, (Math.imul(this.seqBase, 0x9e3779b1) + this.seq) >>> 0);
    if (this.flush === 'read') {
      yield* qp.send(frame, { wrId, signaled: false });
      yield* qp.read(this.scratch, { rkey: this.flushRkey, offset: 0 }, { wrId });
    } else {
      yield* qp.send(frame, { wrId });
    }
  }

  close(): void {
    this.qp?.close();
    this.qp = null;
  }
}
