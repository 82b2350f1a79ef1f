import type { Completion, LocalSlice, Source, Task, UdAddress, UdEndpoint, Wait, WorkRequestOptions } from '../../src/platform/index.js';
import type { SimMemory } from '../memory.js';
import type { SimNode } from '../node.js';
import { OneStep } from '../op.js';
import type { SimCq } from './cq.js';
import type { ReceiveQueue } from './recv.js';
import { FEV, type FabricWorld } from './world.js';

const UD_HEADER_BYTES = 40;

interface Datagram {
  from: SimUd;
  dst: UdAddress;
  data: Uint8Array;
  departNs: number;
}

/**
 * An unreliable datagram endpoint. A datagram is lost when the link is blocked when it leaves,
 * when the loss draw says so, when the destination node/port is gone, or when no receive buffer is
 * posted (UD has no receiver-not-ready retry). The send completes locally once it has left.
 */
export class SimUd implements UdEndpoint {
  readonly id: number;
  readonly epoch: number;
  closed = false;

  constructor(
    readonly world: FabricWorld,
    readonly node: SimNode,
    readonly address: UdAddress,
    readonly cq: SimCq,
    readonly rq: ReceiveQueue,
  ) {
    this.id = world.newUdId();
    this.epoch = node.epoch;
  }

  get mtuBytes(): number {
    return this.world.params.mtuBytes;
  }

  get live(): boolean {
    return !this.closed && this.node.epoch === this.epoch && this.node.alive;
  }

  send(dst: UdAddress, src: Source, wr?: WorkRequestOptions): Task<void> {
    return new UdPost(this, dst, src, wr);
  }

  postRecv(buf: LocalSlice, wrId: number): Task<void> {
    return new UdPost(this, null, buf, { wrId });
  }

  /** The send itself, once the thread has paid the post's cost. */
  sendNow(dst: UdAddress, src: Source, wr: WorkRequestOptions | undefined): void {
    const world = this.world;
    if (!(Number.isInteger(dst.node) && dst.node >= 0 && dst.node < world.nodes.length)) throw new RangeError(`UD send: no node ${dst.node} in the cluster`);
    const data = src instanceof Uint8Array ? world.payloads.copy(src) : world.payloads.copy((src.mem as SimMemory).visible, src.offset, src.length);
    const wrId = wr?.wrId ?? 0;
    const signaled = wr?.signaled ?? true;
    const sim = world.sim;
    if (!this.live) {
      this.cq.push({ wrId, status: 'flushed', opcode: 'ud-send', qpId: this.id, byteLen: 0 });
      return;
    }
    sim.hash.word(dst.node);
    sim.hash.word(data.length);
    if (data.length > world.params.mtuBytes) {
      this.cq.push({ wrId, status: 'local-length-error', opcode: 'ud-send', qpId: this.id, byteLen: 0 });
      return;
    }
    const me = this.node.nodeId;
    const bytes = UD_HEADER_BYTES + data.length;
    if (world.sim.recorder !== null) world.rec(me, 'ud.send', { ud: this.id, to: dst.node, port: dst.port, bytes: data.length });
    // A datagram that is lost (blocked link, loss draw) never reaches the receiver's port.
    const lost = !world.net.canSend(me, dst.node) || world.net.drawUdLoss();
    if (lost) {
      const tx = world.net.transmitLost(me, bytes, sim.now);
      if (signaled) sim.schedule(tx.departNs + tx.serializeNs, FEV.UD_DONE, this.id, udSent, { ud: this, wrId, len: data.length });
      if (world.sim.recorder !== null) world.rec(me, 'ud.lost', { ud: this.id, to: dst.node });
      return;
    }
    const tx = world.net.transmit(me, dst.node, bytes, sim.now);
    if (signaled) sim.schedule(tx.departNs + tx.serializeNs, FEV.UD_DONE, this.id, udSent, { ud: this, wrId, len: data.length });
    sim.schedule(tx.arriveNs + tx.serializeNs, FEV.UD_ARRIVE, this.id, udArrive, { from: this, dst, data, departNs: tx.departNs });
  }

  postRecvNow(buf: LocalSlice, wrId: number): void {
    this.rq.post(buf, wrId);
  }

  close(): void {
    this.closed = true;
    const nic = this.world.nic(this.node.nodeId);
    if (nic.udPorts.get(this.address.port) === this) nic.udPorts.delete(this.address.port);
  }

  deliver(d: Datagram): void {
    const sim = this.world.sim;
    const taken = this.rq.take(d.data.length);
    if (taken.kind === 'too-long') {
      // The buffer was consumed: its owner learns so from a receive completion in error.
      if (this.world.sim.recorder !== null) this.world.rec(this.node.nodeId, 'ud.drop', { ud: this.id, reason: taken.kind });
      this.rq.cq.push({ wrId: taken.wrId, status: 'local-length-error', opcode: 'ud-recv', qpId: this.id, byteLen: 0, srcNode: d.from.address.node, udSrc: d.from.address });
      return;
    }
    if (taken.kind !== 'placed') {
      if (this.world.sim.recorder !== null) this.world.rec(this.node.nodeId, 'ud.drop', { ud: this.id, reason: taken.kind });
      return;
    }
    taken.at.mem.nicWrite(taken.at.offset, d.data, sim.now);
    const c: Completion = {
      wrId: taken.at.wrId,
      status: 'success',
      opcode: 'ud-recv',
      qpId: this.id,
      byteLen: d.data.length,
      srcNode: d.from.address.node,
      udSrc: d.from.address,
    };
    if (this.world.sim.recorder !== null) this.world.rec(this.node.nodeId, 'ud.recv', { ud: this.id, from: d.from.address.node, bytes: d.data.length });
    this.world.payloads.release(d.data);
    this.rq.cq.push(c);
  }
}

function udSent(a: { ud: SimUd; wrId: number; len: number }): void {
  if (!a.ud.live) return;
  a.ud.cq.push({ wrId: a.wrId, status: 'success', opcode: 'ud-send', qpId: a.ud.id, byteLen: a.len });
}

function udArrive(d: Datagram): void {
  const world = d.from.world;
  const from = d.from.node;
  const cut = from.crashTimeOfEpoch(d.from.epoch);
  if (cut >= 0 && cut <= d.departNs) return;
  const target = world.nic(d.dst.node).udPorts.get(d.dst.port);
  if (target === undefined || !target.live || !world.net.isNicUp(d.dst.node)) {
    if (world.sim.recorder !== null) world.rec(d.dst.node, 'ud.drop', { reason: 'no-endpoint', port: d.dst.port });
    return;
  }
  target.deliver(d);
}

/** A UD send (dst set) or receive post (dst null): one scheduling point (the post's cost), then the post. */
class UdPost extends OneStep<void> {
  constructor(
    private readonly ud: SimUd,
    private readonly dst: UdAddress | null,
    private readonly src: Source,
    private readonly wr: WorkRequestOptions | undefined,
  ) {
    super();
  }
  protected cost(): Wait {
    return this.ud.world.params.postCostNs;
  }
  protected effect(): void {
    if (this.dst !== null) this.ud.sendNow(this.dst, this.src, this.wr);
    else this.ud.postRecvNow(this.src as LocalSlice, this.wr!.wrId ?? 0);
  }
}
