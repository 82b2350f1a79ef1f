import type { Sim } from '../kernel.js';
import type { SimMemory } from '../memory.js';
import type { Network } from '../network.js';
import type { SimNode } from '../node.js';
import { PayloadPool } from './payloads.js';
import type { SimListener, SimQp } from './rc.js';
import type { SimUd } from './ud.js';

/** Event codes of fabric events (hashed into the trace with the subject id). */
export const FEV = {
  ARRIVE: 20,
  CHUNK: 21,
  COMPLETE: 22,
  RETRY: 23,
  READ_RESP: 24,
  ACK: 25,
  UD_ARRIVE: 26,
  UD_DONE: 27,
  CONNECT: 28,
} as const;

export interface Registration {
  mem: SimMemory;
  access: number;
}

/** A node's NIC state for one boot: gone at a crash. */
export class NicState {
  readonly registrations = new Map<number, Registration>();
  readonly listeners = new Map<string, SimListener>();
  readonly udPorts = new Map<number, SimUd>();
  readonly qps: SimQp[] = [];
  private rkeyCounter = 0;
  nextEphemeralPort = 49152;

  constructor(
    readonly node: SimNode,
    readonly epoch: number,
  ) {}

  newRkey(): number {
    this.rkeyCounter++;
    // The boot count is part of the key, so a stale rkey from an earlier boot never matches.
    return (((this.node.bootCount & 0xff) << 24) | (this.rkeyCounter & 0xffffff)) >>> 0;
  }

  get current(): boolean {
    return this.node.epoch === this.epoch && this.node.alive;
  }
}

/** The fabric of the whole cluster: every node's NIC state, and the network between them. */
export class FabricWorld {
  readonly nics: NicState[] = [];
  private qpIds = 0;
  private udIds = 0;
  /** Payload buffers of posted and served work requests, recycled (payloads.ts). */
  readonly payloads = new PayloadPool();

  constructor(
    readonly sim: Sim,
    readonly net: Network,
    readonly nodes: readonly SimNode[],
  ) {
    for (const n of nodes) this.nics.push(new NicState(n, n.epoch));
  }

  get params() {
    return this.net.params;
  }

  nic(node: number): NicState {
    return this.nics[node]!;
  }

  newQpId(): number {
    return ++this.qpIds;
  }

  newUdId(): number {
    return ++this.udIds;
  }

  /** A crash or restart: the node's NIC state starts over; its QPs are dead. */
  resetNic(node: SimNode): void {
    const old = this.nics[node.nodeId]!;
    for (const qp of old.qps) qp.destroyLocal();
    this.nics[node.nodeId] = new NicState(node, node.epoch);
  }

  /** NIC failure: every QP of the node moves to error (pending WRs flushed); links are blocked by the network. */
  failNic(node: number): void {
    for (const qp of this.nics[node]!.qps) qp.fail('nic-failure');
  }

  /** Records a fabric event for the timeline (only when a recorder is attached). */
  rec(node: number, kind: string, fields: Record<string, string | number | boolean | null>): void {
    const r = this.sim.recorder;
    if (r !== null) r.record({ t: this.sim.now, node, kind, fields });
  }
}
