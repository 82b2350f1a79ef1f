import {
  Access,
  Future,
  MAX_WORD,
  type Completion,
  type Listener,
  type LocalSlice,
  type QueuePair,
  type RemoteAddr,
  type Source,
  type Task,
  type WcOpcode,
  type WcStatus,
  type Wait,
  type WorkRequestOptions,
} from '../../src/platform/index.js';
import { SimMemory } from '../memory.js';
import { OneStep } from '../op.js';
import type { SimNode } from '../node.js';
import type { SimCq } from './cq.js';
import type { ReceiveQueue } from './recv.js';
import { FEV, type FabricWorld } from './world.js';

/** Header bytes of a request packet (BTH + RETH), of an ACK / read request. */
const HEADER_BYTES = 30;
/** Placement of one WR's payload is spread over at most this many chunk events. */
const MAX_CHUNKS = 64;
/** DMA placement never splits an aligned word: chunk boundaries fall on multiples of this. */
const WORD = 8;

type Op = 'write' | 'read' | 'cas' | 'send';

/** A posted work request, as the NIC model tracks it. */
class Wr {
  departNs = 0;
  /** RNR retries used (send). */
  rnrTries = 0;
  /** The outcome, once known (the first one wins). Completions are delivered in posting order. */
  status: WcStatus | null = null;
  /** CAS: the old value, with a successful outcome. */
  value: number | undefined = undefined;
  /** READ/CAS response payload, kept while the response retries a blocked return path. */
  respData: Uint8Array | null = null;
  respOld: number | undefined = undefined;
  constructor(
    readonly op: Op,
    readonly qp: SimQp,
    readonly wrId: number,
    readonly signaled: boolean,
    /** Payload (write/send), copied at post; null again once placed (its buffer is recycled). */
    public data: Uint8Array | null,
    /** Local destination (read, cas). */
    readonly local: LocalSlice | null,
    readonly remote: RemoteAddr | null,
    readonly length: number,
    readonly expected: number,
    readonly desired: number,
    readonly postedAtNs: number,
  ) {}
}

/** Kinds of RcPost. */
const POST = { WRITE: 0, READ: 1, CAS: 2, SEND: 3, RECV: 4 } as const;

/** A post to a QP: one scheduling point (the post's CPU cost), then {@link SimQp.postNow}. */
class RcPost extends OneStep<void> {
  constructor(
    private readonly qp: SimQp,
    private readonly kind: number,
    private readonly src: Source | null,
    private readonly remote: RemoteAddr | null,
    private readonly wr: WorkRequestOptions | undefined,
    private readonly expected: number,
    private readonly desired: number,
    private readonly dst: LocalSlice | undefined,
  ) {
    super();
  }
  protected cost(): Wait {
    return this.qp.world.params.postCostNs;
  }
  protected effect(): void {
    this.qp.postNow(this.kind, this.src, this.remote, this.wr, this.expected, this.desired, this.dst);
  }
}

function isSlice(s: Source): s is LocalSlice {
  return !(s instanceof Uint8Array);
}

function localMem(s: LocalSlice, what: string, minLength = 0): SimMemory {
  const m = s.mem;
  if (!(m instanceof SimMemory)) throw new Error(`${what}: not memory of this simulator`);
  if (!(Number.isInteger(s.offset) && Number.isInteger(s.length) && s.offset >= 0 && s.length >= minLength && s.offset + s.length <= m.sizeBytes)) {
    throw new RangeError(`${what}: local slice [${s.offset}, +${s.length}) outside ${m.name} (${m.sizeBytes} bytes)`);
  }
  return m;
}

function checkWordValue(v: number, what: string): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= MAX_WORD)) throw new RangeError(`${what}: ${v} is not a word value in [0, 2^53)`);
}

