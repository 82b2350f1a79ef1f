import type { SeededRng } from './rng.js';

/**
 * The network and NIC timing model.
 *
 * A message from node a to node b: waits for a's transmit port (NIC message-rate limit and link
 * serialization at `bandwidthGbps`), flies for a one-way latency drawn per message from the link's
 * distribution (plus any active latency spike), then waits for b's receive port. Ports are FIFO, so
 * bursts queue. Partitions block directed links; a failed NIC blocks every link of its node.
 */

export type LatencyDist =
  | { kind: 'fixed'; ns: number }
  | { kind: 'uniform'; minNs: number; maxNs: number }
  | { kind: 'normal'; meanNs: number; sdNs: number; minNs: number }
  | { kind: 'lognormal'; medianNs: number; sigma: number; minNs: number };

export interface NetworkParams {
  /** One-way latency of every link unless `links` overrides it. */
  latency: LatencyDist;
  /** Per-link overrides: "a->b" → distribution. */
  links: Record<string, LatencyDist>;
  bandwidthGbps: number;
  /** Messages per microsecond a NIC can start (its message-rate limit), e.g. 60 = 60 Mops/s. */
  nicMessagesPerUs: number;
  mtuBytes: number;
  /** Granularity at which a WRITE's payload lands in remote memory over time. */
  placementChunkBytes: number;
  /** RC transport: retransmission interval and the time after which a WR fails with retry-exceeded. */
  rcRetransmitNs: number;
  rcRetryTimeoutNs: number;
  /** RC receiver-not-ready: retry interval and count before rnr-retry-exceeded. */
  rnrRetryNs: number;
  rnrRetries: number;
  /** Baseline UD loss probability (faults may raise it). */
  udLossRate: number;
  /** Connection establishment: CM processing on top of a round trip. */
  connectSetupNs: number;
  /** Cost of posting a work request (doorbell) and of polling a CQ, charged to the calling thread. */
  postCostNs: number;
  pollCostNs: number;
}

export const NETWORK_56G: NetworkParams = {
  latency: { kind: 'normal', meanNs: 1000, sdNs: 60, minNs: 850 },
  links: {},
  bandwidthGbps: 56,
  nicMessagesPerUs: 60,
  mtuBytes: 4096,
  placementChunkBytes: 64,
  rcRetransmitNs: 20_000,
  rcRetryTimeoutNs: 140_000,
  rnrRetryNs: 10_000,
  rnrRetries: 7,
  udLossRate: 0,
  connectSetupNs: 10_000,
  postCostNs: 40,
  pollCostNs: 20,
};

export const NETWORK_100G: NetworkParams = { ...NETWORK_56G, bandwidthGbps: 100, nicMessagesPerUs: 100 };

export interface Transmission {
  /** When the first byte leaves the sender's port. */
  departNs: number;
  /** When the first byte reaches the receiver's port (after receive-port queueing). */
  arriveNs: number;
  /** Time the payload takes on the wire at link rate. */
  serializeNs: number;
}

export class Network {
  private readonly blocked: Uint8Array;
  private readonly spikeNs: Float64Array;
  private readonly nicUp: Uint8Array;
  private readonly txFreeAt: Float64Array;
  private readonly rxFreeAt: Float64Array;
  private readonly linkDist: (LatencyDist | undefined)[];
  private readonly msgGapNs: number;
  /** Extra UD loss probability added by faults. */
  udLossExtra = 0;

  constructor(
    readonly params: NetworkParams,
    readonly nodeCount: number,
    private readonly rng: SeededRng,
  ) {
    const n = nodeCount;
    this.blocked = new Uint8Array(n * n);
    this.spikeNs = new Float64Array(n * n);
    this.nicUp = new Uint8Array(n).fill(1);
    this.txFreeAt = new Float64Array(n);
    this.rxFreeAt = new Float64Array(n);
    this.linkDist = new Array(n * n).fill(undefined);
    for (const [k, d] of Object.entries(params.links)) {
      const m = /^(\d+)->(\d+)$/.exec(k);
      if (m === null) throw new Error(`bad link name ${k}`);
      const a = Number(m[1]);
      const b = Number(m[2]);
      if (a < n && b < n) this.linkDist[a * n + b] = d;
    }
    this.msgGapNs = Math.max(1, Math.round(1000 / params.nicMessagesPerUs));
  }

