import {
  Access,
  Future,
  type Completion,
  type Listener,
  type LocalSlice,
  type QueuePair,
  type RemoteAddr,
  type Source,
  type Task,
  type WcOpcode,
  type WcStatus,
  type WorkRequestOptions,
} from '../../src/platform/index.js';
import type { SimMemory } from '../memory.js';
import type { SimNode } from '../node.js';
import type { SimCq } from './cq.js';
import type { ReceiveQueue } from './recv.js';
import { FEV, type FabricWorld } from './world.js';

/** Header bytes of a request packet (BTH + RETH), of an ACK / read request. */
const HEADER_BYTES = 30;
/** Placement of one WR's payload is spread over at most this many chunk events. */
const MAX_CHUNKS = 64;

type Op = 'write' | 'read' | 'cas' | 'send';

/** A posted work request, as the NIC model tracks it. */
class Wr {
  departNs = 0;
  /** RNR retries used (send). */
  rnrTries = 0;
  constructor(
    readonly op: Op,
    readonly qp: SimQp,
    readonly wrId: number,
    readonly signaled: boolean,
    /** Payload (write/send), copied at post. */
    readonly data: Uint8Array | null,
    /** Local destination (read, cas). */
    readonly local: LocalSlice | null,
    readonly remote: RemoteAddr | null,
    readonly length: number,
    readonly expected: number,
    readonly desired: number,
    readonly postedAtNs: number,
  ) {}
}

function isSlice(s: Source): s is LocalSlice {
  return !(s instanceof Uint8Array);
}

/**
 * One end of a reliable connection.
 *
 * Requester side: WRs leave in posting order; while the link to the peer is blocked the QP
 * retransmits every `rcRetransmitNs` and fails the head WR with retry-exceeded after
 * `rcRetryTimeoutNs`, later WRs queueing behind it. Arrivals at the peer are kept in order
 * (a WR never arrives before the previous one's payload has). A failed WR moves the QP to error;
 * every later completion is flushed.
 *
 * Responder side: validates the rkey, access rights and bounds (a violation NAKs and moves both
 * ends to error), places WRITE payloads chunk by chunk over virtual time (a concurrent reader can
 * see half an object; a sender crash mid-transfer leaves it torn), performs atomics, consumes
 * receive buffers for SENDs (waiting as receiver-not-ready when none is posted), and ACKs after
 * placement.
 */
