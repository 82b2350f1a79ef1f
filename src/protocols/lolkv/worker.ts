import { type Task, invariant } from '../../platform/index.js';
import type { CpuCosts } from './cpu.js';
import { type RpcRequest, UdRpcServer } from '../../kv/udrpc.js';
import type { Channel } from './channel.js';
import type { HashTable } from './hashtable.js';
import type { Incarnations } from './incarnation.js';
import { keyHash, offOf, ptrOf, wordBytes } from './layout.js';
import type { LeaderTerm } from './leader.js';
import { REQ_GET, REQ_PUT, RES_NOT_LEADER, RES_OK, RES_RETRY, type Response, decodeRequest, writeResponse } from './messages.js';
import { encodeObject, objectBytes } from './object.js';
import { workerPort } from './options.js';
import { readCheck, replicate } from './replicate.js';
import type { Replica } from './replica.js';

/** The options a worker thread reads. */
export interface WorkerOptions {
  commitTimeoutNs: number;
  readCheckTimeoutNs: number;
  /** Request coroutines per worker core (each serves one request at a time). */
  pipelineDepth: number;
  cpu: CpuCosts;
  unsafe: { skipIncarnationCheck: boolean; skipGcSafety: boolean; skipReadCheck: boolean };
}

/**
 * Sends a response, first charging `cpuNs` of CPU work on the worker's core: the reply's own
 * composition plus whatever of the request's CPU work was not charged yet (charges are merged
 * into as few scheduling points as possible; each is a simulator event).
 */
export type Reply = (req: RpcRequest, x: Response, cpuNs: number) => Task<void>;

/** The replication + apply path of a PUT (LoLKV's own by default; the Mu baseline brings its log). */
export type PutPath = (env: WorkerEnv, lt: LeaderTerm, ch: Channel, i: number, req: RpcRequest, key: string, value: string, reply: Reply, reqNs: number) => Task<void>;

/** The path of a GET (LoLKV's own by default: local lookup + read check). */
export type GetPath = (env: WorkerEnv, lt: LeaderTerm, ch: Channel, i: number, req: RpcRequest, key: string, reply: Reply, reqNs: number) => Task<void>;

/** What a worker thread shares with the rest of its server. */
export interface WorkerEnv {
  r: Replica;
  opts: WorkerOptions;
  table: HashTable;
  incarnations: Incarnations;
  channels: readonly Channel[];
  /** The leader machinery of the current term (null when not leading). */
  leader(): LeaderTerm | null;
  put?: PutPath;
  get?: GetPath;
  /** The channel (leader thread resources) worker i uses; default i. */
  userOf?: (i: number) => number;
}

/**
 * Worker thread i (docs/lolkv.md, "PUT", "GET", "Worker cores"): core i of its server, running
 * `pipelineDepth` request coroutines that share the worker's UD endpoint and its channel (CQ and
 * QPs to every follower). Each coroutine takes the next request from the endpoint and serves it
 * to the end; while it waits for the network the core serves the others, so a worker is bound by
 * its CPU work, not by round trips. A replica that does not lead answers NOT_LEADER with its best
 * guess.
 */
export function* worker(env: WorkerEnv, i: number): Task<void> {
  const { r } = env;
  const rpc = new UdRpcServer(r.p, `${r.cfg.tracePrefix}.w${i}`, workerPort(i), { recvSlots: 64, slotBytes: 2048 });
  yield* rpc.start();
  const user = env.userOf === undefined ? i : env.userOf(i);
  const ch = env.channels[user]!;
  const rt = r.p.rt;
  const reply: Reply = function* (req, x, cpuNs) {
    if (cpuNs > 0) yield* rt.compute(cpuNs);
    yield* rpc.replyWith(req, (w) => writeResponse(w, x));
  };
  for (let k = 1; k < env.opts.pipelineDepth; k++) rt.spawn(`worker${i}.${k}`, () => serve(env, rpc, ch, user, reply), { core: i });
  yield* serve(env, rpc, ch, user, reply);
}

/** Key of a request in the leader's in-flight set (clientId, reqId). */
function inflightKey(req: RpcRequest): number {
  invariant(req.reqId < 4294967296 && req.clientId < 1 << 20, () => `request id out of range: ${req.clientId}/${req.reqId}`);
  return req.clientId * 4294967296 + req.reqId;
}

