import type { ClusterInfo, Memory, Platform, Task } from '../../../platform/index.js';
import type { RpcRequest } from '../../../kv/udrpc.js';
import { CpuCosts } from '../../lolkv/cpu.js';
import type { ServerHandle } from '../../protocol.js';
import { Channel } from '../../lolkv/channel.js';
import { monitor } from '../../lolkv/election.js';
import { HashTable } from '../../lolkv/hashtable.js';
import { Incarnations } from '../../lolkv/incarnation.js';
import { LeaderTerm } from '../../lolkv/leader.js';
import { RES_OK, RES_RETRY } from '../../lolkv/messages.js';
import { READ_COMMAND, encodeObject, objectBytes } from '../../lolkv/object.js';
import { Replica } from '../../lolkv/replica.js';
import { SEALED, Segments } from '../../lolkv/segments.js';
import { syncState } from '../../lolkv/sync.js';
import { type GetPath, type PutPath, type Reply, type WorkerEnv, worker } from '../../lolkv/worker.js';
import { applier } from './applier.js';
import type { MuOptions } from './options.js';
import { type Applied, MuLog } from './replicator.js';

/**
 * A replica of the Mu-style baseline. It shares LoLKV's election, fencing (permission switching
 * by re-registration), state sync and catch-up, client, worker cores and CPU costs; what differs is
 * the data path, state-machine replication as in Mu: a worker coroutine takes the next index of
 * ONE log (fetch-and-add on a shared tail word), writes the command there and hands it to the
 * replicator thread, which sends it over the single shared QP per follower and commits in log
 * order; the leader's apply thread executes committed commands one at a time in log order; then
 * the worker replies (MuLog). Followers' apply threads execute the log in order too (applier).
 * The log is LoLKV's segment area with one entry per segment, so state sync and catch-up are
 * LoLKV's own; an entry's version is (term, index + 1).
 *
 * Cores: workers 0 … threads−1 (pipelineDepth coroutines each, as LoLKV's), the replicator (and
 * the shared CQ's poller) on core `threads`, the apply thread on core `threads + 1`.
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
  const cpu = new CpuCosts(opts.cpu);
  const repCore = opts.threads;
  const applyCore = opts.threads + 1;
  const shared = new Channel(p, 'mu.shared', repCore, opts.heartbeatNs);
  // Workers' own QPs serve only the GET read check (reads: 'read-check'); every log WRITE goes through `shared`.
  const channels = [shared, ...Array.from({ length: opts.threads }, (_, i) => new Channel(p, `mu.r${i}`, i, opts.heartbeatNs))];
  const logTail: Memory = p.memory.dram('mu.tail', 8);
  const syncEnv = { incarnations, buffers: new Map() };
  let current: LeaderTerm | null = null;
  let log: MuLog | null = null;

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
          const m = new MuLog(l, shared, table, cpu, last + 1);
          log = m;
          p.rt.spawn(`mu${term}.replicator`, () => m.replicator(), { core: repCore });
          p.rt.spawn(`mu${term}.apply`, () => m.applier(), { core: applyCore });
        },
      },
    );
    current = lt;
    log = null;
    return lt.start();
  };
  const leader = () => (current !== null && current.live ? current : null);

  /** Appends a command to the log and waits for the apply thread; null: abandoned (no reply). */
  function* command(lt: LeaderTerm, req: RpcRequest, key: string, value: string, read: boolean, reply: Reply, reqNs: number): Task<Applied | null> {
    const rt = p.rt;
    const term = lt.term;
    const m = log;
    const clientId = read ? (req.clientId | READ_COMMAND) >>> 0 : req.clientId;
    const size = objectBytes(key, value);
    if (m === null || size > eb) {
      yield* reply(req, { status: RES_RETRY, value: size > eb ? 'entry too large' : 'not ready', hint: r.me }, reqNs + cpu.reply);
      return null;
    }
    const idx = yield* logTail.faa64(0, 1); // the serialization point: one log tail for every thread
    if (idx >= opts.logEntries) {
      yield* reply(req, { status: RES_RETRY, value: 'log full', hint: r.me }, reqNs + cpu.reply);
      return null;
    }
    yield* rt.compute(reqNs + cpu.compose(size));
    const seg = lt.segments;
    seg.state[idx] = SEALED;
    seg.tail[idx] = size;
    seg.gen[idx] = seg.gen[idx]! + 1;
    const off = idx * eb;
    const inc = idx + 1;
    const bytes = encodeObject({ term, inc, wterm: term, gen: seg.gen[idx]!, clientId, reqId: req.reqId, key, value });
    yield* r.area.write(off, bytes);
    yield* r.area.persist(off, bytes.length);
    r.trace('replicate', { key, term, inc, seg: idx, off });
    return yield* m.submit(idx, off, bytes.length, rt.now() + opts.commitTimeoutNs, read, key, value, req.clientId, req.reqId);
  }

  const put: PutPath = function* (_env, lt, _ch, _i, req, key, value, reply, reqNs) {
    const out = yield* command(lt, req, key, value, false, reply, reqNs);
    if (out !== null) yield* reply(req, { status: RES_OK, value: null, hint: r.me }, cpu.reply);
  };

  const get: GetPath = function* (_env, lt, _ch, _i, req, key, reply, reqNs) {
    const out = yield* command(lt, req, key, '', true, reply, reqNs);
    if (out !== null) yield* reply(req, { status: RES_OK, value: out.value, hint: r.me }, cpu.reply);
  };

  const wopts = {
    commitTimeoutNs: opts.commitTimeoutNs,
    readCheckTimeoutNs: opts.readCheckTimeoutNs,
    pipelineDepth: opts.pipelineDepth,
    cpu,
    unsafe: { skipIncarnationCheck: false, skipGcSafety: false, skipReadCheck: false },
  };
  p.rt.spawn('monitor', () => monitor(r));
  p.rt.spawn('applier', () => applier(r, opts, cpu), { core: applyCore });
  for (let i = 0; i < opts.threads; i++) {
    const env: WorkerEnv = { r, opts: wopts, table, incarnations, channels, leader, put, userOf: (w) => w + 1 };
    if (opts.reads === 'log') env.get = get;
    p.rt.spawn(`worker${i}`, () => worker(env, i), { core: i });
  }
  return { role: () => r.role };
}
