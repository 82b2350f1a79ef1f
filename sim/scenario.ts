import { SchemaError, type Schema, type SchemaType, s } from '../src/kv/schema.js';
import { PROTOCOLS, protocolNames } from '../src/protocols/registry.js';
import { workloadSchema } from '../src/workload/config.js';
import type { ClusterParams } from './cluster.js';
import { DEFAULT_MEMORY_COSTS } from './memory.js';
import { type LatencyDist, NETWORK_100G, NETWORK_56G, type NetworkParams } from './network.js';
import { OPTANE_PRESET } from './pm-device.js';
import { SeededRng } from './rng.js';

/**
 * The scenario file: everything a run needs besides its seed. JSON (or YAML), validated against
 * this schema; every field has a default, so `{}` is a valid scenario (docs/scenarios.md is
 * generated from these definitions: `kvlab scenario-doc`).
 */

function nullable<T>(inner: Schema<T>, doc: string): Schema<T | null> {
  return s.custom<T | null>(`${inner.typeName} | null`, (v, path) => (v === null ? null : inner.parse(v, path)), { default: null, doc });
}

const latencySchema: Schema<LatencyDist> = s.tagged<LatencyDist>(
  {
    fixed: s.obj({ kind: s.oneOf(['fixed'] as const), ns: s.int({ min: 0, default: 1000 }) }),
    uniform: s.obj({ kind: s.oneOf(['uniform'] as const), minNs: s.int({ min: 0, default: 800 }), maxNs: s.int({ min: 0, default: 1200 }) }),
    normal: s.obj({ kind: s.oneOf(['normal'] as const), meanNs: s.int({ min: 0, default: 1000 }), sdNs: s.num({ min: 0, default: 60 }), minNs: s.int({ min: 0, default: 850 }) }),
    lognormal: s.obj({ kind: s.oneOf(['lognormal'] as const), medianNs: s.int({ min: 0, default: 1000 }), sigma: s.num({ min: 0, max: 5, default: 0.2 }), minNs: s.int({ min: 0, default: 800 }) }),
  },
  { doc: 'One-way latency distribution ("kind": fixed | uniform | normal | lognormal).' },
);

const nodeRef = s.custom<number | 'leader' | 'follower' | 'any'>(
  'integer | "leader" | "follower" | "any"',
  (v, path) => {
    if (v === 'leader' || v === 'follower' || v === 'any') return v;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    throw new SchemaError(path, `expected a server index, "leader", "follower" or "any", got ${JSON.stringify(v)}`);
  },
  { default: 'any', doc: 'A server: its index, or a role resolved when the fault fires ("leader"/"primary", "follower"/"backup", "any").' },
);

export type NodeRef = SchemaType<typeof nodeRef>;

const at = s.int({ min: 0, default: 1_000_000, doc: 'Virtual time (ns) at which the fault is injected.' });
const duration = s.int({ min: 1, default: 1_000_000, doc: 'How long the fault lasts (ns) before it heals.' });

const faultSchema = s.tagged<any>(
  {
    crash: s.obj({
      kind: s.oneOf(['crash'] as const),
      atNs: at,
      node: nodeRef,
      restartAfterNs: nullable(s.int({ min: 1 }), 'Restart the node this long after the crash (null: stays down).'),
    }),
    partition: s.obj({
      kind: s.oneOf(['partition'] as const),
      atNs: at,
      durationNs: duration,
      isolate: nodeRef,
      direction: s.oneOf(['both', 'inbound', 'outbound'] as const, { default: 'both', doc: 'Symmetric, or only packets to / from the isolated node (asymmetric).' }),
      includeClients: s.bool({ default: true, doc: 'Also cut the isolated node from client nodes.' }),
    }),
    'latency-spike': s.obj({
      kind: s.oneOf(['latency-spike'] as const),
      atNs: at,
      durationNs: duration,
      node: nodeRef,
      extraNs: s.int({ min: 0, default: 20_000, doc: 'Added one-way latency on every link to and from the node.' }),
    }),
    'nic-failure': s.obj({ kind: s.oneOf(['nic-failure'] as const), atNs: at, durationNs: duration, node: nodeRef }),
    'ud-loss': s.obj({ kind: s.oneOf(['ud-loss'] as const), atNs: at, durationNs: duration, rate: s.num({ min: 0, max: 1, default: 0.2 }) }),
  },
  { doc: 'A fault ("kind": crash | partition | latency-spike | nic-failure | ud-loss).' },
);

