import { Access, type ClusterInfo, type CompletionQueue, type Memory, type Platform, type QueuePair, type Task, invariant } from '../../platform/index.js';
import { Reader, Writer } from '../../kv/codec.js';
import { type RpcRequest, UdRpcServer } from '../../kv/udrpc.js';
import type { ServerHandle } from '../protocol.js';
import { RES_CAS_FALSE, RES_FAIL, RES_OK, REQ_CAS, REQ_GET, decodeRequest, encodeResponse, type Response } from './messages.js';
import { type RegisterOptions, workerPort } from './options.js';
import { OP_CAS, OP_PUT, decodeRecord, encodeRecord } from './record.js';

/** Log slot size: every record occupies one slot, so recovery can check each slot on its own. */
export const SLOT_BYTES = 256;
const LOCK_BUCKETS = 256;
/** Words of the primary's DRAM control block. */
const CTL_SEQ = 0;
const CTL_TAIL = 8;
const CTL_LOCKS = 64;

interface IndexEntry {
  slot: number;
  seq: number;
}

interface BackupLink {
  qp: QueuePair;
  logRkey: number;
  metaRkey: number;
}

/**
 * The primary of the example register store (node 0).
 *
 * PUT/CAS: lock the key's bucket (a CAS spin lock in shared DRAM) → take a sequence number and a
 * log slot (fetch-and-add) → write the record into PM and persist it → RDMA WRITE it into every
 * connected backup's log at the same offset, READ back (read-after-write: makes a DDIO-off write
 * durable at the backup) and SEND an unsignaled commit notice → update the index → unlock → reply.
 * Durability rests on the primary's PM; backups are mirrors (this example is not highly available:
 * it is the platform's tour, not a consensus protocol).
 *
 * Recovery after a restart checks every slot's CRC, skipping torn ones, and rebuilds the index and
 * the per-client dedup table (so a retried PUT/CAS is not applied twice) from the records.
 */