  /** Can a packet from a reach b now (ignoring whether b's software is alive)? */
  canSend(a: number, b: number): boolean {
    return this.blocked[a * this.nodeCount + b] === 0 && this.nicUp[a] === 1 && this.nicUp[b] === 1;
  }

  setBlocked(a: number, b: number, blocked: boolean): void {
    this.blocked[a * this.nodeCount + b] = blocked ? 1 : 0;
  }

  isBlocked(a: number, b: number): boolean {
    return this.blocked[a * this.nodeCount + b] === 1;
  }

  setNicUp(node: number, up: boolean): void {
    this.nicUp[node] = up ? 1 : 0;
  }

  isNicUp(node: number): boolean {
    return this.nicUp[node] === 1;
  }

  addSpike(a: number, b: number, extraNs: number): void {
    this.spikeNs[a * this.nodeCount + b] += extraNs;
  }

  serializeNs(bytes: number): number {
    return Math.ceil((bytes * 8) / this.params.bandwidthGbps);
  }

  /** One-way flight time a→b drawn for one message (deterministic given the seed). */
  flightNs(a: number, b: number): number {
    const d = this.linkDist[a * this.nodeCount + b] ?? this.params.latency;
    return Math.round(sample(d, this.rng) + this.spikeNs[a * this.nodeCount + b]!);
  }

  /** Reused by `transmit` (one per message would be garbage on the hottest path). */
  private readonly tx: Transmission = { departNs: 0, arriveNs: 0, serializeNs: 0 };

  /**
   * Schedules a message of `bytes` from a to b, occupying both NIC ports. The result is a shared
   * scratch object: read it before the next call.
   */
  transmit(a: number, b: number, bytes: number, nowNs: number): Readonly<Transmission> {
    const ser = this.serializeNs(bytes);
    const occupy = this.msgGapNs > ser ? this.msgGapNs : ser;
    const txFree = this.txFreeAt[a]!;
    const depart = nowNs > txFree ? nowNs : txFree;
    this.txFreeAt[a] = depart + occupy;
    const reach = depart + this.flightNs(a, b);
    const rxFree = this.rxFreeAt[b]!;
    const arrive = reach > rxFree ? reach : rxFree;
    this.rxFreeAt[b] = arrive + occupy;
    const tx = this.tx;
    tx.departNs = depart;
    tx.arriveNs = arrive;
    tx.serializeNs = ser;
    return tx;
  }

  /**
   * A message from a that never reaches b (blocked link, lost datagram): it occupies a's transmit
   * port only. Returns when it leaves and its serialization time.
   */
  transmitLost(a: number, bytes: number, nowNs: number): { departNs: number; serializeNs: number } {
    const ser = this.serializeNs(bytes);
    const depart = Math.max(nowNs, this.txFreeAt[a]!);
    this.txFreeAt[a] = depart + Math.max(this.msgGapNs, ser);
    return { departNs: depart, serializeNs: ser };
  }

  /** A small control message (ACK, NAK, read request) a→b: flight only, no port occupancy. */
  controlNs(a: number, b: number): number {
    return this.flightNs(a, b);
  }

  udLossRate(): number {
    return Math.min(1, this.params.udLossRate + this.udLossExtra);
  }

  drawUdLoss(): boolean {
    return this.rng.chance(this.udLossRate());
  }
}

export function sample(d: LatencyDist, rng: SeededRng): number {
  switch (d.kind) {
    case 'fixed':
      return d.ns;
    case 'uniform':
      return d.minNs + rng.next() * (d.maxNs - d.minNs);
    case 'normal':
      return Math.max(d.minNs, d.meanNs + rng.normal() * d.sdNs);
    case 'lognormal':
      return Math.max(d.minNs, d.medianNs * Math.exp(rng.normal() * d.sigma));
  }
}