/**
 * One end of a reliable connection.
 *
 * Requester side: WRs leave in posting order; while the link to the peer is blocked the QP
 * retransmits every `rcRetransmitNs` and fails the head WR with retry-exceeded after
 * `rcRetryTimeoutNs`, later WRs queueing behind it. Arrivals at the peer are kept in order
 * (a WR never arrives before the previous one's payload has). Completions are delivered strictly in
 * posting order (a WR whose outcome is known waits for every earlier one). A failed WR moves the QP
 * to error; every WR after it is flushed at once.
 *
 * Responder side: processes arrivals one at a time, in order: validates the rkey, access rights and
 * bounds (a violation NAKs and moves both ends to error), places WRITE payloads chunk by chunk over
 * virtual time at word-aligned boundaries (a concurrent reader can see half an object, never half a
 * word; a sender crash mid-transfer leaves it torn), performs atomics, consumes receive buffers for
 * SENDs (waiting as receiver-not-ready when none is posted), and ACKs after placement. A later
 * request is never placed before an earlier one has fully landed.
 */
export class SimQp implements QueuePair {
  readonly id: number;
  state: 'ready' | 'error' = 'ready';
  peer: SimQp | null = null;
  /** The boot epoch of the node that created this QP. */
  readonly epoch: number;
  /** Next WR may not arrive at the peer before this (in-order delivery). */
  private lastArrivalNs = 0;
  private retrying = false;
  private retryStartNs = 0;
  private backlog: Wr[] = [];
  /** Posted WRs whose completion has not been delivered yet, in posting order (from `inflightHead`). */
  private inflight: Wr[] = [];
  private inflightHead = 0;
  private draining = false;
  /** Responder side: a SEND waiting for a receive buffer blocks later arrivals. */
  private rnrHead: Wr | null = null;
  /** Identifies the current RNR wait: a timer of an earlier wait is stale. */
  private rnrToken = 0;
  /** Responder side: a WRITE is being placed; later arrivals wait behind it. */
  private rxBusy = false;
  /** Responder side: a request from the peer was given up on (RNR retries exceeded); the peer's later packets are out of sequence and dropped. */
  private rxDead = false;
  private rxBacklog: Wr[] = [];
  /** Work requests posted and not yet completed. */
  outstanding = 0;
  destroyed = false;

  constructor(
    readonly world: FabricWorld,
    readonly node: SimNode,
    readonly remote: number,
    readonly cq: SimCq,
    readonly recvCq: SimCq,
    readonly rq: ReceiveQueue,
  ) {
    this.id = world.newQpId();
    this.epoch = node.epoch;
    for (const q of this.cqs()) q.attached.push(this);
  }

  /** The CQs whose overrun puts this QP into error: send, receive, and its SRQ's. */
  private cqs(): SimCq[] {
    const out = [this.cq];
    if (this.recvCq !== this.cq) out.push(this.recvCq);
    if (!out.includes(this.rq.cq)) out.push(this.rq.cq);
    return out;
  }

  private detach(): void {
    for (const q of this.cqs()) {
      const i = q.attached.indexOf(this);
      if (i >= 0) q.attached.splice(i, 1);
    }
  }

  /** Alive: the node's boot that created it is still running and it has not been destroyed. */
  get live(): boolean {
    return !this.destroyed && this.node.epoch === this.epoch && this.node.alive;
  }

  // ---- posting (scheduling points: the post's CPU cost, then the post; sim/op.ts) ----

  write(src: Source, dst: RemoteAddr, wr?: WorkRequestOptions): Task<void> {
    return new RcPost(this, POST.WRITE, src, dst, wr, 0, 0, undefined);
  }

  read(dst: LocalSlice, src: RemoteAddr, wr?: WorkRequestOptions): Task<void> {
    return new RcPost(this, POST.READ, dst, src, wr, 0, 0, undefined);
  }

  cas(remote: RemoteAddr, expected: number, desired: number, wr?: WorkRequestOptions, dst?: LocalSlice): Task<void> {
    return new RcPost(this, POST.CAS, null, remote, wr, expected, desired, dst);
  }

  send(src: Source, wr?: WorkRequestOptions): Task<void> {
    return new RcPost(this, POST.SEND, src, null, wr, 0, 0, undefined);
  }

  postRecv(buf: LocalSlice, wrId: number): Task<void> {
    return new RcPost(this, POST.RECV, buf, null, { wrId }, 0, 0, undefined);
  }