export const FAULT_KINDS = ['crash', 'partition', 'latency-spike', 'nic-failure', 'ud-loss'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type FaultSpec =
  | { kind: 'crash'; atNs: number; node: NodeRef; restartAfterNs: number | null }
  | { kind: 'partition'; atNs: number; durationNs: number; isolate: NodeRef; direction: 'both' | 'inbound' | 'outbound'; includeClients: boolean }
  | { kind: 'latency-spike'; atNs: number; durationNs: number; node: NodeRef; extraNs: number }
  | { kind: 'nic-failure'; atNs: number; durationNs: number; node: NodeRef }
  | { kind: 'ud-loss'; atNs: number; durationNs: number; rate: number };

export const scenarioSchema = s.obj({
  name: s.str({ default: 'unnamed', doc: 'Shown in reports.' }),
  description: s.str({ default: '', doc: 'What the scenario exercises.' }),
  seed: s.int({ min: 0, default: 1, doc: 'Seed used when the command line gives none.' }),
  protocol: s.obj({
    name: s.custom<string>(
      protocolNames().map((n) => JSON.stringify(n)).join(' | '),
      (v, path) => {
        if (typeof v !== 'string') throw new SchemaError(path, `expected a protocol name, got ${typeof v}`);
        if (!(v in PROTOCOLS)) throw new SchemaError(path, `unknown protocol ${JSON.stringify(v)} (known: ${protocolNames().join(', ')})`);
        return v;
      },
      { default: 'register', doc: 'Which protocol runs on the servers.' },
    ),
    options: s.custom<unknown>('object', (v) => v, { default: {}, doc: 'Protocol options (see the protocol docs); validated by the protocol.' }),
  }),
  cluster: s.obj({
    servers: s.int({ min: 1, max: 64, default: 3, doc: 'Server nodes (replicas).' }),
    serversChoices: s.array(s.int({ min: 1, max: 64 }), { default: [], doc: 'If not empty, each seed draws the number of servers from these (overrides servers), e.g. [3, 5].' }),
    clients: s.int({ min: 1, max: 64, default: 2, doc: 'Client nodes.' }),
    ddio: s.bool({ default: true, doc: 'NIC writes to PM land in the volatile CPU cache (DDIO on) or the persistence domain (off).' }),
    crashPolicy: s.oneOf(['tear', 'lose', 'keep'] as const, { default: 'tear', doc: 'Unpersisted PM words at a crash: each keeps old or new at random (tear), all old (lose), all new (keep).' }),
  }),
  network: s.obj({
    preset: s.oneOf(['56g', '100g'] as const, { default: '56g', doc: 'Base parameters: 56 or 100 Gbit/s InfiniBand-like fabric (≈1 µs one way).' }),
    latency: nullable(latencySchema, 'Override the preset one-way latency.'),
    links: s.custom<Record<string, LatencyDist>>(
      'object of "a->b": latency',
      (v, path) => {
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SchemaError(path, 'expected an object of "a->b": latency');
        const out: Record<string, LatencyDist> = {};
        for (const [k, d] of Object.entries(v as Record<string, unknown>)) {
          if (!/^\d+->\d+$/.test(k)) throw new SchemaError(`${path}.${k}`, 'link names look like "0->2"');
          out[k] = latencySchema.parse(d, `${path}.${k}`);
        }
        return out;
      },
      { default: {}, doc: 'Per-link latency overrides, e.g. {"0->2": {"kind": "fixed", "ns": 5000}}.' },
    ),
    bandwidthGbps: nullable(s.num({ min: 0.1, max: 10_000 }), 'Link bandwidth.'),
    nicMessagesPerUs: nullable(s.num({ min: 0.01, max: 10_000 }), 'NIC message-rate limit (messages started per µs).'),
    mtuBytes: nullable(s.int({ min: 256, max: 65536 }), 'UD MTU.'),
    placementChunkBytes: nullable(s.int({ min: 8, max: 65536 }), 'Granularity at which WRITE payloads land in remote memory.'),
    rcRetransmitNs: nullable(s.int({ min: 100 }), 'RC retransmission interval.'),
    rcRetryTimeoutNs: nullable(s.int({ min: 100 }), 'RC: fail a WR with retry-exceeded after this long without an ACK.'),
    rnrRetryNs: nullable(s.int({ min: 100 }), 'Receiver-not-ready retry interval.'),
    rnrRetries: nullable(s.int({ min: 0, max: 1000 }), 'Receiver-not-ready retries before rnr-retry-exceeded.'),
    udLossRate: nullable(s.num({ min: 0, max: 1 }), 'Baseline UD datagram loss probability.'),
  }),
  pm: s.obj({
    xplineBytes: s.int({ min: 64, max: 1920, default: OPTANE_PRESET.xplineBytes, doc: 'Media access granularity (Optane XPLine).' }),
    wcLinesPerDimm: s.int({ min: 1, max: 1 << 20, default: OPTANE_PRESET.wcLinesPerDimm, doc: 'Write-combining buffer capacity per DIMM, in XPLines.' }),
    dimms: s.int({ min: 1, max: 64, default: OPTANE_PRESET.dimms, doc: 'DIMMs per node, interleaved.' }),
    interleaveBytes: s.int({ min: 256, max: 1 << 24, default: OPTANE_PRESET.interleaveBytes, doc: 'Interleaving granularity across DIMMs.' }),
    mediaWriteBytesPerNs: s.num({ min: 0.01, max: 1000, default: OPTANE_PRESET.mediaWriteBytesPerNs, doc: 'Media write bandwidth per DIMM (1 B/ns = 1 GB/s).' }),
  }),
  memory: s.obj({
    dramAccessNs: s.int({ min: 0, default: DEFAULT_MEMORY_COSTS.dramAccessNs }),
    pmStoreNs: s.int({ min: 0, default: DEFAULT_MEMORY_COSTS.pmStoreNs }),
    atomicNs: s.int({ min: 0, default: DEFAULT_MEMORY_COSTS.atomicNs }),
    copyBytesPerNs: s.num({ min: 0.01, default: DEFAULT_MEMORY_COSTS.copyBytesPerNs }),
    persistBaseNs: s.int({ min: 0, default: DEFAULT_MEMORY_COSTS.persistBaseNs }),
    persistPerLineNs: s.int({ min: 0, default: DEFAULT_MEMORY_COSTS.persistPerLineNs }),
    jitterNs: s.int({ min: 0, default: DEFAULT_MEMORY_COSTS.jitterNs, doc: 'Seeded jitter on every memory operation: how seeds explore thread interleavings.' }),
  }),
  workload: workloadSchema,
  faults: s.obj({
    schedule: s.array(faultSchema, { default: [], doc: 'Faults at fixed times.' }),
    swarm: s.obj({
      enabled: s.bool({ default: false, doc: 'Draw faults from the seed (swarm testing): which kinds are on, how many, when, where.' }),
      kinds: s.array(s.oneOf(FAULT_KINDS), { default: [...FAULT_KINDS], doc: 'Kinds the seed may enable (each seed enables a random non-empty subset).' }),
      maxFaults: s.int({ min: 1, max: 1000, default: 6, doc: 'Upper bound on faults drawn per seed.' }),
      startNs: s.int({ min: 0, default: 200_000, doc: 'Faults start no earlier than this.' }),
      endNs: s.int({ min: 0, default: 3_000_000, doc: 'Every drawn fault is healed by this time (crashed nodes restarted).' }),
      maxDurationNs: s.int({ min: 1, default: 800_000, doc: 'Longest drawn partition / spike / NIC failure / crash downtime.' }),
    }),
  }),
  run: s.obj({
    settleNs: s.int({ min: 0, default: 2_000_000, doc: 'After the workload: time for the system to quiesce before final reads.' }),
    livenessBoundNs: s.int({ min: 1, default: 30_000_000, doc: 'After the last fault heals, every pending operation must complete within this bound.' }),
    maxVirtualNs: s.int({ min: 1, default: 2_000_000_000, doc: 'Hard stop of virtual time (a run that reaches it fails liveness).' }),
    finalReads: s.bool({ default: true, doc: 'Read every written key at the end (durability check).' }),
    load: s.bool({ default: false, doc: "Before the workload, the clients load the workload's initial keys (YCSB's load phase), split between them; the run phase starts when every client has finished loading." }),
  }),
  checks: s.obj({
    linearizability: s.bool({ default: true }),
    durability: s.bool({ default: true }),
    liveness: s.bool({ default: true }),
    invariants: s.bool({ default: true }),
  }),
});

export type Scenario = SchemaType<typeof scenarioSchema>;

/** Validates a parsed scenario object (throws SchemaError). Protocol options are validated too. */
export function parseScenario(raw: unknown): Scenario {
  const sc = scenarioSchema.parse(raw, '');
  const proto = PROTOCOLS[sc.protocol.name]!;
  if (sc.cluster.serversChoices.length > 0) sc.cluster.servers = Math.min(...sc.cluster.serversChoices);
  sc.protocol.options = proto.options.parse(sc.protocol.options, 'protocol.options');
  for (const [i, f] of (sc.faults.schedule as FaultSpec[]).entries()) {
    if (typeof (f as { node?: NodeRef }).node === 'number' && ((f as { node: number }).node as number) >= sc.cluster.servers) {
      throw new SchemaError(`faults.schedule[${i}].node`, `server ${(f as { node: number }).node} does not exist (cluster has ${sc.cluster.servers})`);
    }
    if (f.kind === 'partition' && typeof f.isolate === 'number' && f.isolate >= sc.cluster.servers) {
      throw new SchemaError(`faults.schedule[${i}].isolate`, `server ${f.isolate} does not exist (cluster has ${sc.cluster.servers})`);
    }
  }
  if (sc.faults.swarm.endNs < sc.faults.swarm.startNs) throw new SchemaError('faults.swarm.endNs', 'must be >= faults.swarm.startNs');
  return sc;
}

/**
 * The scenario as run with `seed`: with `cluster.serversChoices`, the number of servers is drawn
 * from its own random stream ("cluster/servers"), so no other stream shifts.
 */
export function scenarioForSeed(sc: Scenario, seed: number): Scenario {
  const choices = sc.cluster.serversChoices;
  if (choices.length === 0) return sc;
  const servers = new SeededRng(seed, 'cluster/servers').pick(choices);
  return { ...sc, cluster: { ...sc.cluster, servers } };
}

/** The simulator parameters a scenario describes. */
export function clusterParams(sc: Scenario): ClusterParams {
  const base: NetworkParams = sc.network.preset === '100g' ? NETWORK_100G : NETWORK_56G;
  const n = sc.network;
  const network: NetworkParams = {
    ...base,
    latency: n.latency ?? base.latency,
    links: n.links,
    bandwidthGbps: n.bandwidthGbps ?? base.bandwidthGbps,
    nicMessagesPerUs: n.nicMessagesPerUs ?? base.nicMessagesPerUs,
    mtuBytes: n.mtuBytes ?? base.mtuBytes,
    placementChunkBytes: n.placementChunkBytes ?? base.placementChunkBytes,
    rcRetransmitNs: n.rcRetransmitNs ?? base.rcRetransmitNs,
    rcRetryTimeoutNs: n.rcRetryTimeoutNs ?? base.rcRetryTimeoutNs,
    rnrRetryNs: n.rnrRetryNs ?? base.rnrRetryNs,
    rnrRetries: n.rnrRetries ?? base.rnrRetries,
    udLossRate: n.udLossRate ?? base.udLossRate,
  };
  return {
    servers: sc.cluster.servers,
    clients: sc.cluster.clients,
    network,
    pm: { ...sc.pm },
    memoryCosts: { ...sc.memory },
    ddio: sc.cluster.ddio,
    crashPolicy: sc.cluster.crashPolicy,
  };
}
