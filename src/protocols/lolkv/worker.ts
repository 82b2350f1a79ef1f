import type { Task } from '../../platform/index.js';
import { type RpcRequest, UdRpcServer } from '../../kv/udrpc.js';
import type { Channel } from './channel.js';
import type { HashTable } from './hashtable.js';
import type { Incarnations } from './incarnation.js';
import { keyHash, offOf, ptrOf, wordBytes } from './layout.js';
import type { LeaderTerm } from './leader.js';
import { REQ_GET, REQ_PUT, RES_NOT_LEADER, RES_OK, RES_RETRY, type Response, decodeRequest, encodeResponse } from './messages.js';
import { encodeObject, objectBytes } from './object.js';
import { workerPort } from './options.js';
import { readCheck, replicate } from './replicate.js';
import type { Replica } from './replica.js';

/** The options a worker thread reads. */
export interface WorkerOptions {
  commitTimeoutNs: number;
  readCheckTimeoutNs: number;
  unsafe: { skipIncarnationCheck: boolean; skipGcSafety: boolean; skipReadCheck: boolean };
}

export type Reply = (req: RpcRequest, x: Response) => Task<void>;

/** The replication + apply path of a PUT (LoLKV's own by default; the Mu baseline brings its log). */
export type PutPath = (env: WorkerEnv, lt: LeaderTerm, ch: Channel, i: number, req: RpcRequest, key: string, value: string, reply: Reply) => Task<void>;

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
  /** The channel (leader thread resources) worker i uses; default i. */
  userOf?: (i: number) => number;
}

/**
 * A worker thread (docs/lolkv.md, "PUT", "GET"). Every replica runs `threads` of them, each on its
 * own UD port; a replica that does not lead answers NOT_LEADER with its best guess. On the leader
 * a worker serves any key with its own QPs to every follower.
 */
export function* worker(env: WorkerEnv, i: number): Task<void> {
  const { r } = env;
  const rpc = new UdRpcServer(r.p, `${r.cfg.tracePrefix}.w${i}`, workerPort(i), { recvSlots: 64, slotBytes: 2048 });
  yield* rpc.start();
  const user = env.userOf === undefined ? i : env.userOf(i);
  const ch = env.channels[user]!;
  const reply = (req: RpcRequest, x: Response) => rpc.reply(req, encodeResponse(x));
  for (;;) {
    const req = yield* rpc.next();
    if (req === null) continue;
    const q = decodeRequest(req.body);
    if (q === null) continue;
    const lt = env.leader();
    if (lt === null || !lt.live) {
      yield* reply(req, { status: RES_NOT_LEADER, value: null, hint: r.leaderHint === r.me ? -1 : r.leaderHint });
      continue;
    }
    if (!lt.serving) {
      yield* reply(req, { status: RES_RETRY, value: 'not ready', hint: r.me });
      continue;
    }
    const seen = lt.dedup.get(req.clientId);
    if (seen !== undefined && req.reqId < seen) continue; // a stale duplicate: the client has moved on
    if (q.op === REQ_PUT && seen === req.reqId) {
      yield* reply(req, { status: RES_OK, value: null, hint: r.me });
      continue;
    }
    if (q.op === REQ_GET) {
      const res = yield* get(env, lt, ch, user, q.key);
      if (res !== null) yield* reply(req, res);
      continue;
    }
    if (q.op === REQ_PUT) yield* (env.put ?? put)(env, lt, ch, user, req, q.key, q.value, reply);
  }
}

function* put(env: WorkerEnv, lt: LeaderTerm, ch: Channel, i: number, req: RpcRequest, key: string, value: string, reply: Reply): Task<void> {
  const { r, opts, table } = env;
  const rt = r.p.rt;
  const term = lt.term;
  const hash = keyHash(key);
  const size = objectBytes(key, value);
  const inc = yield* env.incarnations.next(hash);
  const a = lt.segments.alloc(i, size, rt.now(), false);
  if (a === null) {
    yield* reply(req, { status: RES_RETRY, value: 'no free segment', hint: r.me });
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
  const res = yield* table.apply(key, hash, ptr, { term, inc }, !opts.unsafe.skipIncarnationCheck);
  if (res.kind !== 'refused') lt.segments.addLive(a.off, size);
  if (res.kind === 'replaced') lt.segments.subLive(offOf(res.old), res.oldSize);
  r.trace('apply', { key, term, inc, replaced: res.kind === 'replaced', applied: res.kind !== 'refused' });
  const prev = lt.dedup.get(req.clientId);
  if (prev === undefined || prev < req.reqId) lt.dedup.set(req.clientId, req.reqId);
  yield* reply(req, { status: RES_OK, value: null, hint: r.me });
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

function* get(env: WorkerEnv, lt: LeaderTerm, ch: Channel, i: number, key: string): Task<Response | null> {
  const { r, opts, table } = env;
  const rt = r.p.rt;
  const found = yield* table.lookup(key, keyHash(key), !opts.unsafe.skipGcSafety);
  if (!opts.unsafe.skipReadCheck && !(yield* readCheck(lt, ch, i, rt.now() + opts.readCheckTimeoutNs))) return null;
  r.trace('get', { key, term: lt.term, inc: found.obj === null ? null : found.obj.inc });
  return { status: RES_OK, value: found.obj === null ? null : found.obj.value, hint: r.me };
}