  /** The post itself, once the thread has paid its cost. */
  postNow(kind: number, src: Source | null, remote: RemoteAddr | null, wr: WorkRequestOptions | undefined, expected: number, desired: number, dst: LocalSlice | undefined): void {
    const now = this.world.sim.now;
    const wrId = wr?.wrId ?? 0;
    const signaled = wr?.signaled ?? true;
    switch (kind) {
      case POST.WRITE:
      case POST.SEND: {
        const s = src!;
        const pool = this.world.payloads;
        const data = isSlice(s) ? pool.copy(localMem(s, kind === POST.WRITE ? 'write source' : 'send source').visible, s.offset, s.length) : pool.copy(s);
        this.post(new Wr(kind === POST.WRITE ? 'write' : 'send', this, wrId, signaled, data, null, remote, data.length, 0, 0, now));
        return;
      }
      case POST.READ: {
        const d = src as LocalSlice;
        localMem(d, 'read destination');
        this.post(new Wr('read', this, wrId, signaled, null, d, remote, d.length, 0, 0, now));
        return;
      }
      case POST.CAS:
        checkWordValue(expected, 'cas expected');
        checkWordValue(desired, 'cas desired');
        if (dst !== undefined) localMem(dst, 'cas destination', 8);
        this.post(new Wr('cas', this, wrId, signaled, null, dst ?? null, remote, 8, expected, desired, now));
        return;
      default:
        if (this.rq.multiPacket || this.rq !== this.ownRq) throw new Error(`QP ${this.id} is bound to a shared receive queue: post to the SRQ`);
        this.rq.post(src as LocalSlice, wrId);
        // This QP is the responder for the peer's SENDs: retry one waiting for a buffer.
        this.kickRnr();
    }
  }

  /** The per-QP receive queue, when the QP has no SRQ (set by the creator). */
  ownRq: ReceiveQueue | null = null;

  /** Passive side: the listener holding this QP until someone accepts it (null once accepted). */
  listener: SimListener | null = null;

  close(): void {
    if (this.destroyed) return;
    // The peer learns of the disconnect (rdma_disconnect → DREQ) one flight later, if it can be reached.
    const peer = this.peer;
    if (peer !== null && peer.live && this.live && this.world.net.canSend(this.node.nodeId, peer.node.nodeId)) {
      this.world.sim.after(this.world.net.controlNs(this.node.nodeId, peer.node.nodeId), FEV.CONNECT, peer.id, remoteClosed, peer);
    }
    // No completions after close: the QP is gone (its peer's pending requests time out).
    this.destroyed = true;
    this.fail('closed');
    this.inflight = [];
    this.inflightHead = 0;
    this.detach();
    if (this.node.epoch === this.epoch) {
      const qps = this.world.nic(this.node.nodeId).qps;
      const i = qps.indexOf(this);
      if (i >= 0) qps.splice(i, 1);
    }
  }

  /** The peer closed the connection: this end moves to error; if nobody ever accepted it, it is released. */
  remoteClosed(): void {
    if (!this.live) return;
    if (this.listener !== null && this.listener.withdraw(this)) {
      this.listener = null;
      this.close();
      return;
    }
    this.fail('disconnected');
  }

  private post(w: Wr): void {
    const sim = this.world.sim;
    sim.hash.word(w.length);
    sim.hash.word(w.remote === null ? 0 : w.remote.offset);
    this.outstanding++;
    this.inflight.push(w);
    if (this.world.sim.recorder !== null) this.world.rec(this.node.nodeId, `rc.${w.op}`, { qp: this.id, to: this.remote, wrId: w.wrId, bytes: w.length, signaled: w.signaled, ...(w.remote ? { rkey: w.remote.rkey, off: w.remote.offset } : {}) });
    if (this.state === 'error' || !this.live) {
      this.complete(w, 'flushed', sim.now);
      return;
    }
    if (this.retrying) {
      this.backlog.push(w);
      return;
    }
    if (!this.world.net.canSend(this.node.nodeId, this.remote)) {
      this.startRetry(w);
      return;
    }
    this.transmit(w);
  }

  private startRetry(w: Wr): void {
    this.retrying = true;
    this.retryStartNs = this.world.sim.now;
    this.backlog.unshift(w);
    this.world.sim.after(this.world.params.rcRetransmitNs, FEV.RETRY, this.id, retryTick, this);
  }

