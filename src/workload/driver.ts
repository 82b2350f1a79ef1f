import type { HistoryEvent, OpFn } from '../check/history.js';
import { Future, type Rng, type Runtime, type Task, firstOf, wait } from '../platform/index.js';
import type { KvClient, OpResult } from '../protocols/protocol.js';
import type { WorkloadConfig } from './config.js';
import { type ClientCapabilities, type Op, OpGenerator } from './generator.js';
import type { KeySpace } from './keyspace.js';
import type { OpKind, Outcome, WorkloadStats } from './stats.js';

/**
 * The client driver: runs one client's share of a workload against a KvClient and records every
 * checkable operation in the history, in the DESIGN.md format.
 *
 *  - closed loop: one operation at a time, `thinkTimeNs` between them;
 *  - open loop: Poisson arrivals at `arrivalRatePerSec`, each run on its own thread (p.rt.spawn),
 *    at most `maxOutstanding` in flight; arrivals finding every slot busy are dropped and counted.
 *
 * History mapping: read/get → get; update/insert → put; read-modify-write → get, then put of the
 * same key if the get succeeded; append, cas as such; scans are not recorded (no checker models
 * them) but counted in the stats. Jepsen semantics: each in-flight slot is one process; after an
 * `info` completion its process id is retired for good (that operation may still take effect at
 * any later time) and the slot continues under a fresh id from `processIds`.
 *
 * Runs as a coroutine on the backend (`yield*` only; randomness from `p.rt.rng`, time from
 * `p.rt.now()`), so the simulator replays it exactly.
 */

export interface HistorySink {
  invoke(e: HistoryEvent): void;
  complete(e: HistoryEvent): void;
}

/** Hands out process ids; one allocator per run, shared by all clients (ids are never reused). */
export interface ProcessIdSource {
  next(): number;
}

/** The simplest ProcessIdSource: 0, 1, 2, … */
export class ProcessIds implements ProcessIdSource {
  private n: number;

  constructor(first = 0) {
    this.n = first;
  }

  next(): number {
    return this.n++;
  }

  /** Ids handed out so far. */
  get issued(): number {
    return this.n;
  }
}

/** Raw per-client record for callers that want every latency (ok and fail ops, after warm-up). */
export interface ClientRunStats {
  latenciesNs: number[];
  /** Operations completed (all outcomes, warm-up included). */
  ops: number;
}

export interface RunClientOptions {
  /** Unique in the run: names the client's rng streams and goes into every value it writes. */
  clientId: number;
  processIds: ProcessIdSource;
  sink: HistorySink;
  /** Histogram statistics (per op type, p50/p99/p99.9, throughput); merge clients' with `merge`. */
  workloadStats?: WorkloadStats;
  /** Raw latencies. */
  stats?: ClientRunStats;
  /**
   * Decides whether to issue another operation, given how many were issued so far (open loop:
   * arrivals). When given it *replaces* the config's opsPerClient and durationNs limits.
   */
  keepGoing?: (opsIssued: number) => boolean;
  /** An extra stop condition, checked before every operation (e.g. the harness ending the run). */
  stop?: () => boolean;
  /** A key space shared by every client of the run (YCSB's global insert counter). */
  keySpace?: KeySpace;
  /** Clients in the whole run (expected inserts for the zipfian key space; default insert partition). */
  totalClients?: number;
  /**
   * A fresh client instance for slot `slot` (≥ 1). A KvClient serves one thread at a time, so the
   * open loop needs one per in-flight slot; the driver also replaces a slot's client after
   * abandoning a timed-out operation on it. Without it every slot shares `client`, and a slot whose
   * op timed out waits for that op to finish before reusing the client.
   */
  newClient?: (slot: number) => KvClient;
  /** Shard of a key name for distribution "hotshard" (e.g. the protocol's placement). */
  shardOfKey?: (key: string, shards: number) => number;
}

/** The optional methods a client has. */
export function clientCapabilities(c: KvClient): ClientCapabilities {
  return { append: typeof c.append === 'function', cas: typeof c.cas === 'function', scan: typeof c.scan === 'function' };
}

interface Slot {
  readonly index: number;
  client: KvClient;
  process: number;
  busy: boolean;
  /** A timed-out operation still running on `client` (only when there is no `newClient`). */
  abandoned: Future<void> | null;
}

