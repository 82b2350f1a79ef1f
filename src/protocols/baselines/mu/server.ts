import type { ClusterInfo, Memory, Platform } from '../../../platform/index.js';
import type { ServerHandle } from '../../protocol.js';
import { Channel } from '../../lolkv/channel.js';
import { monitor } from '../../lolkv/election.js';
import { HashTable } from '../../lolkv/hashtable.js';
import { Incarnations } from '../../lolkv/incarnation.js';
import { keyHash, ptrOf } from '../../lolkv/layout.js';
import { LeaderTerm } from '../../lolkv/leader.js';
import { RES_OK, RES_RETRY } from '../../lolkv/messages.js';
import { encodeObject, objectBytes } from '../../lolkv/object.js';
import { Replica } from '../../lolkv/replica.js';
import { SEALED, Segments } from '../../lolkv/segments.js';
import { syncState } from '../../lolkv/sync.js';
import { type PutPath, worker } from '../../lolkv/worker.js';
import { applier } from './applier.js';
import type { MuOptions } from './options.js';
import { Replicator } from './replicator.js';

/**
 * A replica of the Mu-style baseline. It shares LoLKV's election, fencing (permission switching
 * by re-registration), state sync and catch-up, client and read check; what differs is the data
 * path: a PUT takes the next slot of ONE log (fetch-and-add on a shared tail word), writes the
 * entry there, and replicates it through the single shared QP per follower (Replicator); the
 * follower CPUs apply the log in order (applier). The log is LoLKV's segment area with one entry
 * per segment, so state sync and catch-up are LoLKV's own; an entry's version is (term, index).
 */
export function startMuServer(p: Platform, cluster: ClusterInfo, opts: MuOptions): ServerHandle {
  const eb = Math.floor(opts.entryBytes / 8) * 8;
  const r = new Replica(p, cluster, {
    service: 'mu',
    tracePrefix: 'mu',
    areaBytes: opts.logEntries * eb,
    segmentBytes: eb,
    tableSlots: opts.tableSlots,
    fencing: true,
    heartbeatNs: opts.heartbeatNs,
    electionTimeoutMinNs: opts.electionTimeoutMinNs,
    electionTimeoutMaxNs: Math.max(opts.electionTimeoutMaxNs, opts.electionTimeoutMinNs + 1),
    voteRetryNs: opts.voteRetryNs,
    stepDownNs: opts.stepDownNs,
  });
  const table = new HashTable(r.table, r.area, opts.tableSlots, eb, true);
  const incarnations = new Incarnations(p, 1);
  const shared = new Channel(p, 'mu.shared');
  // Workers' own QPs serve only the GET read check; every log WRITE goes through `shared`.
  const channels = [shared, ...Array.from({ length: opts.threads }, (_, i) => new Channel(p, `mu.r${i}`))];
  const logTail: Memory = p.memory.dram('mu.tail', 8);
  const syncEnv = { incarnations, buffers: new Map() };
  let current: LeaderTerm | null = null;
  let replicator: Replicator | null = null;

  r.onElected = (term) => {
    const lt = new LeaderTerm(
      r,
      term,
      { reconnectNs: opts.reconnectNs, connectTimeoutNs: opts.connectTimeoutNs, skipStateSync: false, verify: true },
      {
        channels,
        table,
        newSegments: () => new Segments(opts.logEntries, eb, channels.length, 0),
        sync: (l, sources) => syncState(l, sources, syncEnv),
        onServing: (l) => {
          // The log continues after the last entry state sync found (no worker runs before this returns).
          let last = -1;
          for (let s = 0; s < l.segments.count; s++) if (l.segments.tail[s]! > 0) last = s;
          logTail.poke64(0, last + 1);
          const rep = new Replicator(l, shared);
          replicator = rep;
          p.rt.spawn(`mu${term}.replicator`, () => rep.run());
        },
      },
    );
    current = lt;
    replicator = null;
    return lt.start();
  };
  const leader = () => (current !== null && current.live ? current : null);

  const put: PutPath = function* (env, lt, _ch, _i, req, key, value, reply) {
    const rt = p.rt;
    const term = lt.term;
    const rep = replicator;
    const size = objectBytes(key, value);
    if (rep === null || size > eb) {
      yield* reply(req, { status: RES_RETRY, value: size > eb ? 'entry too large' : 'not ready', hint: r.me });
      return;
    }
    const idx = yield* logTail.faa64(0, 1); // the serialization point: one log tail for every thread
    if (idx >= opts.logEntries) {
      yield* reply(req, { status: RES_RETRY, value: 'log full', hint: r.me });
      return;
    }
    const seg = lt.segments;
    seg.state[idx] = SEALED;
    seg.tail[idx] = size;
    seg.gen[idx] = seg.gen[idx]! + 1;
    const off = idx * eb;
    const inc = idx + 1;
    const bytes = encodeObject({ term, inc, wterm: term, gen: seg.gen[idx]!, clientId: req.clientId, reqId: req.reqId, key, value });
    yield* r.area.write(off, bytes);
    yield* r.area.persist(off, bytes.length);
    r.trace('replicate', { key, term, inc, seg: idx, off });
    const acks = yield* rep.replicate(off, bytes.length, rt.now() + opts.commitTimeoutNs);
    if (acks === null) return;
    r.trace('commit', { key, term, inc, seg: idx, off, acks });
    const res = yield* table.apply(key, keyHash(key), ptrOf(off), { term, inc }, true);
    r.trace('apply', { key, term, inc, replaced: res.kind === 'replaced', applied: res.kind !== 'refused' });
    const prev = lt.dedup.get(req.clientId);
    if (prev === undefined || prev < req.reqId) lt.dedup.set(req.clientId, req.reqId);
    yield* reply(req, { status: RES_OK, value: null, hint: r.me });
    void env;
  };

  const wopts = { commitTimeoutNs: opts.commitTimeoutNs, readCheckTimeoutNs: opts.readCheckTimeoutNs, unsafe: { skipIncarnationCheck: false, skipGcSafety: false, skipReadCheck: false } };
  p.rt.spawn('monitor', () => monitor(r));
  p.rt.spawn('applier', () => applier(r, opts));
  for (let i = 0; i < opts.threads; i++) p.rt.spawn(`worker${i}`, () => worker({ r, opts: wopts, table, incarnations, channels, leader, put, userOf: (w) => w + 1 }, i));
  return { role: () => r.role };
}
