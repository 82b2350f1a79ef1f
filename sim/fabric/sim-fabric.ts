import {
  type CompletionQueue,
  type Connection,
  type CqOptions,
  type Fabric,
  type Listener,
  type ListenOptions,
  type Memory,
  type MemoryKey,
  type QpOptions,
  type SharedReceiveQueue,
  type SrqOptions,
  type Task,
  type UdEndpoint,
  type UdOptions,
} from '../../src/platform/index.js';
import { SimMemory } from '../memory.js';
import type { SimNode } from '../node.js';
import { SimCq } from './cq.js';
import { SimListener, SimQp } from './rc.js';
import { ReceiveQueue } from './recv.js';
import { SimUd } from './ud.js';
import type { FabricWorld } from './world.js';

/** The Fabric of one boot of one node. */
export class SimFabric implements Fabric {
  /** The boot this fabric belongs to: after a crash it never touches the next boot's NIC. */
  private readonly epoch: number;

  constructor(
    private readonly world: FabricWorld,
    private readonly node: SimNode,
  ) {
    this.epoch = node.epoch;
  }

  get nodeId(): number {
    return this.node.nodeId;
  }

  private get nic() {
    const nic = this.world.nic(this.node.nodeId);
    if (!nic.current || nic.epoch !== this.epoch) throw new Error(`node ${this.node.nodeId}: fabric used after its boot ended`);
    return nic;
  }

  registerMemory(mem: Memory, access: number): MemoryKey {
    if (!(mem instanceof SimMemory)) throw new Error('registerMemory: not a region of this node');
    const nic = this.nic;
    const rkey = nic.newRkey();
    nic.registrations.set(rkey, { mem, access });
    this.world.rec(this.node.nodeId, 'mr.register', { name: mem.name, rkey, bytes: mem.sizeBytes, access });
    return { node: this.node.nodeId, rkey, sizeBytes: mem.sizeBytes };
  }

  deregisterMemory(key: MemoryKey): void {
    if (key.node !== this.node.nodeId) throw new Error(`deregisterMemory: rkey ${key.rkey} belongs to node ${key.node}`);
    if (this.nic.registrations.delete(key.rkey)) this.world.rec(this.node.nodeId, 'mr.deregister', { rkey: key.rkey });
  }

  createCq(opts: CqOptions): CompletionQueue {
    return new SimCq(this.node, this.world.params.pollCostNs, opts.capacity, opts.overrunIgnoring ?? false);
  }

  createSrq(opts: SrqOptions): SharedReceiveQueue {
    return new ReceiveQueue(this.node, this.world.params.postCostNs, opts.capacity, asCq(opts.cq), opts.multiPacket?.strideBytes ?? null);
  }

  /** Builds a QP on this node with the given options. */
  makeQp(remote: number, opts: QpOptions): SimQp {
    const cq = asCq(opts.cq);
    const recvCq = opts.recvCq !== undefined ? asCq(opts.recvCq) : cq;
    let rq: ReceiveQueue;
    let own: ReceiveQueue | null = null;
    if (opts.srq !== undefined) {
      if (!(opts.srq instanceof ReceiveQueue)) throw new Error('srq: not an SRQ of this node');
      rq = opts.srq;
    } else {
      own = new ReceiveQueue(this.node, this.world.params.postCostNs, opts.recvCapacity ?? 64, recvCq, null);
      rq = own;
    }
    const qp = new SimQp(this.world, this.node, remote, cq, recvCq, rq);
    qp.ownRq = own;
    this.nic.qps.push(qp);
    return qp;
  }

  listen(service: string, opts: ListenOptions): Listener {
    const nic = this.nic;
    const l = new SimListener(service, this.node, this.node.epoch, opts.privateData?.slice() ?? new Uint8Array(0), (remote) => this.makeQp(remote, opts));
    nic.listeners.set(service, l);
    this.world.rec(this.node.nodeId, 'cm.listen', { service });
    return l;
  }

  *connect(remote: number, service: string, opts: QpOptions, timeoutNs = 1_000_000): Task<Connection | null> {
    const world = this.world;
    const sim = world.sim;
    const me = this.node.nodeId;
    yield world.params.postCostNs;
    if (!(Number.isInteger(remote) && remote >= 0 && remote < world.nodes.length)) throw new RangeError(`connect: no node ${remote} in the cluster`);
    timeoutNs = Math.max(0, Math.round(timeoutNs));
    const reachable = () => world.net.canSend(me, remote) && world.net.canSend(remote, me);
    const rtt = world.net.controlNs(me, remote) + world.net.controlNs(remote, me);
    const listenerNow = world.nic(remote).listeners.get(service);
    if (!reachable() || listenerNow === undefined || !listenerNow.live) {
      // No answer (unreachable, crashed) costs the timeout; a reachable peer without a listener rejects after a round trip.
      const peerUp = reachable() && world.nodes[remote]!.alive;
      yield peerUp ? rtt : timeoutNs;
      world.rec(me, 'cm.connect-failed', { to: remote, service });
      return null;
    }
    yield rtt + world.params.connectSetupNs;
    const listener = world.nic(remote).listeners.get(service);
    if (!reachable() || listener === undefined || !listener.live || !this.nic.current) {
      world.rec(me, 'cm.connect-failed', { to: remote, service });
      return null;
    }
    const local = this.makeQp(remote, opts);
    const passive = listener.makeQp(me);
    local.peer = passive;
    passive.peer = local;
    sim.hash.word(local.id);
    world.rec(me, 'cm.connected', { to: remote, service, qp: local.id, peerQp: passive.id });
    listener.deliver(passive);
    return { qp: local, privateData: listener.privateData.slice() };
  }

  createUd(opts: UdOptions): UdEndpoint {
    const nic = this.nic;
    let port = opts.port;
    if (port === undefined) {
      while (nic.udPorts.has(nic.nextEphemeralPort)) nic.nextEphemeralPort++;
      port = nic.nextEphemeralPort++;
    }
    if (nic.udPorts.has(port)) throw new Error(`node ${this.node.nodeId}: UD port ${port} already in use`);
    const cq = asCq(opts.cq);
    const recvCq = opts.recvCq !== undefined ? asCq(opts.recvCq) : cq;
    const rq = new ReceiveQueue(this.node, this.world.params.postCostNs, opts.recvCapacity ?? 256, recvCq, null);
    const ud = new SimUd(this.world, this.node, { node: this.node.nodeId, port }, cq, rq);
    nic.udPorts.set(port, ud);
    return ud;
  }
}

function asCq(cq: CompletionQueue): SimCq {
  if (!(cq instanceof SimCq)) throw new Error('not a CQ of this simulator');
  return cq;
}