  /** Retransmission timer: the link is back → send the backlog in order; too long → fail the head. */
  retryTick(): void {
    if (!this.live || !this.retrying) return;
    const sim = this.world.sim;
    if (this.state === 'error') {
      this.retrying = false;
      return;
    }
    if (this.world.net.canSend(this.node.nodeId, this.remote)) {
      this.retrying = false;
      const q = this.backlog;
      this.backlog = [];
      for (const w of q) this.transmit(w);
      return;
    }
    if (sim.now - this.retryStartNs >= this.world.params.rcRetryTimeoutNs) {
      this.retrying = false;
      const q = this.backlog;
      this.backlog = [];
      this.complete(q[0]!, 'retry-exceeded', sim.now);
      for (let i = 1; i < q.length; i++) this.complete(q[i]!, 'flushed', sim.now);
      return;
    }
    sim.after(this.world.params.rcRetransmitNs, FEV.RETRY, this.id, retryTick, this);
  }

  private transmit(w: Wr): void {
    const net = this.world.net;
    const sim = this.world.sim;
    const wireBytes = HEADER_BYTES + (w.op === 'write' || w.op === 'send' ? w.length : 0);
    const tx = net.transmit(this.node.nodeId, this.remote, wireBytes, sim.now);
    w.departNs = tx.departNs;
    const payloadNs = w.op === 'write' || w.op === 'send' ? tx.serializeNs : 0;
    const arrive = Math.max(tx.arriveNs, this.lastArrivalNs);
    this.lastArrivalNs = arrive + payloadNs;
    sim.schedule(arrive, FEV.ARRIVE, this.id, arriveAtPeer, w);
  }

  // ---- completions (requester side) ----

  /**
   * The outcome of `w` becomes known at `atNs` (now or later). Completions are delivered in posting
   * order: `w`'s waits for every earlier WR's.
   */
  complete(w: Wr, status: WcStatus, atNs: number, value?: number): void {
    if (!this.live || w.status !== null) return;
    const sim = this.world.sim;
    if (atNs > sim.now) {
      sim.schedule(atNs, FEV.COMPLETE, this.id, resolveLater, { w, status, value });
      return;
    }
    w.status = status;
    w.value = value;
    this.drain();
  }

  /** Delivers every completion whose turn has come. */
  private drain(): void {
    // Re-entry (a finish that fails the QP, which drains) is a no-op: the outer loop goes on.
    // An exception here is a simulator bug that ends the run, so no try/finally on this hot path.
    if (this.draining) return;
    this.draining = true;
    const inflight = this.inflight;
    while (this.inflightHead < inflight.length) {
      const w = inflight[this.inflightHead]!;
      if (w.status === null) break;
      inflight[this.inflightHead] = undefined as unknown as Wr;
      this.inflightHead++;
      this.finish(w, w.status, w.value);
    }
    if (this.inflightHead > 64 && this.inflightHead * 2 > this.inflight.length) {
      this.inflight.splice(0, this.inflightHead);
      this.inflightHead = 0;
    }
    this.draining = false;
  }

  /** Posted WRs whose completion has not been delivered (for tests and leak checks). */
  get pendingCompletions(): number {
    return this.inflight.length - this.inflightHead;
  }

  private finish(w: Wr, status: WcStatus, value: number | undefined): void {
    if (!this.live) return;
    this.outstanding--;
    if (this.state === 'error') status = 'flushed';
    else if (status !== 'success') this.fail(status);
    if (status === 'success' && !w.signaled) return;
    const c: { -readonly [K in keyof Completion]: Completion[K] } = {
      wrId: w.wrId,
      status,
      opcode: w.op as WcOpcode,
      qpId: this.id,
      byteLen: status === 'success' ? w.length : 0,
    };
    if (value !== undefined && status === 'success') c.value = value;
    if (this.world.sim.recorder !== null) this.world.rec(this.node.nodeId, 'rc.complete', { qp: this.id, wrId: w.wrId, op: w.op, status });
    this.cq.push(c);
  }

