import { type Task, invariant } from '../../../platform/index.js';
import { type RpcRequest, UdRpcServer } from '../../../kv/udrpc.js';
import { validFrame } from '../frame.js';
import { shardOf } from './config.js';
import { decodeEntry, encodeEntry } from './entry.js';
import { OP_CONFIG, OP_GET, ST_NOT_PRIMARY, ST_OK, ST_RETRY, decodeRequest, encodeConfigReply, encodeReply } from './messages.js';
import { TAG_EPOCH, workerPort } from './options.js';
import type { Replicator } from './replicator.js';
import type { ServerState } from './state.js';

/**
 * A worker thread of a Rowan-KV server: serves clients on its own UD port, appends to its own
 * primary-log segment, replicates through its own RDMA resources.
 *
 * PUT (primary of the key's shard, serving): dedup → version → append the object to the local
 * primary log and persist it → write it to every backup's backup log (Rowan) → wait for their
 * hardware ACKs → update the index → reply. GET: index → read the object from the primary log →
 * reply. Both answer only while `canServe` holds (tenure active, no handoff, lease valid): the
 * epoch check that keeps a deposed primary from answering after a new one took over.
 */
export function* runWorker(st: ServerState, w: number, rep: Replicator): Task<void> {
  const p = st.p;
  const rpc = new UdRpcServer(p, `rk.w${w}`, workerPort(w), { recvSlots: 64, slotBytes: 2048 });
  yield* rpc.start();
  const wrIds = { next: 1 };
  // Connect to every other server up front (as a deployment would at startup).
  for (const n of st.cluster.servers) if (n !== st.me) yield* rep.warm(n);

  function refuse(s: number): Uint8Array {
    return encodeReply(st.isPrimary(s) ? ST_RETRY : ST_NOT_PRIMARY, null);
  }

  function* get(key: string): Task<Uint8Array | null> {
    const s = shardOf(key, st.opts.shards);
    if (!st.canServe(s)) return refuse(s);
    const loc = st.index[s]!.get(key);
    let value: string | null = null;
    if (loc !== undefined) {
      const gen = st.plog.gen[st.plog.segmentOf(loc.off)]!;
      const bytes = yield* st.plog.mem.read(loc.off, loc.len);
      const ok = validFrame(bytes, 0, bytes.length, gen) === loc.len;
      const e = ok ? decodeEntry(bytes, 0, loc.len) : null;
      invariant(e !== null && e.key === key && e.ver === loc.ver, () => `GET ${key}: the index points at primary-log offset ${loc.off}, which does not hold that object (ver ${loc.ver})`);
      value = e.value;
    }
    if (!st.canServe(s)) return null;
    p.rt.trace('rowankv.get', { key, ver: loc?.ver ?? 0 });
    return encodeReply(ST_OK, value);
  }

  function* put(req: RpcRequest, key: string, value: string): Task<Uint8Array | null> {
    const s = shardOf(key, st.opts.shards);
    if (!st.canServe(s)) return refuse(s);
    const seen = st.dedup[s]!.get(req.clientId);
    if (seen !== undefined && req.reqId < seen) return null; // a stale duplicate
    if (seen === req.reqId) return encodeReply(ST_OK, null);
    const ticket = st.takeTicket(s);
    try {
      const ver = st.nextVer[s]!;
      st.nextVer[s] = ver + 1;
      const frame = encodeEntry({ shard: s, clientId: req.clientId, reqId: req.reqId, ver, key, value });
      const off = yield* st.plog.append(w, frame);
      if (off < 0) return encodeReply(ST_RETRY, null);
      p.rt.trace('rowankv.append', { key, shard: s, ver, off });
      if (!(yield* st.replicate(rep, s, frame, ver, wrIds))) return null;
      st.install(s, key, { off, len: frame.length, ver, clientId: req.clientId, reqId: req.reqId });
      st.commits++;
      p.rt.trace('rowankv.commit', { key, shard: s, ver, epoch: Math.floor(ver / TAG_EPOCH) });
    } finally {
      st.tickets[s]!.delete(ticket);
    }
    if (!st.leaseOk() || !st.isPrimary(s)) return null;
    return encodeReply(ST_OK, null);
  }

  for (;;) {
    const req = yield* rpc.next();
    if (req === null) continue;
    yield* p.rt.compute(st.opts.computeNs);
    const q = decodeRequest(req.body);
    let reply: Uint8Array | null;
    if (q.op === OP_CONFIG) reply = encodeConfigReply(st.config);
    else if (q.op === OP_GET) reply = yield* get(q.key);
    else reply = yield* put(req, q.key, q.value);
    if (reply !== null) yield* rpc.reply(req, reply);
  }
}
