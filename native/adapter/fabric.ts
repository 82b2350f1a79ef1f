import {
  Access,
  Future,
  type Completion,
  type CompletionQueue,
  type Connection,
  type CqOptions,
  type Fabric,
  type Listener,
  type ListenOptions,
  type LocalSlice,
  type Memory,
  type MemoryKey,
  type QpOptions,
  type QueuePair,
  type RemoteAddr,
  type SharedReceiveQueue,
  type Source,
  type SrqOptions,
  type Task,
  type TraceValue,
  type UdAddress,
  type UdEndpoint,
  type UdOptions,
  type WcStatus,
  type WorkRequestOptions,
} from '../../src/platform/index.js';
import type { NicOrder } from '../addon.js';
import { type NativeEntry, NativeOp, type NicDriver, type OpSink, type Retryable } from './driver.js';
import { NativeMemory } from './memory.js';
import type { NativeScheduler } from './scheduler.js';
import { type CmMessage, type DirEntry, FI, type FlushKey, type RecvTarget, TAG_QP, TAG_SRQ, TAG_UD, dataHi, fromHex, hiId, hiNode, makeTag, toHex } from './wire.js';

/** What the fabric needs from its node. */
export interface FabricEnv {
  readonly nodeId: number;
  readonly bootCount: number;
  readonly sched: NativeScheduler;
  readonly driver: NicDriver;
  /** False once the node has shut down. */
  live(): boolean;
  /** Largest message a multi-packet SRQ accepts (FI_OPT_MIN_MULTI_RECV). */
  readonly multiRecvMaxMessageBytes: number;
  /** connect() waits at least this long, whatever the caller's timeout (real connection setup is slower than the simulator's). */
  readonly connectTimeoutFloorNs: number;
  trace(kind: string, fields?: Record<string, TraceValue>): void;
}

function asNative(mem: Memory): NativeMemory {
  if (!(mem instanceof NativeMemory)) throw new Error(`memory ${mem.name} is not a region of a native node`);
  return mem;
}

function checkSlice(s: LocalSlice): NativeMemory {
  const m = asNative(s.mem);
  if (!(Number.isInteger(s.offset) && Number.isInteger(s.length) && s.offset >= 0 && s.length >= 0 && s.offset + s.length <= m.sizeBytes)) {
    throw new RangeError(`slice [${s.offset}, +${s.length}) outside ${m.name}`);
  }
  return m;
}

/** Maps a libfabric error of a work request to kvlab's completion status. */
function errorStatus(err: number, op: 'write' | 'read' | 'cas' | 'send'): WcStatus {
  switch (err) {
    case FI.EACCES:
    case FI.EINVAL:
      return 'remote-access-error';
    case FI.ECANCELED:
      // The addon cancels only receives; rxm cancels work requests when their connection fails
      // (a dead peer, or a key the target refused — see NativeQp.onNative).
      return 'retry-exceeded';
    case FI.ETRUNC:
      return 'local-length-error';
    default:
      // Connection refused / reset / not connected / timed out / I/O error: the peer is gone.
      return 'retry-exceeded';
  }
}

// ---------------------------------------------------------------------------------------------
// Completion queues

/**
 * A completion queue: entries pushed by the driver's dispatch; threads take them with poll/next.
 * Same semantics as the simulator's: a thread blocked in next() is handed the entry directly; an
 * ordinary CQ that overflows is in error (every attached QP moves to error); an overrun-ignoring
 * CQ is a ring. kvlab CQs live in JavaScript: the NIC has one libfabric CQ that all of them share,
 * read in batches.
 */
export class NativeCq implements CompletionQueue {
  private readonly ring: (Completion | undefined)[];
  private head = 0;
  private count = 0;
  private waiters: Future<Completion | null>[] = [];
  overwritten = 0;
  errored = false;
  readonly attached: NativeQp[] = [];