  /** Moves the QP to error: every WR not yet completed is flushed, later posts are flushed. */
  fail(reason: string): void {
    if (this.state === 'error') return;
    this.state = 'error';
    if (this.world.sim.recorder !== null) this.world.rec(this.node.nodeId, 'rc.error', { qp: this.id, reason });
    this.backlog = [];
    this.retrying = false;
    // Requests from the peer that were waiting here are dropped: the peer times out on them.
    this.releaseRx();
    for (let i = this.inflightHead; i < this.inflight.length; i++) {
      const w = this.inflight[i]!;
      if (w.status === null) w.status = 'flushed';
    }
    this.drain();
  }

  /** Responder side: drops the peer's requests waiting here; the peer retries until its timeout. */
  private releaseRx(): void {
    const pending = this.rnrHead !== null ? [this.rnrHead, ...this.rxBacklog] : this.rxBacklog;
    this.rnrHead = null;
    this.rnrToken++;
    this.rxBacklog = [];
    const now = this.world.sim.now;
    const timeout = this.world.params.rcRetryTimeoutNs;
    for (const w of pending) w.qp.complete(w, 'retry-exceeded', Math.max(now, w.postedAtNs + timeout));
  }

  /** The node crashed or rebooted: no more completions from this QP. */
  destroyLocal(): void {
    this.destroyed = true;
    this.backlog = [];
    this.retrying = false;
    this.inflight = [];
    this.inflightHead = 0;
    this.releaseRx();
    this.detach();
  }

  // ---- responder side ----

  /** A request from the peer has arrived here. */
  receive(w: Wr): void {
    if (this.rxDead) {
      w.qp.complete(w, 'flushed', this.world.sim.now);
      return;
    }
    if (this.state !== 'error' && (this.rnrHead !== null || this.rxBusy)) {
      this.rxBacklog.push(w);
      return;
    }
    this.process(w);
  }

  /** Processes queued arrivals while nothing blocks them. */
  private pumpRx(): void {
    while (this.rnrHead === null && !this.rxBusy && this.rxBacklog.length > 0 && this.live) this.process(this.rxBacklog.shift()!);
  }

  /** The requester no longer retransmits `w` (it failed, crashed or gave up on it). */
  private static abandoned(w: Wr): boolean {
    return !w.qp.live || w.qp.state === 'error' || w.status !== null;
  }

  /** A receive buffer was posted (or the RNR timer fired): retry a SEND blocked on receiver-not-ready. */
  kickRnr(): void {
    const w = this.rnrHead;
    if (w === null) return;
    this.rnrHead = null;
    this.rnrToken++;
    if (SimQp.abandoned(w)) {
      // Its requester stopped retrying; the packets queued behind it are out of sequence.
      const rest = this.rxBacklog;
      this.rxBacklog = [];
      w.qp.complete(w, 'flushed', this.world.sim.now);
      for (const r of rest) r.qp.complete(r, 'flushed', this.world.sim.now);
      return;
    }
    this.process(w);
    this.pumpRx();
  }

  rnrTimer(token: number): void {
    if (token !== this.rnrToken || this.rnrHead === null || !this.live) return;
    const w = this.rnrHead;
    w.rnrTries++;
    if (w.rnrTries > this.world.params.rnrRetries && !SimQp.abandoned(w)) {
      this.rnrHead = null;
      this.rnrToken++;
      this.rxDead = true;
      const rest = this.rxBacklog;
      this.rxBacklog = [];
      const req = w.qp;
      req.complete(w, 'rnr-retry-exceeded', this.world.sim.now + this.world.net.controlNs(this.node.nodeId, req.node.nodeId));
      for (const r of rest) req.complete(r, 'flushed', this.world.sim.now);
      return;
    }
    this.kickRnr();
  }

  private nak(w: Wr, status: WcStatus, reason: string): void {
    const sim = this.world.sim;
    if (this.world.sim.recorder !== null) this.world.rec(this.node.nodeId, 'rc.nak', { qp: this.id, reason });
    this.fail(reason);
    w.qp.complete(w, status, sim.now + this.world.net.controlNs(this.node.nodeId, w.qp.node.nodeId));
  }

