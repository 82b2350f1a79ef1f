import type { ClusterInfo, Platform } from '../src/platform/index.js';
import { SimFabric } from './fabric/sim-fabric.js';
import { FabricWorld } from './fabric/world.js';
import { Sim } from './kernel.js';
import type { CrashPolicy, MemoryCosts } from './memory.js';
import { Network, type NetworkParams } from './network.js';
import { SimNode, SimRuntime } from './node.js';
import { PmDevice, type PmDeviceParams } from './pm-device.js';

export interface ClusterParams {
  servers: number;
  clients: number;
  network: NetworkParams;
  pm: PmDeviceParams;
  memoryCosts: MemoryCosts;
  /** NIC writes to PM land in the volatile cache (true) or the persistence domain (false). */
  ddio: boolean;
  crashPolicy: CrashPolicy;
}

/**
 * A simulated cluster: servers 0..S-1, clients S..S+C-1, each a SimNode with its own PM device,
 * on one Network. The fault operations here are what the fault injector and tests call.
 */
export class SimCluster {
  readonly sim: Sim;
  readonly net: Network;
  readonly nodes: SimNode[] = [];
  readonly world: FabricWorld;
  readonly info: ClusterInfo;
  /** Called at every (re)boot of a node with its fresh platform. */
  onBoot: ((node: SimNode, platform: Platform) => void) | null = null;

  constructor(
    readonly params: ClusterParams,
    seed: number,
    sim?: Sim,
  ) {
    this.sim = sim ?? new Sim(seed);
    const n = params.servers + params.clients;
    this.net = new Network(params.network, n, this.sim.rng('network'));
    for (let i = 0; i < n; i++) {
      this.nodes.push(new SimNode(this.sim, i, params.memoryCosts, new PmDevice(params.pm), params.ddio));
    }
    this.world = new FabricWorld(this.sim, this.net, this.nodes);
    const servers: number[] = [];
    const clients: number[] = [];
    for (let i = 0; i < n; i++) (i < params.servers ? servers : clients).push(i);
    this.info = { servers, clients };
  }

  platformOf(node: SimNode): Platform {
    return { rt: new SimRuntime(node), fabric: new SimFabric(this.world, node), memory: node.memory };
  }

  /** Boots every node (time 0). */
  bootAll(): void {
    for (const n of this.nodes) this.boot(n);
  }

  private boot(node: SimNode): void {
    const p = this.platformOf(node);
    node.platform = p;
    this.sim.note(node.nodeId, 'node.boot', { boot: node.bootCount });
    this.onBoot?.(node, p);
  }

  crash(nodeId: number): void {
    const node = this.nodes[nodeId]!;
    if (!node.alive) return;
    this.sim.note(nodeId, 'fault.crash', { boot: node.bootCount });
    node.crash(this.params.crashPolicy);
    this.world.resetNic(node);
  }

  restart(nodeId: number): void {
    const node = this.nodes[nodeId]!;
    if (node.alive) return;
    node.restart();
    this.world.resetNic(node);
    this.sim.note(nodeId, 'fault.restart', { boot: node.bootCount });
    this.boot(node);
  }

  setNic(nodeId: number, up: boolean): void {
    if (this.net.isNicUp(nodeId) === up) return;
    this.sim.note(nodeId, up ? 'fault.nic-up' : 'fault.nic-down');
    this.net.setNicUp(nodeId, up);
    if (!up) this.world.failNic(nodeId);
  }

  /** Blocks (or unblocks) the directed link a→b. */
  setLink(a: number, b: number, blocked: boolean): void {
    if (this.net.isBlocked(a, b) === blocked) return;
    this.sim.note(a, blocked ? 'fault.link-down' : 'fault.link-up', { to: b });
    this.net.setBlocked(a, b, blocked);
  }

  /** Nodes that are up, with a working NIC. */
  upNodes(): number[] {
    return this.nodes.filter((n) => n.alive && this.net.isNicUp(n.nodeId)).map((n) => n.nodeId);
  }
}