export class SimQp implements QueuePair {
  readonly id: number;
  state: 'ready' | 'error' = 'ready';
  peer: SimQp | null = null;
  private readonly epoch: number;
  /** Next WR may not arrive at the peer before this (in-order delivery). */
  private lastArrivalNs = 0;
  /** Completions are delivered in order. */
  private lastCompletionNs = 0;
  private retrying = false;
  private retryStartNs = 0;
  private backlog: Wr[] = [];
  /** Responder side: a SEND waiting for a receive buffer blocks later arrivals. */
  private rnrHead: Wr | null = null;
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
    cq.attached.push(this);
    if (recvCq !== cq) recvCq.attached.push(this);
  }

  /** Alive: the node's boot that created it is still running and it has not been destroyed. */
  get live(): boolean {
    return !this.destroyed && this.node.epoch === this.epoch && this.node.alive;
  }

  // ---- posting (scheduling points) ----

  *write(src: Source, dst: RemoteAddr, wr?: WorkRequestOptions): Task<void> {
    yield this.world.params.postCostNs;
    const data = isSlice(src) ? (src.mem as SimMemory).peek(src.offset, src.length) : src.slice();
    this.post(new Wr('write', this, wr?.wrId ?? 0, wr?.signaled ?? true, data, null, dst, data.length, 0, 0, this.world.sim.now));
  }

  *read(dst: LocalSlice, src: RemoteAddr, wr?: WorkRequestOptions): Task<void> {
    yield this.world.params.postCostNs;
    this.post(new Wr('read', this, wr?.wrId ?? 0, wr?.signaled ?? true, null, dst, src, dst.length, 0, 0, this.world.sim.now));
  }

  *cas(remote: RemoteAddr, expected: number, desired: number, wr?: WorkRequestOptions, dst?: LocalSlice): Task<void> {
    yield this.world.params.postCostNs;
    this.post(new Wr('cas', this, wr?.wrId ?? 0, wr?.signaled ?? true, null, dst ?? null, remote, 8, expected, desired, this.world.sim.now));
  }

  *send(src: Source, wr?: WorkRequestOptions): Task<void> {
    yield this.world.params.postCostNs;
    const data = isSlice(src) ? (src.mem as SimMemory).peek(src.offset, src.length) : src.slice();
    this.post(new Wr('send', this, wr?.wrId ?? 0, wr?.signaled ?? true, data, null, null, data.length, 0, 0, this.world.sim.now));
  }

  *postRecv(buf: LocalSlice, wrId: number): Task<void> {
    yield this.world.params.postCostNs;
    if (this.rq.multiPacket || this.rq !== this.ownRq) throw new Error(`QP ${this.id} is bound to a shared receive queue: post to the SRQ`);
    this.rq.post(buf, wrId);
    this.peer?.kickRnr();
  }

  /** The per-QP receive queue, when the QP has no SRQ (set by the creator). */
  ownRq: ReceiveQueue | null = null;

  close(): void {
    if (this.destroyed) return;
    this.fail('closed');
    this.destroyed = true;
  }

  private post(w: Wr): void {
    const sim = this.world.sim;
    sim.hash.word(w.length);
    sim.hash.word(w.remote === null ? 0 : w.remote.offset);
    this.outstanding++;
    if (this.world.sim.recorder !== null) this.world.rec(this.node.nodeId, `rc.${w.op}`, { qp: this.id, to: this.remote, wrId: w.wrId, bytes: w.length, ...(w.remote ? { rkey: w.remote.rkey, off: w.remote.offset } : {}) });
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

  /** Delivers a completion for `w` at `atNs` (not before earlier ones). */
  complete(w: Wr, status: WcStatus, atNs: number, value?: number): void {
    const t = Math.max(atNs, this.lastCompletionNs, this.world.sim.now);
    this.lastCompletionNs = t;
    this.world.sim.schedule(t, FEV.COMPLETE, this.id, deliverCompletion, { w, status, value });
  }

  finish(w: Wr, status: WcStatus, value: number | undefined): void {
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

  /** Moves the QP to error: queued WRs are flushed, later posts are flushed. */
  fail(reason: string): void {
    if (this.state === 'error') return;
    this.state = 'error';
    if (this.world.sim.recorder !== null) this.world.rec(this.node.nodeId, 'rc.error', { qp: this.id, reason });
    const q = this.backlog;
    this.backlog = [];
    this.retrying = false;
    for (const w of q) this.complete(w, 'flushed', this.world.sim.now);
    if (this.rnrHead !== null || this.rxBacklog.length > 0) {
      this.rnrHead = null;
      this.rxBacklog = [];
    }
  }

  /** The node crashed or rebooted: no more completions from this QP. */
  destroyLocal(): void {
    this.destroyed = true;
    this.backlog = [];
    this.rxBacklog = [];
    this.rnrHead = null;
  }

  // ---- responder side ----

  /** A request from the peer has arrived here. */
  receive(w: Wr): void {
    if (this.rnrHead !== null) {
      this.rxBacklog.push(w);
      return;
    }
    this.process(w);
  }

  /** A receive buffer was posted: retry a SEND blocked on receiver-not-ready. */
  kickRnr(): void {
    if (this.rnrHead === null) return;
    const w = this.rnrHead;
    this.rnrHead = null;
    this.process(w);
    while (this.rnrHead === null && this.rxBacklog.length > 0) this.process(this.rxBacklog.shift()!);
  }

  rnrTimer(w: Wr): void {
    if (this.rnrHead !== w) return;
    w.rnrTries++;
    if (w.rnrTries > this.world.params.rnrRetries) {
      this.rnrHead = null;
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
      w.qp.complete(w, 'retry-exceeded', w.postedAtNs + this.world.params.rcRetryTimeoutNs);
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
        this.ack(w, Math.max(acc, sim.now));
        return;
      }
      const chunks = Math.max(1, Math.min(MAX_CHUNKS, Math.ceil(w.length / this.world.params.placementChunkBytes)));
      const ser = this.world.net.serializeNs(w.length);
      placeChunk({ qp: this, w, mem: reg.mem, chunks, index: 0, serNs: ser, startNs: sim.now, acceptedNs: sim.now });
      return;
    }
    if (w.op === 'read') {
      const data = reg.mem.peek(off, w.length);
      const tx = this.world.net.transmit(this.node.nodeId, w.qp.node.nodeId, HEADER_BYTES + w.length, sim.now);
      sim.schedule(tx.arriveNs + tx.serializeNs, FEV.READ_RESP, w.qp.id, readResponse, { w, data });
      return;
    }
    // cas
    const old = reg.mem.nicCas(off, w.expected, w.desired, sim.now);
    sim.schedule(sim.now + this.world.net.controlNs(this.node.nodeId, w.qp.node.nodeId), FEV.READ_RESP, w.qp.id, casResponse, { w, old });
  }

  private processSend(w: Wr): void {
    const sim = this.world.sim;
    const taken = this.rq.take(w.length);
    if (taken.kind !== 'too-long') for (const r of taken.retired) this.recvCompletion(r.wrId, 'success', 0, 0, true);
    if (taken.kind === 'rnr') {
      this.rnrHead = w;
      sim.after(this.world.params.rnrRetryNs, FEV.RETRY, this.id, rnrTimer, { qp: this, w });
      return;
    }
    if (taken.kind === 'too-long') {
      this.recvCompletion(taken.wrId, 'local-length-error', 0, 0, true);
      this.nak(w, 'remote-access-error', 'message-too-long');
      return;
    }
    const at = taken.at;
    const accepted = at.mem.nicWrite(at.offset, w.data!, sim.now);
    this.recvCompletion(at.wrId, 'success', w.length, at.bufOffset, at.bufferDone);
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
    sim.schedule(Math.max(t, sim.now), FEV.ACK, req.id, ackArrives, w);
  }
}