export function startPrimary(p: Platform, cluster: ClusterInfo, opts: RegisterOptions): ServerHandle {
  const log = p.memory.pm('reg.log', opts.logBytes);
  const ctl = p.memory.dram('reg.ctl', CTL_LOCKS + LOCK_BUCKETS * 8);
  const slots = Math.floor(opts.logBytes / SLOT_BYTES);
  const index = new Map<string, IndexEntry>();
  const dedup = new Map<number, { reqId: number; response: Response }>();
  let role = 'recovering';

  p.rt.spawn('recover', function* (): Task<void> {
    let maxSeq = 0;
    let tail = 0;
    for (let slot = 0; slot < slots; slot++) {
      const d = decodeRecord(log.peek(slot * SLOT_BYTES, SLOT_BYTES), !opts.unsafe.skipChecksum);
      if (d.kind === 'end') continue;
      tail = slot + 1;
      if (d.kind === 'torn') {
        p.rt.trace('reg.torn', { slot });
        continue;
      }
      const r = d.record;
      const cur = index.get(r.key);
      if (cur === undefined || cur.seq < r.seq) index.set(r.key, { slot, seq: r.seq });
      const dd = dedup.get(r.clientId);
      if (dd === undefined || dd.reqId < r.reqId) dedup.set(r.clientId, { reqId: r.reqId, response: { status: RES_OK, value: null } });
      if (r.seq > maxSeq) maxSeq = r.seq;
    }
    yield* ctl.store64(CTL_SEQ, maxSeq + 1);
    yield* ctl.store64(CTL_TAIL, tail);
    p.rt.trace('reg.recovered', { records: index.size, tail });
    role = 'primary';
    for (let i = 0; i < opts.workers; i++) p.rt.spawn(`worker${i}`, () => worker(i));
  });

  function* worker(i: number): Task<void> {
    const rpc = new UdRpcServer(p, `reg.w${i}`, workerPort(i));
    yield* rpc.start();
    const cq = p.fabric.createCq({ capacity: 64 });
    const links: (BackupLink | null)[] = cluster.servers.map(() => null);
    const retryAt: number[] = cluster.servers.map(() => 0);
    const scratch = p.memory.dram(`reg.w${i}.scratch`, 64);
    let wrIds = 1;

    /** Connects to a backup and claims it: READ its owner word, CAS it to our token. */
    function* connect(b: number): Task<void> {
      const conn = yield* p.fabric.connect(b, 'reg', { cq }, 200_000);
      if (conn === null) return;
      const r = new Reader(conn.privateData);
      const link: BackupLink = { qp: conn.qp, logRkey: r.u32(), metaRkey: r.u32() };
      const token = p.rt.bootCount + 1;
      for (let attempt = 0; attempt < 4; attempt++) {
        yield* link.qp.read({ mem: scratch, offset: 0, length: 8 }, { rkey: link.metaRkey, offset: 0 }, { wrId: wrIds++ });
        const rd = yield* awaitOne(cq, wrIds - 1);
        if (rd === null) return;
        const old = scratch.peek64(0);
        if (old >= token) break;
        yield* link.qp.cas({ rkey: link.metaRkey, offset: 0 }, old, token, { wrId: wrIds++ });
        const c = yield* awaitOne(cq, wrIds - 1);
        if (c === null) return;
        if (c.value === old) break;
      }
      // Mirror what the log holds so far (one WRITE of the used prefix).
      const tail = yield* ctl.load64(CTL_TAIL);
      if (tail > 0) {
        yield* link.qp.write({ mem: log, offset: 0, length: tail * SLOT_BYTES }, { rkey: link.logRkey, offset: 0 }, { wrId: wrIds++ });
        if ((yield* awaitOne(cq, wrIds - 1)) === null) return;
      }
      links[b] = link;
      p.rt.trace('reg.backup-up', { worker: i, backup: b });
    }

    /** Waits for the completion of `wrId`; null (and the link is dropped by the caller) on error. */
    function* awaitOne(q: CompletionQueue, wrId: number): Task<{ value?: number } | null> {
      for (;;) {
        const c = yield* q.next(1_000_000);
        if (c === null) return null;
        if (c.wrId !== wrId) continue;
        return c.status === 'success' ? c : null;
      }
    }

    function* replicate(slot: number, length: number, seq: number): Task<void> {
      const pending: number[] = [];
      for (const b of cluster.servers) {
        const l = links[b];
        if (l === null || l === undefined) continue;
        if (l.qp.state === 'error') {
          links[b] = null;
          continue;
        }
        yield* l.qp.write({ mem: log, offset: slot * SLOT_BYTES, length }, { rkey: l.logRkey, offset: slot * SLOT_BYTES }, { wrId: wrIds++, signaled: false });
        yield* l.qp.read({ mem: scratch, offset: 8 + 8 * (b % 7), length: 8 }, { rkey: l.logRkey, offset: slot * SLOT_BYTES }, { wrId: wrIds++ });
        pending.push(wrIds - 1);
        yield* l.qp.send(new Writer(8).u53(seq).finish(), { wrId: wrIds++, signaled: false });
      }
      let left = pending.length;
      while (left > 0) {
        const c = yield* cq.next(1_000_000);
        if (c === null) break;
        if (pending.includes(c.wrId)) left--;
        if (c.status !== 'success') {
          for (const b of cluster.servers) if (links[b]?.qp.id === c.qpId) links[b] = null;
        }
      }
    }

    function* lock(bucket: number): Task<void> {
      for (;;) {
        if ((yield* ctl.cas64(CTL_LOCKS + bucket * 8, 0, i + 1)) === 0) return;
        yield* p.rt.sleep(50);
      }
    }

    function* handle(req: RpcRequest): Task<Response> {
      const q = decodeRequest(req.body);
      if (q.op === REQ_GET) {
        const e = index.get(q.key);
        if (e === undefined) return { status: RES_OK, value: null };
        const bytes = yield* log.read(e.slot * SLOT_BYTES, SLOT_BYTES);
        const d = decodeRecord(bytes);
        invariant(d.kind === 'record' && d.record.key === q.key, () => `index points at a bad record for ${q.key}`);
        return { status: RES_OK, value: d.record.value };
      }
      const bucket = hashKey(q.key) % LOCK_BUCKETS;
      yield* lock(bucket);
      try {
        if (q.op === REQ_CAS) {
          const e = index.get(q.key);
          const cur = e === undefined ? null : readValue(log, e.slot);
          if (cur !== q.expected) return { status: RES_CAS_FALSE, value: cur };
        }
        const seq = yield* ctl.faa64(CTL_SEQ, 1);
        const slot = yield* ctl.faa64(CTL_TAIL, 1);
        const rec = encodeRecord({ seq, clientId: req.clientId, reqId: req.reqId, op: q.op === REQ_CAS ? OP_CAS : OP_PUT, key: q.key, value: q.value });
        if (slot >= slots || rec.length > SLOT_BYTES) return { status: RES_FAIL, value: slot >= slots ? 'log full' : 'record too large' };
        yield* log.write(slot * SLOT_BYTES, rec);
        if (!opts.unsafe.skipPersist) yield* log.persist(slot * SLOT_BYTES, rec.length);
        yield* replicate(slot, rec.length, seq);
        index.set(q.key, { slot, seq });
        p.rt.trace('reg.commit', { key: q.key, seq, slot });
        return { status: RES_OK, value: null };
      } finally {
        yield* ctl.store64(CTL_LOCKS + bucket * 8, 0);
      }
    }

    for (;;) {
      for (const b of cluster.servers) {
        if (b === p.rt.nodeId || links[b] !== null) continue;
        if (p.rt.now() < retryAt[b]!) continue;
        retryAt[b] = p.rt.now() + opts.reconnectNs;
        yield* connect(b);
      }
      const req = yield* rpc.next(opts.reconnectNs);
      if (req === null) continue;
      const dd = dedup.get(req.clientId);
      if (dd !== undefined && req.reqId < dd.reqId) continue; // a stale duplicate: the client moved on
      if (dd !== undefined && req.reqId === dd.reqId) {
        yield* rpc.reply(req, encodeResponse(dd.response));
        continue;
      }
      const response = yield* handle(req);
      if (decodeRequest(req.body).op !== REQ_GET) dedup.set(req.clientId, { reqId: req.reqId, response });
      yield* rpc.reply(req, encodeResponse(response));
    }
  }

  return {
    role: () => role,
    checkInvariants(): string[] {
      const bad: string[] = [];
      for (const [key, e] of index) {
        const d = decodeRecord(log.peek(e.slot * SLOT_BYTES, SLOT_BYTES));
        if (d.kind !== 'record' || d.record.key !== key || d.record.seq !== e.seq) bad.push(`index entry for ${key} does not match log slot ${e.slot}`);
      }
      return bad;
    },
  };
}

function readValue(log: Memory, slot: number): string | null {
  const d = decodeRecord(log.peek(slot * SLOT_BYTES, SLOT_BYTES));
  return d.kind === 'record' ? d.record.value : null;
}

function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Access rights backups grant the primary. */
export const BACKUP_ACCESS = Access.REMOTE_READ | Access.REMOTE_WRITE | Access.REMOTE_ATOMIC;