/** An exponential deviate with the given mean (inversion; 1 − u ∈ (0, 1]). */
function exponential(rng: Rng, mean: number): number {
  return -Math.log(1 - rng.next()) * mean;
}

export function* runClient(p: { readonly rt: Runtime }, client: KvClient, cfg: WorkloadConfig, opts: RunClientOptions): Task<void> {
  const rt = p.rt;
  const prefix = `workload/c${opts.clientId}`;
  const gen = new OpGenerator(cfg, {
    clientId: opts.clientId,
    rng: (purpose) => rt.rng(`${prefix}/${purpose}`),
    ...(opts.keySpace === undefined ? {} : { keySpace: opts.keySpace }),
    ...(opts.totalClients === undefined ? {} : { totalClients: opts.totalClients }),
    ...(opts.shardOfKey === undefined ? {} : { shardOfKey: opts.shardOfKey }),
    capabilities: clientCapabilities(client),
  });
  const ws = opts.workloadStats;
  for (const op of gen.disabledOps) ws?.disable(op);
  const sink = opts.sink;
  const ids = opts.processIds;
  const startNs = rt.now();
  const warmupEndNs = startNs + cfg.warmupNs;
  const timeoutNs = cfg.opTimeoutNs;

  const shouldContinue = (issued: number): boolean => {
    if (opts.stop !== undefined && opts.stop()) return false;
    if (opts.keepGoing !== undefined) return opts.keepGoing(issued);
    if (cfg.opsPerClient > 0 && issued >= cfg.opsPerClient) return false;
    if (cfg.durationNs > 0 && rt.now() - startNs >= cfg.durationNs) return false;
    return true;
  };

  /** Runs `body` on the slot's client, giving up after opTimeoutNs (→ info) when set. */
  function* call<T>(slot: Slot, body: (c: KvClient) => Task<OpResult<T>>): Task<OpResult<T>> {
    const c = slot.client;
    if (timeoutNs === 0) return yield* body(c);
    const done = new Future<OpResult<T>>();
    const handle = rt.spawn(`${prefix}/s${slot.index}/op`, function* (): Task<void> {
      done.resolve(yield* body(c));
    });
    const first = yield* wait(firstOf([done, rt.timer(timeoutNs)]));
    if (first === 0) return done.value;
    if (opts.newClient !== undefined) slot.client = opts.newClient(slot.index);
    else slot.abandoned = handle.finished;
    return { type: 'info', error: `no answer within the driver's opTimeoutNs (${timeoutNs} ns)` };
  }

  /** One recorded history operation: invoke, run, complete; retires the process after info. */
  function* recorded<T>(slot: Slot, f: OpFn, key: string, invokeValue: unknown, body: (c: KvClient) => Task<OpResult<T>>): Task<OpResult<T>> {
    const process = slot.process;
    sink.invoke({ process, type: 'invoke', f, key, value: invokeValue, time: rt.now() });
    const r = yield* call(slot, body);
    let type: HistoryEvent['type'];
    let value: unknown = invokeValue;
    if (r.type === 'ok') {
      if (f === 'get') value = r.value;
      // A cas that did not swap took no effect: `fail` in the history.
      type = f === 'cas' && r.value !== true ? 'fail' : 'ok';
    } else {
      type = r.type;
      if (f === 'get') value = null;
    }
    sink.complete({ process, type, f, key, value, time: rt.now() });
    if (r.type === 'info') slot.process = ids.next();
    return r;
  }

  const outcomeOf = (r: OpResult<unknown>): Outcome => (r.type === 'ok' ? (r.value === false ? 'fail' : 'ok') : r.type);

  function* execute(slot: Slot, op: Op): Task<void> {
    if (slot.abandoned !== null) {
      yield* wait(slot.abandoned);
      slot.abandoned = null;
    }
    const t0 = rt.now();
    let outcome: Outcome;
    const key = op.key;
    switch (op.kind) {
      case 'read':
      case 'get': {
        const r = yield* recorded(slot, 'get', key, null, (c) => c.get(key));
        if (r.type === 'ok') gen.observe(key, r.value);
        outcome = outcomeOf(r);
        break;
      }
      case 'update':
      case 'put':
      case 'insert': {
        const v = op.value;
        const r = yield* recorded(slot, 'put', key, v, (c) => c.put(key, v));
        if (op.kind === 'insert') gen.insertDone(op.index);
        if (r.type === 'ok') gen.observe(key, v);
        else if (r.type === 'info') gen.forget(key);
        outcome = outcomeOf(r);
        ws?.recordValue(v.length);
        break;
      }
      case 'readModifyWrite': {
        const v = op.value;
        const r1 = yield* recorded(slot, 'get', key, null, (c) => c.get(key));
        if (r1.type !== 'ok') {
          outcome = outcomeOf(r1);
          break;
        }
        const r2 = yield* recorded(slot, 'put', key, v, (c) => c.put(key, v));
        outcome = outcomeOf(r2);
        ws?.recordValue(v.length);
        break;
      }
      case 'append': {
        const v = op.value;
        const r = yield* recorded(slot, 'append', key, v, (c) => c.append!(key, v));
        if (r.type !== 'fail') gen.forget(key);
        outcome = outcomeOf(r);
        ws?.recordValue(v.length);
        break;
      }
      case 'cas': {
        const { expected, value: v } = op;
        const r = yield* recorded(slot, 'cas', key, [expected, v], (c) => c.cas!(key, expected, v));
        if (r.type === 'ok' && r.value) gen.observe(key, v);
        else if (r.type !== 'fail') gen.forget(key);
        outcome = outcomeOf(r);
        ws?.recordValue(v.length);
        break;
      }
      case 'scan': {
        const count = op.count;
        const r = yield* call(slot, (c) => c.scan!(key, count));
        outcome = outcomeOf(r);
        break;
      }
    }
    const t1 = rt.now();
    if (opts.stats !== undefined) opts.stats.ops++;
    if (t0 >= warmupEndNs) {
      const kind: OpKind = op.kind;
      ws?.record(kind, outcome, t1 - t0);
      if (outcome !== 'info') opts.stats?.latenciesNs.push(t1 - t0);
    }
  }

  const slots: Slot[] = [];
  const newSlot = (): Slot => {
    const index = slots.length;
    const c = index === 0 || opts.newClient === undefined ? client : opts.newClient(index);
    const slot: Slot = { index, client: c, process: ids.next(), busy: false, abandoned: null };
    slots.push(slot);
    return slot;
  };

  if (cfg.mode === 'closed') {
    const slot = newSlot();
    let issued = 0;
    while (shouldContinue(issued)) {
      const op = gen.next();
      issued++;
      yield* execute(slot, op);
      if (cfg.thinkTimeNs > 0) yield* rt.sleep(cfg.thinkTimeNs);
    }
  } else {
    const arrivalRng = rt.rng(`${prefix}/arrival`);
    const meanGapNs = 1e9 / cfg.arrivalRatePerSec;
    let nextAtNs = startNs + exponential(arrivalRng, meanGapNs);
    let arrivals = 0;
    let dropped = 0;
    let inFlight = 0;
    let drained: Future<void> | null = null;
    while (shouldContinue(arrivals)) {
      const now = rt.now();
      if (nextAtNs > now) yield* rt.sleep(nextAtNs - now);
      if (!shouldContinue(arrivals)) break;
      arrivals++;
      nextAtNs += exponential(arrivalRng, meanGapNs);
      let slot: Slot | undefined;
      for (const s of slots) {
        if (!s.busy) {
          slot = s;
          break;
        }
      }
      if (slot === undefined && slots.length < cfg.maxOutstanding) slot = newSlot();
      if (slot === undefined) {
        dropped++;
        continue;
      }
      const s = slot;
      s.busy = true;
      inFlight++;
      const op = gen.next();
      rt.spawn(`${prefix}/s${s.index}`, function* (): Task<void> {
        yield* execute(s, op);
        s.busy = false;
        inFlight--;
        if (inFlight === 0 && drained !== null) drained.resolve();
      });
    }
    if (inFlight > 0) {
      drained = new Future<void>();
      yield* wait(drained);
    }
    if (ws !== undefined) {
      ws.arrivals += arrivals;
      ws.dropped += dropped;
    }
  }
  ws?.window(Math.min(warmupEndNs, rt.now()), rt.now());
}