  private process(w: Wr): void {
    const sim = this.world.sim;
    if (this.state === 'error') {
      // Responder in error: packets are dropped; the requester times out.
      w.qp.complete(w, 'retry-exceeded', Math.max(sim.now, w.postedAtNs + this.world.params.rcRetryTimeoutNs));
      return;
    }
    if (w.op === 'send') {
      this.processSend(w);
      return;
    }
    const reg = this.world.nic(this.node.nodeId).registrations.get(w.remote!.rkey);
    const need = w.op === 'write' ? Access.REMOTE_WRITE : w.op === 'read' ? Access.REMOTE_READ : Access.REMOTE_ATOMIC;
    const off = w.remote!.offset;
    if (reg === undefined || (reg.access & need) === 0 || !(Number.isInteger(off) && off >= 0 && off + w.length <= reg.mem.sizeBytes) || (w.op === 'cas' && (off & 7) !== 0)) {
      this.nak(w, 'remote-access-error', reg === undefined ? 'bad-rkey' : (reg.access & need) === 0 ? 'access-denied' : 'out-of-bounds');
      return;
    }
    if (w.op === 'write') {
      if (w.length <= this.world.params.placementChunkBytes) {
        const acc = reg.mem.nicWrite(off, w.data!, sim.now);
        this.world.payloads.release(w.data!);
        w.data = null;
        this.ack(w, Math.max(acc, sim.now));
        return;
      }
      const chunks = Math.max(1, Math.min(MAX_CHUNKS, Math.ceil(w.length / this.world.params.placementChunkBytes)));
      const ser = this.world.net.serializeNs(w.length);
      this.rxBusy = true;
      placeChunk({ qp: this, w, mem: reg.mem, chunks, size: Math.ceil(w.length / chunks), index: 0, serNs: ser, startNs: sim.now, acceptedNs: sim.now });
      return;
    }
    if (w.op === 'read') {
      const data = this.world.payloads.copy(reg.mem.visible, off, w.length);
      const tx = this.world.net.transmit(this.node.nodeId, w.qp.node.nodeId, HEADER_BYTES + w.length, sim.now);
      w.respData = data;
      sim.schedule(tx.arriveNs + tx.serializeNs, FEV.READ_RESP, w.qp.id, respond, w);
      return;
    }
    // cas
    const old = reg.mem.nicCas(off, w.expected, w.desired, sim.now);
    w.respOld = old;
    sim.schedule(sim.now + this.world.net.controlNs(this.node.nodeId, w.qp.node.nodeId), FEV.READ_RESP, w.qp.id, respond, w);
  }

  /** A chunked WRITE finished placing (or was cut off): later arrivals may proceed. */
  placementDone(): void {
    this.rxBusy = false;
    this.pumpRx();
  }

  private processSend(w: Wr): void {
    const sim = this.world.sim;
    const taken = this.rq.take(w.length);
    if (taken.kind !== 'too-long') for (const r of taken.retired) this.recvCompletion(r.wrId, 'success', 0, 0, true);
    if (taken.kind === 'rnr') {
      this.rnrHead = w;
      const token = ++this.rnrToken;
      sim.after(this.world.params.rnrRetryNs, FEV.RETRY, this.id, rnrTimer, { qp: this, token });
      return;
    }
    if (taken.kind === 'too-long') {
      this.recvCompletion(taken.wrId, 'local-length-error', 0, 0, true);
      this.nak(w, 'remote-access-error', 'message-too-long');
      return;
    }
    const at = taken.at;
    const accepted = at.mem.nicWrite(at.offset, w.data!, sim.now);
    this.world.payloads.release(w.data!);
    w.data = null;
    this.recvCompletion(at.wrId, 'success', w.length, at.bufOffset, at.bufferDone);
    if (this.state === 'error') {
      // Its receive completion overran the CQ: the QP is in error and answers no more; the sender times out.
      w.qp.complete(w, 'retry-exceeded', Math.max(sim.now, w.postedAtNs + this.world.params.rcRetryTimeoutNs));
      return;
    }
    this.ack(w, Math.max(accepted, sim.now));
  }

