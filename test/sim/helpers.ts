import { Access, type Platform, type Task } from '../../src/platform/index.js';
import { type ClusterParams, SimCluster } from '../../sim/cluster.js';
import { EV } from '../../sim/kernel.js';
import { type CrashPolicy, DEFAULT_MEMORY_COSTS, type MemoryCosts, SimMemory } from '../../sim/memory.js';
import { type LatencyDist, NETWORK_100G, type NetworkParams } from '../../sim/network.js';
import { OPTANE_PRESET, type PmDeviceParams } from '../../sim/pm-device.js';

export { Access };

export interface ClusterOpts {
  seed?: number;
  servers?: number;
  clients?: number;
  network?: Partial<NetworkParams>;
  pm?: Partial<PmDeviceParams>;
  memoryCosts?: Partial<MemoryCosts>;
  ddio?: boolean;
  crashPolicy?: CrashPolicy;
}

/** A booted cluster (no protocol): tests spawn threads on `plat(i)`. */
export function makeCluster(o: ClusterOpts = {}): SimCluster {
  const params: ClusterParams = {
    servers: o.servers ?? 2,
    clients: o.clients ?? 0,
    network: { ...NETWORK_100G, ...(o.network ?? {}) },
    pm: { ...OPTANE_PRESET, ...(o.pm ?? {}) },
    memoryCosts: { ...DEFAULT_MEMORY_COSTS, ...(o.memoryCosts ?? {}) },
    ddio: o.ddio ?? true,
    crashPolicy: o.crashPolicy ?? 'tear',
  };
  const c = new SimCluster(params, o.seed ?? 1);
  c.bootAll();
  return c;
}

export function plat(c: SimCluster, node: number): Platform {
  const p = c.nodes[node]!.platform;
  if (p === null) throw new Error(`node ${node} has no platform`);
  return p;
}

export function spawn(c: SimCluster, node: number, name: string, body: () => Task<void>): void {
  plat(c, node).rt.spawn(name, body);
}

/** Runs `fn` at virtual time `t` (a fault, a check). */
export function at(c: SimCluster, t: number, fn: () => void): void {
  c.sim.schedule(t, EV.CALL, 0, fn);
}

/** Runs the simulation and fails the test if it stopped on a violation (a thread threw, an event panicked). */
export function runOk(c: SimCluster, untilNs?: number): void {
  c.sim.run(untilNs);
  const v = c.sim.violation;
  if (v !== null) throw new Error(`simulation violation (${v.kind}) at ${v.t}: ${v.message}`);
}

export function mem(m: unknown): SimMemory {
  if (!(m instanceof SimMemory)) throw new Error('not a SimMemory');
  return m;
}

/** Payload whose every byte is a function of (tag, index): lets a test attribute landed bytes. */
export function pattern(tag: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (tag * 131 + i * 7 + 1) & 0xff;
  return b;
}

export function word(v: number): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, v >>> 0, true);
  dv.setUint32(4, Math.floor(v / 4294967296), true);
  return b;
}

export function readWord(b: Uint8Array, at: number): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 4294967296;
}

export const FIXED_1US: LatencyDist = { kind: 'fixed', ns: 1000 };

export interface NicWriteRecord {
  mem: SimMemory;
  offset: number;
  length: number;
  t: number;
  seq: number;
}

/**
 * Instruments a memory region's NIC writes (test-only wrapper around the instance method):
 * every DMA placement is logged with its virtual time and a global sequence number.
 */
export function recordNicWrites(m: SimMemory, log: NicWriteRecord[], now: () => number): void {
  const orig = m.nicWrite.bind(m);
  m.nicWrite = (offset: number, bytes: Uint8Array, nowNs: number): number => {
    log.push({ mem: m, offset, length: bytes.length, t: now(), seq: log.length });
    return orig(offset, bytes, nowNs);
  };
}

/** Asserts every scheduled event time and the clock stay integral (checked at the end of a run). */
export function assertIntegerTime(c: SimCluster): void {
  if (!Number.isInteger(c.sim.now)) throw new Error(`virtual time is not an integer: ${c.sim.now}`);
}

