import type { SimCluster } from './cluster.js';
import { EV_FAULT } from './event-kinds.js';
import type { SeededRng } from './rng.js';
import type { FaultKind, FaultSpec, NodeRef, Scenario } from './scenario.js';


/** A fault that happened, for reports and history timelines. */
export interface FaultRecord {
  atNs: number;
  text: string;
}

/**
 * The fault injector: turns a scenario's fault schedule (and, in swarm mode, faults drawn from the
 * seed) into timed actions on the cluster. Overlapping faults compose: a link is blocked while any
 * fault blocks it, a NIC is down while any fault holds it down.
 */
export class FaultInjector {
  readonly log: FaultRecord[] = [];
  /** When the last fault heals (ns); 0 if there are none. Permanent crashes count at their crash time. */
  lastHealNs = 0;
  private readonly linkBlocks: Int32Array;
  private readonly nicDowns: Int32Array;
  private readonly rng: SeededRng;

  constructor(
    private readonly cluster: SimCluster,
    /** The role of a server right now (from the protocol), for "leader"/"follower" targets. */
    private readonly roleOf: (node: number) => string,
  ) {
    const n = cluster.nodes.length;
    this.linkBlocks = new Int32Array(n * n);
    this.nicDowns = new Int32Array(n);
    this.rng = cluster.sim.rng('faults/targets');
  }

  /** Draws a swarm schedule from the seed: a random non-empty subset of kinds, then the faults. */
  static drawSwarm(sc: Scenario, rng: SeededRng): { kinds: FaultKind[]; faults: FaultSpec[] } {
    const w = sc.faults.swarm;
    let kinds = w.kinds.filter(() => rng.chance(0.5));
    if (kinds.length === 0) kinds = [rng.pick(w.kinds)];
    const count = 1 + rng.int(w.maxFaults);
    const faults: FaultSpec[] = [];
    const span = Math.max(1, w.endNs - w.startNs);
    for (let i = 0; i < count; i++) {
      const kind = rng.pick(kinds);
      const dur = Math.max(1, Math.min(span, Math.round(w.maxDurationNs * (0.1 + 0.9 * rng.next()))));
      const atNs = w.startNs + rng.int(Math.max(1, span - dur));
      const node: NodeRef = rng.pick(['leader', 'follower', 'any'] as const);
      switch (kind) {
        case 'crash':
          faults.push({ kind, atNs, node, restartAfterNs: dur });
          break;
        case 'partition':
          faults.push({ kind, atNs, durationNs: dur, isolate: node, direction: rng.pick(['both', 'both', 'inbound', 'outbound'] as const), includeClients: rng.chance(0.5) });
          break;
        case 'latency-spike':
          faults.push({ kind, atNs, durationNs: dur, node, extraNs: 2_000 + rng.int(100_000) });
          break;
        case 'nic-failure':
          faults.push({ kind, atNs, durationNs: dur, node });
          break;
        case 'ud-loss':
          faults.push({ kind, atNs, durationNs: dur, rate: 0.05 + 0.45 * rng.next() });
          break;
      }
    }
    faults.sort((a, b) => a.atNs - b.atNs);
    return { kinds, faults };
  }

  /** Schedules every fault of the list. */
  schedule(faults: readonly FaultSpec[]): void {
    for (const f of faults) {
      const heal = healTime(f);
      if (heal > this.lastHealNs) this.lastHealNs = heal;
      this.cluster.sim.schedule(f.atNs, EV_FAULT, 0, (spec: FaultSpec) => this.fire(spec), f);
    }
  }

  private resolve(ref: NodeRef): number | null {
    const servers = this.cluster.info.servers;
    const alive = servers.filter((n) => this.cluster.nodes[n]!.alive);
    if (typeof ref === 'number') return ref;
    if (alive.length === 0) return null;
    if (ref === 'leader') {
      const l = alive.find((n) => isLeaderRole(this.roleOf(n)));
      return l ?? this.rng.pick(alive);
    }
    if (ref === 'follower') {
      const fs = alive.filter((n) => !isLeaderRole(this.roleOf(n)));
      return this.rng.pick(fs.length > 0 ? fs : alive);
    }
    return this.rng.pick(alive);
  }