  private recvCompletion(wrId: number, status: WcStatus, byteLen: number, bufOffset: number, bufferDone: boolean): void {
    const c: Completion = {
      wrId,
      status,
      opcode: 'recv',
      qpId: this.id,
      byteLen,
      srcNode: this.remote,
      ...(this.rq.multiPacket ? { bufOffset, bufferDone } : {}),
    };
    if (this.world.sim.recorder !== null) this.world.rec(this.node.nodeId, 'rc.recv', { qp: this.id, wrId, bytes: byteLen, status });
    this.rq.cq.push(c);
  }

  /** Sends the ACK for `w` once its effects are placed at `placedNs`. */
  ack(w: Wr, placedNs: number): void {
    const sim = this.world.sim;
    const req = w.qp;
    const t = placedNs + this.world.net.controlNs(this.node.nodeId, req.node.nodeId);
    sim.schedule(Math.max(t, sim.now), FEV.ACK, req.id, respond, w);
  }
}

interface ChunkJob {
  qp: SimQp;
  w: Wr;
  mem: SimMemory;
  chunks: number;
  /** Nominal chunk size; actual boundaries are rounded down to word-aligned addresses. */
  size: number;
  index: number;
  serNs: number;
  startNs: number;
  acceptedNs: number;
}

/** Offset inside the WR where chunk `k` starts: word-aligned in the target's address space. */
function chunkStart(job: ChunkJob, k: number): number {
  const len = job.w.length;
  if (k <= 0) return 0;
  if (k >= job.chunks) return len;
  const base = job.w.remote!.offset;
  const abs = Math.floor((base + k * job.size) / WORD) * WORD;
  return Math.min(len, Math.max(0, abs - base));
}

/** Places chunk `job.index` of a WRITE, then schedules the next one (or the ACK). */
function placeChunk(job: ChunkJob): void {
  const { qp, w, mem, chunks } = job;
  const sim = qp.node.sim;
  // A responder that crashed (or whose QP died) places nothing more.
  if (!qp.live) {
    w.qp.complete(w, 'retry-exceeded', Math.max(sim.now, w.postedAtNs + qp.world.params.rcRetryTimeoutNs));
    return;
  }
  // A requester that crashed stops sending: chunks that would leave after the crash never come.
  const req = w.qp.node;
  const chunkDepart = w.departNs + Math.floor((job.serNs * job.index) / chunks);
  const cut = req.crashTimeOfEpoch(w.qp.epoch);
  if (cut >= 0 && cut <= chunkDepart) {
    qp.placementDone();
    return;
  }
  if (qp.state === 'error') {
    // The responder went to error mid-transfer: the rest is dropped, the requester times out.
    w.qp.complete(w, 'retry-exceeded', Math.max(sim.now, w.postedAtNs + qp.world.params.rcRetryTimeoutNs));
    qp.placementDone();
    return;
  }
  const from = chunkStart(job, job.index);
  const to = chunkStart(job, job.index + 1);
  if (to > from) {
    const acc = mem.nicWrite(w.remote!.offset + from, w.data!.subarray(from, to), sim.now);
    if (acc > job.acceptedNs) job.acceptedNs = acc;
  }
  job.index++;
  if (job.index >= chunks) {
    qp.world.payloads.release(w.data!);
    w.data = null;
    qp.ack(w, Math.max(job.acceptedNs, sim.now));
    qp.placementDone();
    return;
  }
  // Chunks land at wire pace. A media-bound PM device delays the ACK (job.acceptedNs), not the
  // placement of the next chunk: stalling chunks one QP at a time would let other QPs' chunks land
  // between them and split XPLines that the wire delivered whole.
  const nominal = job.startNs + Math.floor((job.serNs * job.index) / chunks);
  sim.schedule(Math.max(nominal, sim.now), FEV.CHUNK, qp.id, placeChunk, job);
}

function arriveAtPeer(w: Wr): void {
  const req = w.qp;
  const sim = req.node.sim;
  // The requester crashed before this WR left its NIC: it never existed on the wire.
  const cut = req.node.crashTimeOfEpoch(req.epoch);
  if (cut >= 0 && cut <= w.departNs) return;
  const peer = req.peer;
  if (peer === null || !peer.live) {
    // Nobody answers: the requester retransmits until its retry timeout.
    req.complete(w, 'retry-exceeded', Math.max(sim.now, w.postedAtNs + req.world.params.rcRetryTimeoutNs));
    return;
  }
  peer.receive(w);
}