interface ChunkJob {
  qp: SimQp;
  w: Wr;
  mem: SimMemory;
  chunks: number;
  index: number;
  serNs: number;
  startNs: number;
  acceptedNs: number;
}

/** Places chunk `job.index` of a WRITE, then schedules the next one (or the ACK). */
function placeChunk(job: ChunkJob): void {
  const { qp, w, mem, chunks } = job;
  const sim = qp.node.sim;
  // A requester that crashed stops sending: chunks that would leave after the crash never come.
  const req = w.qp.node;
  const chunkDepart = w.departNs + Math.floor((job.serNs * job.index) / chunks);
  if (!w.qp.live && req.crashedAtNs >= 0 && req.crashedAtNs <= chunkDepart) return;
  // A responder that crashed (or whose QP died) places nothing more.
  if (!qp.live) {
    w.qp.complete(w, 'retry-exceeded', w.postedAtNs + qp.world.params.rcRetryTimeoutNs);
    return;
  }
  const size = Math.ceil(w.length / chunks);
  const from = job.index * size;
  const to = Math.min(w.length, from + size);
  if (to > from) {
    const acc = mem.nicWrite(w.remote!.offset + from, w.data!.subarray(from, to), sim.now);
    if (acc > job.acceptedNs) job.acceptedNs = acc;
  }
  job.index++;
  if (job.index >= chunks || to >= w.length) {
    qp.ack(w, Math.max(job.acceptedNs, sim.now));
    return;
  }
  const nominal = job.startNs + Math.floor((job.serNs * job.index) / chunks);
  sim.schedule(Math.max(nominal, job.acceptedNs, sim.now), FEV.CHUNK, qp.id, placeChunk, job);
}

function arriveAtPeer(w: Wr): void {
  const req = w.qp;
  const sim = req.node.sim;
  // The requester crashed before this WR left its NIC: it never existed on the wire.
  if (!req.live && req.node.crashedAtNs >= 0 && req.node.crashedAtNs <= w.departNs) return;
  const peer = req.peer;
  if (peer === null || !peer.live) {
    // Nobody answers: the requester retransmits until its retry timeout.
    req.complete(w, 'retry-exceeded', Math.max(sim.now, w.postedAtNs + req.world.params.rcRetryTimeoutNs));
    return;
  }
  peer.receive(w);
}

function ackArrives(w: Wr): void {
  const req = w.qp;
  const world = req.world;
  const peerNode = req.peer?.node.nodeId ?? req.remote;
  if (!world.net.canSend(peerNode, req.node.nodeId)) {
    // The ACK is lost on a blocked return path: the requester retransmits; the peer re-ACKs when it can.
    const deadline = w.postedAtNs + world.params.rcRetryTimeoutNs;
    if (world.sim.now >= deadline) {
      req.complete(w, 'retry-exceeded', world.sim.now);
      return;
    }
    world.sim.after(world.params.rcRetransmitNs, FEV.ACK, req.id, ackArrives, w);
    return;
  }
  req.complete(w, 'success', world.sim.now);
}

function readResponse(a: { w: Wr; data: Uint8Array }): void {
  const { w, data } = a;
  const req = w.qp;
  if (!req.live) return;
  const dst = w.local!;
  (dst.mem as SimMemory).nicWrite(dst.offset, data, req.node.sim.now);
  ackArrives(w);
}

function casResponse(a: { w: Wr; old: number }): void {
  const { w, old } = a;
  const req = w.qp;
  if (!req.live) return;
  if (w.local !== null) {
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setUint32(0, old >>> 0, true);
    v.setUint32(4, Math.floor(old / 4294967296), true);
    (w.local.mem as SimMemory).nicWrite(w.local.offset, b, req.node.sim.now);
  }
  req.complete(w, 'success', req.node.sim.now, old);
}

function deliverCompletion(a: { w: Wr; status: WcStatus; value: number | undefined }): void {
  a.w.qp.finish(a.w, a.status, a.value);
}

function retryTick(qp: SimQp): void {
  qp.retryTick();
}

function rnrTimer(a: { qp: SimQp; w: Wr }): void {
  a.qp.rnrTimer(a.w);
}

/** The passive side of connection setup (see Fabric.listen). */
export class SimListener implements Listener {
  private readonly accepted: SimQp[] = [];
  private waiter: Future<SimQp | null> | null = null;
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
    const w = this.waiter;
    if (w !== null && !w.done) {
      this.waiter = null;
      w.resolve(qp);
      return;
    }
    this.accepted.push(qp);
  }

  *accept(timeoutNs?: number): Task<SimQp | null> {
    yield 0;
    if (this.accepted.length > 0) return this.accepted.shift()!;
    const f = new Future<SimQp | null>();
    this.waiter = f;
    if (timeoutNs !== undefined) this.node.sim.after(Math.round(timeoutNs), FEV.CONNECT, this.node.nodeId, () => void f.resolve(null));
    return (yield f as Future<unknown>) as SimQp | null;
  }

  close(): void {
    this.closed = true;
  }
}