/**
 * Watches every event the kernel schedules: records times that are not integers or lie in the past
 * (test-only wrapper around the instance method). Returns the list of problems found so far.
 */
export function watchSchedule(c: SimCluster): string[] {
  const problems: string[] = [];
  const sim = c.sim;
  const orig = sim.schedule.bind(sim);
  sim.schedule = (t, code, id, fn, arg) => {
    if (!Number.isInteger(t)) problems.push(`event ${code}/${id} at non-integer time ${t} (now ${sim.now})`);
    if (!Number.isInteger(sim.now)) problems.push(`clock at non-integer time ${sim.now}`);
    if (t < sim.now) problems.push(`event ${code}/${id} scheduled in the past: ${t} < ${sim.now}`);
    orig(t, code, id, fn, arg);
  };
  return problems;
}

export interface Pair {
  qp: import('../../src/platform/index.js').QueuePair;
  cq: import('../../src/platform/index.js').CompletionQueue;
  peerQp: import('../../src/platform/index.js').QueuePair;
  peerCq: import('../../src/platform/index.js').CompletionQueue;
}

/**
 * Connects node a to node b (which listens on a fresh service) from inside a thread on a.
 * `b`'s side gets its own CQ (`peerCq`) and, unless `srq` is given, its own receive queue.
 */
export function* connectPair(
  c: SimCluster,
  a: number,
  b: number,
  o: {
    cqCapacity?: number;
    overrunIgnoring?: boolean;
    peerCqCapacity?: number;
    peerOverrunIgnoring?: boolean;
    srq?: import('../../src/platform/index.js').SharedReceiveQueue;
    peerCq?: import('../../src/platform/index.js').CompletionQueue;
    service?: string;
    /** Return null (typed as a Pair) instead of throwing when the connection fails. */
    allowFail?: boolean;
  } = {},
): Task<Pair> {
  const pa = plat(c, a);
  const pb = plat(c, b);
  const service = o.service ?? `svc-${a}-${b}-${pairCounter++}`;
  const peerCq = o.peerCq ?? pb.fabric.createCq({ capacity: o.peerCqCapacity ?? 1024, overrunIgnoring: o.peerOverrunIgnoring ?? false });
  const listener = pb.fabric.listen(service, { cq: peerCq, ...(o.srq !== undefined ? { srq: o.srq } : {}) });
  const cq = pa.fabric.createCq({ capacity: o.cqCapacity ?? 1024, overrunIgnoring: o.overrunIgnoring ?? false });
  const conn = yield* pa.fabric.connect(b, service, { cq });
  if (conn === null) {
    if (o.allowFail === true) return null as unknown as Pair;
    throw new Error(`connect ${a}->${b} failed`);
  }
  const peerQp = yield* listener.accept(0);
  if (peerQp === null) throw new Error('no passive QP');
  return { qp: conn.qp, cq, peerQp, peerCq };
}

/** connectPair, or null when the peer cannot be reached (crashed, no listener). */
export function* tryConnectPair(c: SimCluster, a: number, b: number): Task<Pair | null> {
  return yield* connectPair(c, a, b, { allowFail: true });
}
let pairCounter = 0;

/** Polls `cq` until `n` completions have arrived or `timeoutNs` of silence passes. */
export function* collect(cq: import('../../src/platform/index.js').CompletionQueue, n: number, timeoutNs = 10_000_000): Task<import('../../src/platform/index.js').Completion[]> {
  const out: import('../../src/platform/index.js').Completion[] = [];
  while (out.length < n) {
    const x = yield* cq.next(timeoutNs);
    if (x === null) break;
    out.push(x);
  }
  return out;
}

/** Property-test run counts, scaled by KVLAB_PROP_SCALE (e.g. 10 for a long soak). */
export function runs(n: number): number {
  const s = Number(process.env['KVLAB_PROP_SCALE'] ?? '1');
  return Math.max(1, Math.round(n * (Number.isFinite(s) && s > 0 ? s : 1)));
}