/**
 * A response (ACK, READ data, atomic result) reaches the requester. On a blocked return path the
 * requester retransmits and the responder answers again (atomics replay their saved result) until
 * the path heals or the retry timeout passes. Data lands in local memory only when a response
 * actually arrives and the WR is still pending.
 */
function respond(w: Wr): void {
  const req = w.qp;
  if (!req.live || w.status !== null) return;
  const world = req.world;
  const peerNode = req.peer?.node.nodeId ?? req.remote;
  if (!world.net.canSend(peerNode, req.node.nodeId)) {
    const deadline = w.postedAtNs + world.params.rcRetryTimeoutNs;
    if (world.sim.now >= deadline) {
      req.complete(w, 'retry-exceeded', world.sim.now);
      return;
    }
    world.sim.after(Math.min(world.params.rcRetransmitNs, deadline - world.sim.now), FEV.ACK, req.id, respond, w);
    return;
  }
  const now = world.sim.now;
  const old = w.respOld;
  if (w.op === 'read' && w.respData !== null) {
    const dst = w.local!;
    (dst.mem as SimMemory).nicWrite(dst.offset, w.respData, now);
    world.payloads.release(w.respData);
    w.respData = null;
  } else if (w.op === 'cas' && w.local !== null && old !== undefined) {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint32(0, old >>> 0, true);
    v.setUint32(4, Math.floor(old / 4294967296), true);
    (w.local.mem as SimMemory).nicWrite(w.local.offset, b, now);
  }
  req.complete(w, 'success', now, old);
}

function resolveLater(a: { w: Wr; status: WcStatus; value: number | undefined }): void {
  a.w.qp.complete(a.w, a.status, a.w.qp.world.sim.now, a.value);
}

function remoteClosed(qp: SimQp): void {
  qp.remoteClosed();
}

function retryTick(qp: SimQp): void {
  qp.retryTick();
}

function rnrTimer(a: { qp: SimQp; token: number }): void {
  a.qp.rnrTimer(a.token);
}
/** The passive side of connection setup (see Fabric.listen). */
export class SimListener implements Listener {
  private readonly accepted: SimQp[] = [];
  /** Threads blocked in accept(), served in FIFO order. */
  private waiters: Future<SimQp | null>[] = [];
  closed = false;

  constructor(
    readonly service: string,
    readonly node: SimNode,
    readonly epoch: number,
    readonly privateData: Uint8Array,
    /** Creates the passive QP with the listener's options. */
    readonly makeQp: (remote: number) => SimQp,
  ) {}

  get live(): boolean {
    return !this.closed && this.node.epoch === this.epoch && this.node.alive;
  }

  deliver(qp: SimQp): void {
    qp.listener = this;
    while (this.waiters.length > 0) {
      const w = this.waiters.shift()!;
      // A waiter whose timeout fired is already resolved (with null): skip it.
      if (w.resolve(qp)) {
        qp.listener = null;
        return;
      }
    }
    this.accepted.push(qp);
  }

  /** Takes a QP that was never handed to accept() out of the queue (its peer disconnected). */
  withdraw(qp: SimQp): boolean {
    const i = this.accepted.indexOf(qp);
    if (i < 0) return false;
    this.accepted.splice(i, 1);
    return true;
  }

  *accept(timeoutNs?: number): Task<SimQp | null> {
    yield 0;
    if (this.accepted.length > 0) {
      const qp = this.accepted.shift()!;
      qp.listener = null;
      return qp;
    }
    if (timeoutNs !== undefined && timeoutNs <= 0) return null;
    const f = new Future<SimQp | null>();
    this.waiters.push(f);
    if (timeoutNs !== undefined) {
      this.node.sim.after(Math.max(0, Math.round(timeoutNs)), FEV.CONNECT, this.node.nodeId, () => {
        if (f.resolve(null)) {
          const i = this.waiters.indexOf(f);
          if (i >= 0) this.waiters.splice(i, 1);
        }
      });
    }
    return (yield f as Future<unknown>) as SimQp | null;
  }

  close(): void {
    this.closed = true;
  }
}