  constructor(
    private readonly env: FabricEnv,
    readonly capacity: number,
    readonly overrunIgnoring: boolean,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new Error(`CQ capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array(capacity);
  }

  get length(): number {
    return this.count;
  }

  push(c: Completion): void {
    while (this.waiters.length > 0) {
      const f = this.waiters.shift()!;
      if (f.resolve(c)) return;
    }
    if (this.count === this.capacity) {
      if (this.overrunIgnoring) {
        this.ring[this.head] = c;
        this.head = (this.head + 1) % this.capacity;
        this.overwritten++;
        return;
      }
      if (!this.errored) {
        this.errored = true;
        this.env.trace('cq.overrun', { capacity: this.capacity });
        for (const a of this.attached) a.failAndDeliver('cq-overrun');
      }
      return;
    }
    this.ring[(this.head + this.count) % this.capacity] = c;
    this.count++;
  }

  private take(): Completion {
    const c = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return c;
  }

  *poll(max = Infinity): Task<Completion[]> {
    yield 0;
    const out: Completion[] = [];
    while (this.count > 0 && out.length < max) out.push(this.take());
    return out;
  }

  *next(timeoutNs?: number): Task<Completion | null> {
    yield 0;
    if (this.count > 0) return this.take();
    if (timeoutNs !== undefined && timeoutNs <= 0) return null;
    const f = new Future<Completion | null>();
    this.waiters.push(f);
    if (timeoutNs !== undefined) {
      const sched = this.env.sched;
      sched.at(sched.now() + timeoutNs, null, () => void f.resolve(null));
    }
    return (yield f as Future<unknown>) as Completion | null;
  }
}

function asCq(cq: CompletionQueue): NativeCq {
  if (!(cq instanceof NativeCq)) throw new Error('not a CQ of a native node');
  return cq;
}

// ---------------------------------------------------------------------------------------------
// Receive queues

class RecvOp extends NativeOp {
  constructor(
    rq: RecvQueue,
    readonly wrId: number,
    readonly mem: NativeMemory,
    readonly offset: number,
    readonly length: number,
  ) {
    super(rq);
  }
}

type RecvKind = 'qp' | 'srq' | 'ud';

/**
 * A receive queue: a QP's own, a shared one (SRQ), or a UD endpoint's. Buffers are consumed in
 * posting order (libfabric matches posted receives of one tag, or of one endpoint, in order).
 *
 * - QP / plain SRQ / UD: tagged receives on the node's main endpoint (wire.ts tags).
 * - Multi-packet SRQ: its own RDM endpoint with FI_MULTI_RECV buffers and FI_OPT_MIN_MULTI_RECV =
 *   the largest accepted message; senders pad each message to the stride (so messages land at
 *   stride-aligned offsets, as with mlx5's MP-RQ) and carry the true length in the CQ data.
 */
export class RecvQueue implements SharedReceiveQueue, OpSink, Retryable {
  postedCount = 0;
  private readonly posted = new Set<RecvOp>();
  private pendingPosts: RecvOp[] = [];
  private suppressCancelled = false;
  /** The QP or UD endpoint that owns a non-shared queue. */
  owner: NativeQp | NativeUd | null = null;
  /** Multi-packet only: the endpoint's raw address (hex). */
  readonly epName: string = '';
  readonly maxMessage: number = 0;

  constructor(
    private readonly fab: NativeFabric,
    readonly kind: RecvKind,
    readonly capacity: number,
    readonly cq: NativeCq,
    readonly strideBytes: number | null,
    /** Tag of tagged queues; -1 for a multi-packet SRQ's endpoint. */
    readonly tag: number,
    readonly ep: number,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new Error(`receive queue capacity must be a positive integer, got ${capacity}`);
    if (strideBytes !== null) {
      if (!(Number.isInteger(strideBytes) && strideBytes > 0)) throw new Error(`stride must be a positive integer, got ${strideBytes}`);
      const max = Math.max(strideBytes, Math.ceil(fab.env.multiRecvMaxMessageBytes / strideBytes) * strideBytes);
      this.maxMessage = max;
      this.ep = fab.env.driver.nic.createEndpoint(max);
      this.epName = toHex(fab.env.driver.nic.getName(this.ep));
      this.tag = -1;
    }
  }

  get multiPacket(): boolean {
    return this.strideBytes !== null;
  }

  /** Where peers send to reach this queue. */
  get target(): RecvTarget {
    if (this.strideBytes !== null) return { kind: 'mrecv', name: this.epName, stride: this.strideBytes, maxMessage: this.maxMessage };
    return { kind: 'tag', tag: this.tag };
  }

  *postRecv(buf: LocalSlice, wrId: number): Task<void> {
    yield 0;
    this.post(buf, wrId);
  }

  post(buf: LocalSlice, wrId: number): void {
    if (this.postedCount >= this.capacity) throw new Error(`receive queue full (capacity ${this.capacity})`);
    const mem = checkSlice(buf);
    if (buf.length <= 0) throw new RangeError(`receive buffer [${buf.offset}, +${buf.length}) outside ${mem.name}`);
    if (!this.fab.live) return;
    const op = new RecvOp(this, wrId, mem, buf.offset, buf.length);
    this.postedCount++;
    this.posted.add(op);
    if (this.pendingPosts.length > 0) {
      this.pendingPosts.push(op);
      return;
    }
    this.issue(op);
  }

  private issue(op: RecvOp): boolean {
    const rc = this.fab.env.driver.postRecv(op, this.ep, this.tag, op.mem.buffer, op.offset, op.length, this.strideBytes !== null);
    if (rc === 0) return true;
    if (rc === -FI.EAGAIN) {
      if (this.pendingPosts[0] !== op) this.pendingPosts.push(op);
      this.fab.env.driver.retryLater(this);
      return false;
    }
    this.posted.delete(op);
    this.postedCount--;
    throw new Error(`posting a receive buffer failed (libfabric ${rc})`);
  }

  retry(): boolean {
    while (this.pendingPosts.length > 0) {
      const op = this.pendingPosts[0]!;
      if (!this.issue(op)) return false;
      this.pendingPosts.shift();
    }
    return true;
  }

  /** Cancels every posted buffer (the owner is closing); `suppress`: no flushed completions. */
  cancelAll(suppress: boolean): void {
    this.suppressCancelled = suppress;
    this.pendingPosts = [];
    for (const op of this.posted) this.fab.env.driver.cancel(op);
  }

  onNative(nop: NativeOp, e: NativeEntry): void {
    const op = nop as RecvOp;
    if (e.released && this.posted.delete(op)) this.postedCount--;
    if (!this.fab.live) return;
    if (e.err === FI.ECANCELED && this.suppressCancelled) return;
    const status: WcStatus = e.err === 0 ? 'success' : e.err === FI.ETRUNC ? 'local-length-error' : 'flushed';
    if (this.kind === 'ud') {
      const ud = this.owner as NativeUd;
      const src: UdAddress = { node: hiNode(e.dataHi), port: hiId(e.dataHi) };
      this.cq.push({ wrId: op.wrId, status, opcode: 'ud-recv', qpId: ud.id, byteLen: status === 'success' ? e.len : 0, srcNode: src.node, udSrc: src });
      return;
    }
    if (this.kind === 'qp') {
      const qp = this.owner as NativeQp;
      this.cq.push({ wrId: op.wrId, status, opcode: 'recv', qpId: qp.id, byteLen: status === 'success' ? e.len : 0, srcNode: qp.remote });
      return;
    }
    // Shared: the CQ data names the sender and the receiving QP.
    const qp = e.hasData ? this.fab.qpByShortId(hiId(e.dataHi)) : undefined;
    const c: { -readonly [K in keyof Completion]: Completion[K] } = {
      wrId: op.wrId,
      status,
      opcode: 'recv',
      qpId: qp?.id ?? 0,
      byteLen: 0,
    };
    if (e.hasData) c.srcNode = hiNode(e.dataHi);
    if (status === 'success') c.byteLen = this.strideBytes !== null && e.hasData && e.dataLo >= 0 ? Math.min(e.dataLo, e.len) : e.len;
    if (this.strideBytes !== null) {
      c.bufOffset = e.bufOffset;
      c.bufferDone = e.released;
    }
    this.cq.push(c);
  }
}

// ---------------------------------------------------------------------------------------------
// Reliable connections

type QpOpKind = 'write' | 'read' | 'cas' | 'send';

class QpOp extends NativeOp {
  /** Completed (and, in flush mode, confirmed placed): ready for delivery in order. */
  done = false;
  /** Posting order on the QP (covering by a later READ compares these). */
  seq = 0;
  /** Flush mode: the provider reported the WRITE/SEND sent (its buffer is free). */
  transmitted = false;
  /** Flush mode: a later READ on the same target completed, so this WRITE/SEND was placed. */
  placed = false;
  /** An internal READ posted to confirm placement (never delivered to a CQ). */
  flush = false;
  /** Flush mode: when the WRITE/SEND was posted. */
  postedAt = 0;
  status: WcStatus = 'success';
  value: number | undefined = undefined;
  /** 0: the peer's main endpoint; 1: a multi-packet SRQ endpoint. Ordering holds only within one. */
  target = 0;
  /** Directory version when this op asked for a refresh (-1: not yet). */
  refreshVersion = -1;
  /** The refresh got no answer (the peer is unreachable). */
  refreshFailed = false;
  /** When the provider first refused this op with EAGAIN (-1: never). */
  eagainSince = -1;
  constructor(
    qp: NativeQp,
    readonly op: QpOpKind,
    readonly wrId: number,
    readonly signaled: boolean,
    readonly data: Uint8Array | null,
    readonly local: LocalSlice | null,
    readonly remote: RemoteAddr | null,
    readonly length: number,
    readonly expected: number,
    readonly desired: number,
  ) {
    super(qp);
  }
}

interface PeerInfo {
  qpId: number;
  boot: number;
  /** fi_addr of the peer's main endpoint. */
  addr: number;
  recv: RecvTarget;
  /** The peer's 8-byte flush region (REMOTE_READ), read to confirm placement in flush mode. */
  flush: FlushKey;
  /** fi_addr of the peer's multi-packet SRQ endpoint, once inserted. */
  mrecvAddr: number;
}

/** Flush mode: unconfirmed unsignaled WRITEs/SENDs are confirmed after this many, or this long. */
const FLUSH_BATCH = 32;
const FLUSH_DELAY_NS = 1_000_000;

/** Whether op `next` is guaranteed to take effect after `prev` (same target endpoint), by the provider's msg_order. */
export type OrderTable = (prev: QpOpKind, next: QpOpKind) => boolean;

export function orderTable(o: NicOrder, atomicsNative: boolean): OrderTable {
  const t: Record<QpOpKind, Record<QpOpKind, boolean>> = {
    write: { write: o.waw, read: o.raw, send: o.saw, cas: false },
    read: { write: o.war, read: o.rar, send: o.sar, cas: false },
    send: { write: o.was, read: o.ras, send: o.sas, cas: false },
    cas: { write: false, read: false, send: false, cas: atomicsNative && o.atomic },
  };
  return (prev, next) => t[prev][next];
}

/**
 * An RC queue pair, emulated over the node's RDM endpoint (libfabric RDM endpoints are reliable;
 * rxm keeps one connection per pair of endpoints underneath).
 *
 * Completions are delivered in posting order, as RC does (a QP keeps its posted-but-undelivered
 * work requests in order; a completion that arrives early waits for its predecessors). Execution
 * order: libfabric only orders what the provider's msg_order promises (tcp;ofi_rxm with FI_ATOMIC:
 * RMA after RMA and anything after a SEND, not a SEND after a WRITE); where it does not, the QP
 * fences — it posts the next work request only once the earlier ones have completed. So a WRITE
 * followed by a SEND on one QP is seen in that order by the receiver, as on RC.
 *
 * "Completed" means placed at the target, as an RC ACK does. Two ways to get that:
 *  - delivery mode: WRITEs and SENDs are posted with FI_DELIVERY_COMPLETE (sockets, verbs);
 *  - flush mode (tcp;ofi_rxm, whose delivery-complete acknowledgements stall now and then in
 *    libfabric 1.17): they are posted with the provider's default completion, which only says the
 *    bytes left this process, and the QP then READs 8 bytes of the peer's flush region on the same
 *    endpoint. Reads are ordered after earlier WRITEs and SENDs (FI_ORDER_RAW / RAS), so when that
 *    READ — or any later READ of the protocol's own — completes, everything before it was placed.
 *    One flush READ covers every WRITE/SEND posted in a scheduler round.
 *
 * Remote keys are checked against the peer's registration directory (sent by the connection
 * manager, refreshed on a miss) before a WRITE/READ/CAS is posted: a bad rkey, a missing access
 * right or an out-of-bounds access completes with remote-access-error and moves the QP to error,
 * as a NAK does; nothing bad is sent (a bad key would make rxm drop the whole connection).
 */
export class NativeQp implements QueuePair, OpSink, Retryable {
  readonly id: number;
  state: 'ready' | 'error' = 'ready';
  destroyed = false;
  remoteClosed = false;
  peer: PeerInfo | null = null;
  ownRq: RecvQueue | null = null;
  private readonly queue: QpOp[] = [];
  private toIssue: QpOp[] = [];
  private readonly inflight: QpOp[] = [];
  /** Flush mode: WRITEs/SENDs issued and not yet known to be placed. */
  private unflushed: QpOp[] = [];
  private seqCounter = 0;
  private flushWanted = false;
  /** Signaled work requests posted and not yet delivered (someone waits for a completion). */
  private signaledPending = 0;
  private flushTimer = false;
  private halted = false;
  private waitingEagain = false;

  constructor(
    private readonly fab: NativeFabric,
    readonly remote: number,
    readonly cq: NativeCq,
    readonly recvCq: NativeCq,
    readonly srq: RecvQueue | null,
    recvCapacity: number,
  ) {
    this.id = fab.newQpId();
    cq.attached.push(this);
    if (recvCq !== cq) recvCq.attached.push(this);
    if (srq === null) {
      this.ownRq = new RecvQueue(fab, 'qp', recvCapacity, recvCq, null, makeTag(TAG_QP, fab.env.bootCount, this.id), 0);
      this.ownRq.owner = this;
    }
  }

  /** Where the peer sends to reach this QP's receive queue. */
  get recvTarget(): RecvTarget {
    return this.srq !== null ? this.srq.target : this.ownRq!.target;
  }

  connectTo(p: Omit<PeerInfo, 'mrecvAddr'>): void {
    this.peer = { ...p, mrecvAddr: -1 };
    if (p.recv.kind === 'mrecv') this.peer.mrecvAddr = this.fab.env.driver.addrOfName(p.recv.name);
  }

  // ---- posting ----

  *write(src: Source, dst: RemoteAddr, wr?: WorkRequestOptions): Task<void> {
    yield 0;
    const inline = src instanceof Uint8Array ? src.slice() : null;
    const slice = src instanceof Uint8Array ? null : src;
    if (slice !== null) checkSlice(slice);
    const len = inline !== null ? inline.length : slice!.length;
    this.post(new QpOp(this, 'write', wr?.wrId ?? 0, wr?.signaled ?? true, inline, slice, dst, len, 0, 0));
  }

  *read(dst: LocalSlice, src: RemoteAddr, wr?: WorkRequestOptions): Task<void> {
    yield 0;
    checkSlice(dst);
    this.post(new QpOp(this, 'read', wr?.wrId ?? 0, wr?.signaled ?? true, null, dst, src, dst.length, 0, 0));
  }

  *cas(remote: RemoteAddr, expected: number, desired: number, wr?: WorkRequestOptions, dst?: LocalSlice): Task<void> {
    yield 0;
    if (dst !== undefined) checkSlice(dst);
    this.post(new QpOp(this, 'cas', wr?.wrId ?? 0, wr?.signaled ?? true, null, dst ?? null, remote, 8, expected, desired));
  }

  *send(src: Source, wr?: WorkRequestOptions): Task<void> {
    yield 0;
    const inline = src instanceof Uint8Array ? src.slice() : null;
    const slice = src instanceof Uint8Array ? null : src;
    if (slice !== null) checkSlice(slice);
    const len = inline !== null ? inline.length : slice!.length;
    const op = new QpOp(this, 'send', wr?.wrId ?? 0, wr?.signaled ?? true, inline, slice, null, len, 0, 0);
    if (this.peer?.recv.kind === 'mrecv') op.target = 1;
    this.post(op);
  }

  *postRecv(buf: LocalSlice, wrId: number): Task<void> {
    yield 0;
    if (this.ownRq === null) throw new Error(`QP ${this.id} is bound to a shared receive queue: post to the SRQ`);
    this.ownRq.post(buf, wrId);
  }

  close(): void {
    if (this.destroyed) return;
    this.failAndDeliver('closed');
    this.destroyed = true;
    this.ownRq?.cancelAll(true);
    const p = this.peer;
    if (p !== null && this.fab.live) this.fab.env.driver.cmSend(p.addr, { t: 'close', node: this.fab.env.nodeId, boot: p.boot, qp: p.qpId });
    this.fab.forgetQp(this);
  }

  private post(op: QpOp): void {
    this.queue.push(op);
    if (op.signaled) this.signaledPending++;
    if (this.state === 'error' || this.destroyed || !this.fab.live) {
      op.done = true;
      op.status = 'flushed';
      this.deliver();
      return;
    }
    if (this.remoteClosed || this.peer === null) {
      op.done = true;
      op.status = 'retry-exceeded';
      this.deliver();
      return;
    }
    this.toIssue.push(op);
    this.pump();
  }

  /** Posts queued work requests while ordering allows. */
  private pump(): void {
    while (this.toIssue.length > 0 && !this.halted && this.state === 'ready') {
      const op = this.toIssue[0]!;
      if (this.inflight.length > 0 && this.needsFence(op)) return;
      let r = this.issue(op);
      if (r === 'wait') return;
      if (r === -FI.EAGAIN) {
        const d = this.fab.env.driver;
        const now = d.now();
        if (op.eagainSince < 0) op.eagainSince = now;
        if (now - op.eagainSince < d.retryTimeoutNs) {
          this.waitingEagain = true;
          d.retryLater(this);
          return;
        }
        r = 'retry-exceeded';
      }
      this.toIssue.shift();
      if (typeof r === 'string') {
        op.done = true;
        op.status = r;
        this.halted = true;
        this.deliver();
        return;
      }
      if (r < 0) {
        op.done = true;
        op.status = errorStatus(-r, op.op);
        this.halted = true;
        this.deliver();
        return;
      }
      op.seq = ++this.seqCounter;
      this.inflight.push(op);
      if (this.fab.flushMode && (op.op === 'write' || op.op === 'send')) {
        op.postedAt = this.fab.env.sched.now();
        this.unflushed.push(op);
        if (!this.flushWanted) {
          this.flushWanted = true;
          this.fab.wantFlush(this);
        }
      }
    }
  }

  retry(): boolean {
    this.waitingEagain = false;
    this.pump();
    if (this.flushWanted) this.fab.wantFlush(this);
    return !this.waitingEagain;
  }

  /**
   * Flush mode: posts one 8-byte READ of the peer's flush region per target endpoint that has
   * WRITEs/SENDs not yet covered by a later READ (called once per scheduler round by the fabric).
   * Returns false if the provider refused with EAGAIN (the fabric calls again next round).
   */
  postFlushes(): boolean {
    this.flushWanted = false;
    const p = this.peer;
    if (p === null || this.state === 'error' || this.unflushed.length === 0) return true;
    // Flush when someone waits: a signaled completion, a fenced work request, a full batch, or
    // 1 ms after the oldest unconfirmed WRITE/SEND (unsignaled traffic is confirmed in batches).
    const sched = this.fab.env.sched;
    const urgent = this.signaledPending > 0 || this.toIssue.length > 0 || this.unflushed.length >= FLUSH_BATCH || sched.now() - this.unflushed[0]!.postedAt >= FLUSH_DELAY_NS;
    if (!urgent) {
      if (!this.flushTimer) {
        this.flushTimer = true;
        sched.at(sched.now() + FLUSH_DELAY_NS, null, () => {
          this.flushTimer = false;
          this.fab.wantFlush(this);
        });
      }
      return true;
    }
    for (const target of [0, 1]) {
      let last = 0;
      for (const o of this.unflushed) if (o.target === target && o.seq > last) last = o.seq;
      if (last === 0) continue;
      let covered = false;
      for (const o of this.inflight) if (o.target === target && o.seq > last && (o.op === 'read' || o.op === 'cas')) covered = true;
      if (covered) continue;
      const f = new QpOp(this, 'read', 0, false, null, null, null, 8, 0, 0);
      f.flush = true;
      f.target = target;
      const d = this.fab.env.driver;
      const addr = target === 0 ? p.addr : p.mrecvAddr;
      const rc = d.postRead(f, addr, { buf: this.fab.flushScratch, off: 0, len: 8 }, p.flush.base, p.flush.key);
      if (rc === -FI.EAGAIN) {
        this.flushWanted = true;
        return false;
      }
      if (rc !== 0) {
        this.settleCovered(target, Infinity, errorStatus(-rc, 'read'));
        continue;
      }
      f.seq = ++this.seqCounter;
      this.inflight.push(f);
    }
    this.deliver();
    this.pump();
    return true;
  }

  /** A READ (the protocol's or a flush) completed on `target`: earlier WRITEs/SENDs there are placed (or failed with it). */
  private settleCovered(target: number, seq: number, status: WcStatus): void {
    if (this.unflushed.length === 0) return;
    const keep: QpOp[] = [];
    for (const o of this.unflushed) {
      if (o.target !== target || o.seq >= seq) {
        keep.push(o);
        continue;
      }
      o.placed = true;
      if (status !== 'success' && o.status === 'success') o.status = status;
      if (o.transmitted || status !== 'success') this.markDone(o);
    }
    this.unflushed = keep;
  }

  private markDone(op: QpOp): void {
    if (op.done) return;
    op.done = true;
    const i = this.inflight.indexOf(op);
    if (i >= 0) this.inflight.splice(i, 1);
  }

  private needsFence(op: QpOp): boolean {
    const ordered = this.fab.ordered;
    for (const p of this.inflight) if (p.target !== op.target || !ordered(p.op, op.op)) return true;
    return false;
  }

  /** Posts one work request: 0, a negative libfabric errno, a local failure status, or 'wait' (directory lookup). */
  private issue(op: QpOp): number | WcStatus | 'wait' {
    const d = this.fab.env.driver;
    const p = this.peer!;
    const src = op.data !== null ? op.data : op.local !== null ? { buf: (op.local.mem as NativeMemory).buffer, off: op.local.offset, len: op.local.length } : null;
    if (op.op === 'send') {
      const hi = dataHi(this.fab.env.nodeId, p.qpId);
      if (p.recv.kind === 'tag') return d.postSend(op, 0, p.addr, p.recv.tag, src!, 0, hi, op.length);
      const pad = Math.ceil(Math.max(op.length, 1) / p.recv.stride) * p.recv.stride;
      if (pad > p.recv.maxMessage) return 'remote-access-error';
      return d.postSend(op, 0, p.mrecvAddr, -1, src!, pad, hi, op.length);
    }
    const remote = op.remote!;
    const e = d.lookupDir(this.remote, p.boot, remote.rkey);
    if (e === undefined) {
      const v = d.dirVersion(this.remote);
      if (op.refreshVersion < 0) {
        op.refreshVersion = v;
        d.refreshDir(this.remote, p.addr, (fresh) => {
          op.refreshFailed = !fresh;
          this.pump();
        });
        return 'wait';
      }
      if (v === op.refreshVersion) return 'wait';
      // No answer, or a directory from a later boot of the peer: this QP's peer is gone.
      if (op.refreshFailed || d.lookupDirBoot(this.remote) !== p.boot) return 'retry-exceeded';
      return 'remote-access-error';
    }
    const need = op.op === 'write' ? Access.REMOTE_WRITE : op.op === 'read' ? Access.REMOTE_READ : Access.REMOTE_ATOMIC;
    const off = remote.offset;
    if ((e.access & need) === 0 || !(Number.isInteger(off) && off >= 0 && off + op.length <= e.size) || (op.op === 'cas' && (off & 7) !== 0)) {
      return 'remote-access-error';
    }
    const raddr = e.base + off;
    if (op.op === 'write') return d.postWrite(op, p.addr, src!, raddr, e.key);
    if (op.op === 'read') return d.postRead(op, p.addr, { buf: (op.local!.mem as NativeMemory).buffer, off: op.local!.offset, len: op.local!.length }, raddr, e.key);
    const dst = op.local !== null ? { buf: (op.local.mem as NativeMemory).buffer, off: op.local.offset } : null;
    return d.postCas(op, p.addr, raddr, e.key, op.expected, op.desired, dst);
  }

  onNative(nop: NativeOp, e: NativeEntry): void {
    const op = nop as QpOp;
    if (op.flush) {
      this.markDone(op);
      this.settleCovered(op.target, op.seq, e.err === 0 ? 'success' : errorStatus(e.err, 'read'));
      this.deliver();
      this.pump();
      return;
    }
    if (this.fab.flushMode && (op.op === 'write' || op.op === 'send') && e.err === 0) {
      // Sent; placed once a later READ on the same target completes.
      op.transmitted = true;
      if (op.placed) this.markDone(op);
      this.deliver();
      this.pump();
      return;
    }
    const i = this.inflight.indexOf(op);
    if (i >= 0) this.inflight.splice(i, 1);
    if (e.err !== 0) {
      const j = this.unflushed.indexOf(op);
      if (j >= 0) this.unflushed.splice(j, 1);
    }
    if (e.err === FI.ECANCELED && op.op !== 'send' && this.peer !== null && this.fab.live) {
      // tcp;ofi_rxm reports a refused key and a lost connection alike (ECANCELED, connection
      // dropped). Tell them apart by asking the target for its directory: a revoked rkey is
      // remote-access-error (a registration withdrawn while this WR was in flight), no answer is
      // retry-exceeded.
      const p = this.peer;
      const rkey = op.remote!.rkey;
      this.fab.env.driver.refreshDir(this.remote, p.addr, (fresh) => {
        const revoked = fresh && this.fab.env.driver.lookupDirBoot(this.remote) === p.boot && this.fab.env.driver.lookupDir(this.remote, p.boot, rkey) === undefined;
        op.done = true;
        op.status = revoked ? 'remote-access-error' : 'retry-exceeded';
        this.deliver();
        this.pump();
      });
      return;
    }
    op.done = true;
    if (e.err !== 0) op.status = errorStatus(e.err, op.op);
    else {
      op.status = 'success';
      if (op.op === 'cas') op.value = e.value;
      if (op.op === 'read' || op.op === 'cas') this.settleCovered(op.target, op.seq, 'success');
    }
    this.deliver();
    this.pump();
  }

  /** Hands completed work requests to the CQ in posting order. */
  private deliver(): void {
    while (this.queue.length > 0 && this.queue[0]!.done) this.finish(this.queue.shift()!);
  }

  private finish(op: QpOp): void {
    if (op.signaled) this.signaledPending--;
    if (!this.fab.live) return;
    let status = op.status;
    if (this.state === 'error') status = 'flushed';
    else if (status !== 'success') this.fail(status);
    if (status === 'success' && !op.signaled) return;
    const c: { -readonly [K in keyof Completion]: Completion[K] } = {
      wrId: op.wrId,
      status,
      opcode: op.op,
      qpId: this.id,
      byteLen: status === 'success' ? op.length : 0,
    };
    if (op.value !== undefined && status === 'success') c.value = op.value;
    this.cq.push(c);
  }

  /** Moves the QP to error: queued work requests are flushed, later posts are flushed. */
  fail(reason: string): void {
    if (this.state === 'error') return;
    this.state = 'error';
    this.fab.env.trace('rc.error', { qp: this.id, reason });
    const q = this.toIssue;
    this.toIssue = [];
    for (const op of q) {
      op.done = true;
      op.status = 'flushed';
    }
    // WRITEs/SENDs waiting for a flush: their outcome no longer matters (they are flushed).
    for (const op of this.unflushed) if (op.transmitted) this.markDone(op);
    this.unflushed = this.unflushed.filter((o) => !o.done);
  }

  /** Fails the QP from outside a delivery (CQ overrun, close): flushed work requests are delivered. */
  failAndDeliver(reason: string): void {
    this.fail(reason);
    this.deliver();
  }
}

/** The passive side of connection setup: the connection manager accepts on the node's behalf. */
export class NativeListener implements Listener {
  private readonly accepted: NativeQp[] = [];
  private waiter: Future<NativeQp | null> | null = null;
  closed = false;

  constructor(
    private readonly fab: NativeFabric,
    readonly service: string,
    readonly opts: ListenOptions,
    readonly privateData: Uint8Array,
  ) {}

  deliver(qp: NativeQp): void {
    const w = this.waiter;
    if (w !== null && !w.done) {
      this.waiter = null;
      w.resolve(qp);
      return;
    }
    this.accepted.push(qp);
  }

  *accept(timeoutNs?: number): Task<NativeQp | null> {
    yield 0;
    if (this.accepted.length > 0) return this.accepted.shift()!;
    const f = new Future<NativeQp | null>();
    this.waiter = f;
    if (timeoutNs !== undefined) {
      const sched = this.fab.env.sched;
      sched.at(sched.now() + timeoutNs, null, () => void f.resolve(null));
    }
    return (yield f as Future<unknown>) as NativeQp | null;
  }

  close(): void {
    this.closed = true;
    this.fab.forgetListener(this);
  }
}

// ---------------------------------------------------------------------------------------------
// Unreliable datagrams

class UdSendOp extends NativeOp {
  constructor(
    ud: NativeUd,
    readonly wrId: number,
    readonly signaled: boolean,
    readonly len: number,
  ) {
    super(ud);
  }
}

/**
 * A UD endpoint: tagged messages to the destination node's main endpoint, tag = UD port. The
 * transport underneath is reliable, so a datagram is lost only when the destination is gone
 * (the send still completes successfully, as a UD send does); a datagram for a port with no posted
 * buffer waits in the provider's unexpected-message queue instead of being dropped.
 */
export class NativeUd implements UdEndpoint, OpSink {
  readonly id: number;
  readonly mtuBytes = 4096;
  readonly rq: RecvQueue;
  closed = false;

  constructor(
    private readonly fab: NativeFabric,
    readonly address: UdAddress,
    readonly cq: NativeCq,
    recvCq: NativeCq,
    recvCapacity: number,
  ) {
    this.id = fab.newUdId();
    this.rq = new RecvQueue(fab, 'ud', recvCapacity, recvCq, null, makeTag(TAG_UD, 0, address.port), 0);
    this.rq.owner = this;
  }

  *send(dst: UdAddress, src: Source, wr?: WorkRequestOptions): Task<void> {
    yield 0;
    const data = src instanceof Uint8Array ? src.slice() : (checkSlice(src), src.mem.peek(src.offset, src.length));
    const wrId = wr?.wrId ?? 0;
    const signaled = wr?.signaled ?? true;
    if (data.length > this.mtuBytes) {
      this.cq.push({ wrId, status: 'local-length-error', opcode: 'ud-send', qpId: this.id, byteLen: 0 });
      return;
    }
    if (this.closed || !this.fab.live) return;
    const d = this.fab.env.driver;
    const op = new UdSendOp(this, wrId, signaled, data.length);
    const dest = d.addrOfNode(dst.node);
    if (dest < 0) {
      // No such node in the configuration: the datagram is lost.
      if (signaled) this.cq.push({ wrId, status: 'success', opcode: 'ud-send', qpId: this.id, byteLen: data.length });
      return;
    }
    const tag = makeTag(TAG_UD, 0, dst.port);
    const hi = dataHi(this.fab.env.nodeId, this.address.port);
    d.sendWithRetry(op, dest, tag, data, hi, () => {
      // Not deliverable (the destination is gone): lost, as a datagram may be.
      if (signaled && !this.closed && this.fab.live) this.cq.push({ wrId, status: 'success', opcode: 'ud-send', qpId: this.id, byteLen: data.length });
    });
  }

  *postRecv(buf: LocalSlice, wrId: number): Task<void> {
    yield 0;
    this.rq.post(buf, wrId);
  }

  onNative(nop: NativeOp, _e: NativeEntry): void {
    const op = nop as UdSendOp;
    // A datagram that could not be delivered is simply lost: the send completes as sent.
    if (op.signaled && !this.closed && this.fab.live) this.cq.push({ wrId: op.wrId, status: 'success', opcode: 'ud-send', qpId: this.id, byteLen: op.len });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.rq.cancelAll(true);
    this.fab.forgetUd(this);
  }
}

// ---------------------------------------------------------------------------------------------
// The fabric

/** The Fabric of one native node (one boot = one process, or one NativeNode in tests). */
export class NativeFabric implements Fabric {
  readonly ordered: OrderTable;
  private qpIds = 0;
  private srqIds = 0;
  private udIds = 0;
  private rkeyCounter = 0;
  private nextEphemeralPort = 49152;
  private readonly qps = new Map<number, NativeQp>();
  private readonly listeners = new Map<string, NativeListener>();
  private readonly udPorts = new Map<number, NativeUd>();
  private readonly pendingConnects = new Map<number, Future<CmMessage | null>>();
  /** Flush mode (see NativeQp): placement is confirmed by READs, not by delivery-complete completions. */
  readonly flushMode: boolean;
  /** This node's flush region, as peers read it. */
  readonly flushKey: FlushKey;
  /** Where flush READs land (contents never looked at). */
  readonly flushScratch = new ArrayBuffer(64);
  private readonly flushRegion = new ArrayBuffer(64);
  private flushQueue = new Set<NativeQp>();

  constructor(readonly env: FabricEnv) {
    const d = env.driver;
    const info = d.info;
    this.ordered = orderTable(info.order, info.atomics === 'native');
    this.flushMode = !info.deliveryComplete;
    d.onCm = (m) => this.onCm(m);
    const rkey = (((env.bootCount & 0xff) << 24) | 0xffffff) >>> 0;
    const [key, base] = d.nic.regMr(d.bufId(this.flushRegion), Access.REMOTE_READ, rkey);
    this.flushKey = { key, base };
    d.beforePoll = () => this.postFlushes();
  }

  /** A QP has WRITEs/SENDs to confirm: it posts its flush READs at the start of the next poll. */
  wantFlush(qp: NativeQp): void {
    this.flushQueue.add(qp);
  }

  private postFlushes(): void {
    if (this.flushQueue.size === 0) return;
    const q = this.flushQueue;
    this.flushQueue = new Set();
    for (const qp of q) if (!qp.postFlushes()) this.flushQueue.add(qp);
  }

  get nodeId(): number {
    return this.env.nodeId;
  }

  get live(): boolean {
    return this.env.live();
  }

  newQpId(): number {
    return ++this.qpIds;
  }

  newUdId(): number {
    return ++this.udIds;
  }

  qpByShortId(short: number): NativeQp | undefined {
    return this.qps.get(short);
  }

  forgetQp(qp: NativeQp): void {
    if (this.qps.get(qp.id & 0xffff) === qp) this.qps.delete(qp.id & 0xffff);
  }

  forgetListener(l: NativeListener): void {
    if (this.listeners.get(l.service) === l) this.listeners.delete(l.service);
  }

  forgetUd(ud: NativeUd): void {
    if (this.udPorts.get(ud.address.port) === ud) this.udPorts.delete(ud.address.port);
  }

  private check(): void {
    if (!this.live) throw new Error(`node ${this.nodeId}: fabric used after the node shut down`);
  }

  registerMemory(mem: Memory, access: number): MemoryKey {
    this.check();
    const m = asNative(mem);
    const d = this.env.driver;
    this.rkeyCounter++;
    const rkey = (((this.env.bootCount & 0xff) << 24) | (this.rkeyCounter & 0xffffff)) >>> 0;
    const [key, base] = d.nic.regMr(d.bufId(m.buffer), access, rkey);
    d.addLocalDir({ rkey, key, base, size: m.sizeBytes, access });
    this.env.trace('mr.register', { name: m.name, rkey, bytes: m.sizeBytes, access });
    return { node: this.nodeId, rkey, sizeBytes: m.sizeBytes };
  }

  deregisterMemory(key: MemoryKey): void {
    if (key.node !== this.nodeId) throw new Error(`deregisterMemory: rkey ${key.rkey} belongs to node ${key.node}`);
    if (!this.live) return;
    const d = this.env.driver;
    const e = d.removeLocalDir(key.rkey);
    if (e === undefined) return;
    d.nic.deregMr(e.key);
    this.env.trace('mr.deregister', { rkey: key.rkey });
    for (const addr of d.dirHolders) d.cmSend(addr, { t: 'dereg', node: this.nodeId, boot: this.env.bootCount, rkey: key.rkey });
  }

  createCq(opts: CqOptions): CompletionQueue {
    return new NativeCq(this.env, opts.capacity, opts.overrunIgnoring ?? false);
  }

  createSrq(opts: SrqOptions): SharedReceiveQueue {
    this.check();
    const id = ++this.srqIds;
    return new RecvQueue(this, 'srq', opts.capacity, asCq(opts.cq), opts.multiPacket?.strideBytes ?? null, makeTag(TAG_SRQ, this.env.bootCount, id), 0);
  }

  private makeQp(remote: number, opts: QpOptions): NativeQp {
    const cq = asCq(opts.cq);
    const recvCq = opts.recvCq !== undefined ? asCq(opts.recvCq) : cq;
    let srq: RecvQueue | null = null;
    if (opts.srq !== undefined) {
      if (!(opts.srq instanceof RecvQueue) || opts.srq.kind !== 'srq') throw new Error('srq: not an SRQ of this node');
      srq = opts.srq;
    }
    const qp = new NativeQp(this, remote, cq, recvCq, srq, opts.recvCapacity ?? 64);
    this.qps.set(qp.id & 0xffff, qp);
    return qp;
  }

  listen(service: string, opts: ListenOptions): Listener {
    this.check();
    const l = new NativeListener(this, service, opts, opts.privateData?.slice() ?? new Uint8Array(0));
    this.listeners.set(service, l);
    this.env.trace('cm.listen', { service });
    return l;
  }

  *connect(remote: number, service: string, opts: QpOptions, timeoutNs = 1_000_000): Task<Connection | null> {
    yield 0;
    this.check();
    const d = this.env.driver;
    const dest = d.addrOfNode(remote);
    if (dest < 0) {
      this.env.trace('cm.connect-failed', { to: remote, service, reason: 'no address for the node in the cluster configuration' });
      return null;
    }
    const qp = this.makeQp(remote, opts);
    const id = d.newCmId();
    const f = new Future<CmMessage | null>();
    this.pendingConnects.set(id, f);
    d.cmSend(dest, { t: 'req', id, svc: service, node: this.nodeId, boot: this.env.bootCount, qp: qp.id, name: d.name, recv: qp.recvTarget, flush: this.flushKey }, () => void f.resolve(null));
    const sched = this.env.sched;
    sched.at(sched.now() + Math.max(timeoutNs, this.env.connectTimeoutFloorNs), null, () => void f.resolve(null));
    const rep = (f.done ? f.value : ((yield f as Future<unknown>) as CmMessage | null)) as CmMessage | null;
    this.pendingConnects.delete(id);
    if (rep === null || rep.t !== 'rep' || !rep.ok || !this.live) {
      this.forgetQp(qp);
      qp.destroyed = true;
      this.env.trace('cm.connect-failed', { to: remote, service, reason: rep === null ? 'timeout' : rep.t === 'rep' && !rep.ok ? rep.reason : 'down' });
      return null;
    }
    qp.connectTo({ qpId: rep.qp, boot: rep.boot, addr: dest, recv: rep.recv, flush: rep.flush });
    d.setDir(remote, rep.boot, rep.dir);
    this.env.trace('cm.connected', { to: remote, service, qp: qp.id, peerQp: rep.qp });
    return { qp, privateData: fromHex(rep.pd) };
  }

  createUd(opts: UdOptions): UdEndpoint {
    this.check();
    let port = opts.port;
    if (port === undefined) {
      while (this.udPorts.has(this.nextEphemeralPort)) this.nextEphemeralPort++;
      port = this.nextEphemeralPort++;
    }
    if (!(Number.isInteger(port) && port >= 0 && port <= 0xffff)) throw new Error(`UD port ${port} out of range`);
    if (this.udPorts.has(port)) throw new Error(`node ${this.nodeId}: UD port ${port} already in use`);
    const cq = asCq(opts.cq);
    const recvCq = opts.recvCq !== undefined ? asCq(opts.recvCq) : cq;
    const ud = new NativeUd(this, { node: this.nodeId, port }, cq, recvCq, opts.recvCapacity ?? 256);
    this.udPorts.set(port, ud);
    return ud;
  }

  // ---- connection manager ----

  private onCm(m: CmMessage): void {
    if (!this.live) return;
    const d = this.env.driver;
    switch (m.t) {
      case 'req': {
        const dest = d.addrOfName(m.name);
        const l = this.listeners.get(m.svc);
        if (l === undefined || l.closed) {
          d.cmSend(dest, { t: 'rep', id: m.id, ok: false, node: this.nodeId, boot: this.env.bootCount, reason: `no listener for ${m.svc}` });
          return;
        }
        const qp = this.makeQp(m.node, l.opts);
        qp.connectTo({ qpId: m.qp, boot: m.boot, addr: dest, recv: m.recv, flush: m.flush });
        d.dirHolders.add(dest);
        d.cmSend(dest, { t: 'rep', id: m.id, ok: true, node: this.nodeId, boot: this.env.bootCount, qp: qp.id, recv: qp.recvTarget, flush: this.flushKey, pd: toHex(l.privateData), dir: d.localDir });
        this.env.trace('cm.accepted', { from: m.node, service: m.svc, qp: qp.id });
        l.deliver(qp);
        return;
      }
      case 'rep':
        this.pendingConnects.get(m.id)?.resolve(m);
        return;
      case 'dirq':
        d.dirHolders.add(d.addrOfName(m.name));
        d.cmSend(d.addrOfName(m.name), { t: 'dirr', id: m.id, node: this.nodeId, boot: this.env.bootCount, dir: d.localDir });
        return;
      case 'dirr':
        d.setDir(m.node, m.boot, m.dir as DirEntry[]);
        return;
      case 'dereg':
        d.dropDir(m.node, m.boot, m.rkey);
        return;
      case 'close': {
        if (m.boot !== this.env.bootCount) return;
        const qp = this.qps.get(m.qp & 0xffff);
        if (qp !== undefined && qp.id === m.qp && qp.remote === m.node) qp.remoteClosed = true;
        return;
      }
    }
  }

  /** Every QP of this node (tests, shutdown). */
  get queuePairs(): readonly NativeQp[] {
    return [...this.qps.values()];
  }
}