/** One request coroutine of a worker core. */
function* serve(env: WorkerEnv, rpc: UdRpcServer, ch: Channel, user: number, reply: Reply): Task<void> {
  const { r } = env;
  const rt = r.p.rt;
  const cpu = env.opts.cpu;
  for (;;) {
    const req = yield* rpc.next();
    if (req === null) continue;
    // The request's receive/parse cost (cpu.request) is charged with the path's first CPU work.
    const q = decodeRequest(req.body);
    if (q === null) {
      yield* rt.compute(cpu.request);
      continue;
    }
    const lt = env.leader();
    if (lt === null || !lt.live) {
      yield* reply(req, { status: RES_NOT_LEADER, value: null, hint: r.leaderHint === r.me ? -1 : r.leaderHint }, cpu.request + cpu.reply);
      continue;
    }
    if (!lt.serving) {
      yield* reply(req, { status: RES_RETRY, value: 'not ready', hint: r.me }, cpu.request + cpu.reply);
      continue;
    }
    const seen = lt.dedup.get(req.clientId);
    if (seen !== undefined && req.reqId < seen) {
      yield* rt.compute(cpu.request); // a stale duplicate: the client has moved on
      continue;
    }
    if (q.op === REQ_PUT && seen === req.reqId) {
      yield* reply(req, { status: RES_OK, value: null, hint: r.me }, cpu.request + cpu.reply);
      continue;
    }
    if (q.op === REQ_GET) {
      yield* (env.get ?? get)(env, lt, ch, user, req, q.key, reply, cpu.request);
      continue;
    }
    // A PUT. At most one execution of a (clientId, reqId) is in flight per leader term: a
    // duplicate (the client's retry) that arrives while the first is still in flight is dropped —
    // the first one replies, or, if it is abandoned, the client retries again later. This check
    // and the marking happen between two scheduling points, so they are atomic among coroutines.
    const key = inflightKey(req);
    if (lt.inflight.has(key)) {
      yield* rt.compute(cpu.request);
      continue;
    }
    lt.inflight.add(key);
    try {
      yield* (env.put ?? put)(env, lt, ch, user, req, q.key, q.value, reply, cpu.request);
    } finally {
      lt.inflight.delete(key);
    }
  }
}

function* put(env: WorkerEnv, lt: LeaderTerm, ch: Channel, i: number, req: RpcRequest, key: string, value: string, reply: Reply, reqNs: number): Task<void> {
  const { r, opts, table } = env;
  const rt = r.p.rt;
  const term = lt.term;
  const hash = keyHash(key);
  const size = objectBytes(key, value);
  yield* rt.compute(reqNs + opts.cpu.hash + opts.cpu.compose(size));
  const inc = yield* env.incarnations.next(hash);
  const a = lt.segments.alloc(i, size, rt.now(), false);
  if (a === null) {
    yield* reply(req, { status: RES_RETRY, value: 'no free segment', hint: r.me }, opts.cpu.reply);
    return;
  }
  const bytes = encodeObject({ term, inc, wterm: term, gen: a.gen, clientId: req.clientId, reqId: req.reqId, key, value });
  yield* r.area.write(a.off, bytes);
  yield* r.area.persist(a.off, bytes.length);
  r.trace('replicate', { key, term, inc, seg: a.seg, off: a.off });
  const acks = yield* replicate(lt, ch, i, a.off, bytes.length, rt.now() + opts.commitTimeoutNs);
  if (acks === null) return; // not known to be committed: no reply, the client retries
  r.trace('commit', { key, term, inc, seg: a.seg, off: a.off, acks });
  const ptr = ptrOf(a.off);
  // The table probe and the reply's composition, in one charge.
  yield* rt.compute(opts.cpu.table + opts.cpu.reply);
  const res = yield* table.apply(key, hash, ptr, { term, inc }, !opts.unsafe.skipIncarnationCheck);
  if (res.kind !== 'refused') lt.segments.addLive(a.off, size);
  if (res.kind === 'replaced') lt.segments.subLive(offOf(res.old), res.oldSize);
  r.trace('apply', { key, term, inc, replaced: res.kind === 'replaced', applied: res.kind !== 'refused' });
  const prev = lt.dedup.get(req.clientId);
  if (prev === undefined || prev < req.reqId) lt.dedup.set(req.clientId, req.reqId);
  yield* reply(req, { status: RES_OK, value: null, hint: r.me }, 0);
  if (res.kind !== 'refused') yield* remoteApply(lt, ch, i, res.slot, ptr);
}

/** Asynchronous remote apply: one unsignaled WRITE of the slot word into every counted follower's table. */
export function* remoteApply(lt: LeaderTerm, ch: Channel, user: number, slot: number, ptr: number): Task<void> {
  const word = wordBytes(ptr);
  for (const fs of lt.followers) {
    const link = fs.counted ? fs.links[user] : null;
    if (link === null || link === undefined || link.dead) continue;
    yield* ch.writeUnsignaled(link, word, { rkey: link.keys.table, offset: slot * 8 });
  }
}

function* get(env: WorkerEnv, lt: LeaderTerm, ch: Channel, i: number, req: RpcRequest, key: string, reply: Reply, reqNs: number): Task<void> {
  const { r, opts, table } = env;
  const rt = r.p.rt;
  const found = yield* table.lookup(key, keyHash(key), !opts.unsafe.skipGcSafety);
  // The GET's atomic point (its table read), traced there; lolkv.get (same id) follows only if
  // the read check passes. Trace validation places the spec's Get at the lookup.
  const id = ++r.getSeq;
  r.trace('lookup', { key, term: lt.term, inc: found.obj === null ? null : found.obj.inc, id });
  // Request parse, hash, probe, object decode and the reply's composition, in one charge.
  yield* rt.compute(reqNs + opts.cpu.hash + opts.cpu.table + (found.obj === null ? 0 : opts.cpu.decode(found.obj.size)) + opts.cpu.reply);
  if (!opts.unsafe.skipReadCheck && !(yield* readCheck(lt, ch, i, rt.now() + opts.readCheckTimeoutNs))) return;
  r.trace('get', { key, term: lt.term, inc: found.obj === null ? null : found.obj.inc, id });
  yield* reply(req, { status: RES_OK, value: found.obj === null ? null : found.obj.value, hint: r.me }, 0);
}