  private record(text: string): void {
    this.log.push({ atNs: this.cluster.sim.now, text });
  }

  private fire(f: FaultSpec): void {
    const c = this.cluster;
    const sim = c.sim;
    switch (f.kind) {
      case 'crash': {
        const n = this.resolve(f.node);
        if (n === null || !c.nodes[n]!.alive) {
          this.record(`crash of ${String(f.node)} skipped (no live target)`);
          return;
        }
        this.record(`crash node ${n} (${this.roleOf(n)})`);
        c.crash(n);
        if (f.restartAfterNs !== null) {
          sim.schedule(sim.now + f.restartAfterNs, EV_FAULT, n, () => {
            this.record(`restart node ${n}`);
            c.restart(n);
          });
        }
        return;
      }
      case 'partition': {
        const n = this.resolve(f.isolate);
        if (n === null) return;
        const others = c.nodes.map((x) => x.nodeId).filter((x) => x !== n && (f.includeClients || c.info.servers.includes(x)));
        const links: [number, number][] = [];
        for (const o of others) {
          if (f.direction !== 'inbound') links.push([n, o]);
          if (f.direction !== 'outbound') links.push([o, n]);
        }
        this.record(`partition: isolate node ${n} (${f.direction}${f.includeClients ? ', clients too' : ''}) for ${f.durationNs} ns`);
        for (const [a, b] of links) this.block(a, b, +1);
        sim.schedule(sim.now + f.durationNs, EV_FAULT, n, () => {
          this.record(`heal partition of node ${n}`);
          for (const [a, b] of links) this.block(a, b, -1);
        });
        return;
      }
      case 'latency-spike': {
        const n = this.resolve(f.node);
        if (n === null) return;
        this.record(`latency spike +${f.extraNs} ns on node ${n} for ${f.durationNs} ns`);
        sim.note(n, 'fault.latency-spike', { extraNs: f.extraNs });
        const pairs = c.nodes.map((x) => x.nodeId).filter((x) => x !== n);
        for (const o of pairs) {
          c.net.addSpike(n, o, f.extraNs);
          c.net.addSpike(o, n, f.extraNs);
        }
        sim.schedule(sim.now + f.durationNs, EV_FAULT, n, () => {
          this.record(`latency spike on node ${n} ends`);
          sim.note(n, 'fault.latency-spike-end');
          for (const o of pairs) {
            c.net.addSpike(n, o, -f.extraNs);
            c.net.addSpike(o, n, -f.extraNs);
          }
        });
        return;
      }
      case 'nic-failure': {
        const n = this.resolve(f.node);
        if (n === null) return;
        this.record(`NIC failure on node ${n} for ${f.durationNs} ns`);
        this.nic(n, +1);
        sim.schedule(sim.now + f.durationNs, EV_FAULT, n, () => {
          this.record(`NIC of node ${n} back`);
          this.nic(n, -1);
        });
        return;
      }
      case 'ud-loss': {
        this.record(`UD loss +${f.rate.toFixed(3)} for ${f.durationNs} ns`);
        sim.note(-1, 'fault.ud-loss', { rate: String(f.rate) });
        c.net.udLossExtra += f.rate;
        sim.schedule(sim.now + f.durationNs, EV_FAULT, 0, () => {
          this.record('UD loss ends');
          sim.note(-1, 'fault.ud-loss-end');
          c.net.udLossExtra = Math.max(0, c.net.udLossExtra - f.rate);
        });
        return;
      }
    }
  }

  private block(a: number, b: number, delta: number): void {
    const i = a * this.cluster.nodes.length + b;
    this.linkBlocks[i] = this.linkBlocks[i]! + delta;
    this.cluster.setLink(a, b, this.linkBlocks[i]! > 0);
  }

  private nic(n: number, delta: number): void {
    this.nicDowns[n] = this.nicDowns[n]! + delta;
    this.cluster.setNic(n, this.nicDowns[n]! === 0);
  }
}

export function isLeaderRole(role: string): boolean {
  return role === 'leader' || role === 'primary';
}

function healTime(f: FaultSpec): number {
  if (f.kind === 'crash') return f.atNs + (f.restartAfterNs ?? 0);
  return f.atNs + f.durationNs;
}
