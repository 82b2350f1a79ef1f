import { Future, idle, type Platform, type Rng, type Runtime, type SpawnOptions, type Task, type ThreadHandle, type TraceValue } from '../src/platform/index.js';
import { type Core, EV, type Sim, SimThread, type ThreadOwner } from './kernel.js';
import { type CrashPolicy, type MemoryCosts, type MemoryEnv, SimMemoryProvider } from './memory.js';
import { Pause } from './op.js';
import type { PmDevice } from './pm-device.js';
import { SeededRng } from './rng.js';

/**
 * A simulated machine: threads, memory (DRAM + PM on its own PM device) and a NIC. A crash kills
 * every thread (their epoch ends), drops DRAM, tears unpersisted PM words and destroys NIC state;
 * a restart boots a new incarnation that the harness hands to the protocol again.
 */
export class SimNode implements ThreadOwner, MemoryEnv {
  epoch = 0;
  bootCount = 0;
  alive = true;
  /** When the node last crashed. */
  crashedAtNs = -1;
  /** crashTimes[e]: when epoch e ended in a crash (NIC transfers of that boot stop there). */
  private readonly crashTimes: number[] = [];
  readonly memory: SimMemoryProvider;
  readonly rng: SeededRng;
  /** Set by the cluster: the platform of the current boot. */
  platform: Platform | null = null;

  constructor(
    readonly sim: Sim,
    readonly nodeId: number,
    readonly costs: MemoryCosts,
    readonly device: PmDevice,
    readonly ddio: boolean,
  ) {
    this.rng = sim.rng(`node${nodeId}/sched`);
    this.memory = new SimMemoryProvider(this);
  }

  now(): number {
    return this.sim.now;
  }

  /** Kills the node: threads stop at once, DRAM is gone, unpersisted PM words tear by `policy`. */
  crash(policy: CrashPolicy): void {
    if (!this.alive) return;
    this.alive = false;
    this.crashTimes[this.epoch] = this.sim.now;
    this.epoch++;
    this.crashedAtNs = this.sim.now;
    this.cores = new Map();
    this.memory.crash(policy, this.sim.rng(`node${this.nodeId}/crash${this.bootCount}`));
  }

  /**
   * When boot epoch `epoch` ended in a crash, or -1 if it has not. A transfer started by that boot
   * stops at this time, even if the node has restarted (and crashed again) since.
   */
  crashTimeOfEpoch(epoch: number): number {
    return this.crashTimes[epoch] ?? -1;
  }

  /** Starts a new incarnation. */
  restart(): void {
    if (this.alive) return;
    this.alive = true;
    this.bootCount++;
  }

  /** Cores of the current boot, by index (created on first use; gone at a crash). */
  private cores = new Map<number, Core>();

  spawn(name: string, body: () => Task<void>, opts?: SpawnOptions): SimThread {
    let core: Core | null = null;
    if (opts?.core !== undefined) {
      if (!(Number.isInteger(opts.core) && opts.core >= 0)) throw new Error(`spawn ${name}: core must be a non-negative integer, got ${opts.core}`);
      core = this.cores.get(opts.core) ?? null;
      if (core === null) {
        core = { freeAtNs: 0 };
        this.cores.set(opts.core, core);
      }
    }
    const t = new SimThread(this.sim, this, name, body(), core);
    if (this.alive) t.start();
    return t;
  }
}

/** The Runtime of one boot of a node. */
export class SimRuntime implements Runtime {
  /** Streams of this boot by purpose: asking again for a purpose continues the same stream. */
  private readonly streams = new Map<string, Rng>();

  constructor(private readonly node: SimNode) {}

  get nodeId(): number {
    return this.node.nodeId;
  }

  get bootCount(): number {
    return this.node.bootCount;
  }

  now(): number {
    return this.node.sim.now;
  }

  sleep(ns: number): Task<void> {
    return new Pause(idle(ns));
  }

  compute(ns: number): Task<void> {
    return new Pause(Math.max(0, Math.round(ns)));
  }

  yield(): Task<void> {
    return new Pause(0);
  }

  timer(ns: number): Future<void> {
    const f = new Future<void>();
    const node = this.node;
    const epoch = node.epoch;
    node.sim.after(Math.max(0, Math.round(ns)), EV.TIMER, node.nodeId, () => {
      if (node.epoch === epoch) f.resolve();
    });
    return f;
  }

  spawn(name: string, body: () => Task<void>, opts?: SpawnOptions): ThreadHandle {
    return this.node.spawn(name, body, opts);
  }

  rng(purpose: string): Rng {
    let r = this.streams.get(purpose);
    if (r === undefined) {
      r = this.node.sim.rng(`node${this.node.nodeId}/boot${this.node.bootCount}/${purpose}`);
      this.streams.set(purpose, r);
    }
    return r;
  }

  trace(kind: string, fields?: Record<string, TraceValue>): void {
    this.node.sim.note(this.node.nodeId, kind, fields);
  }
}
