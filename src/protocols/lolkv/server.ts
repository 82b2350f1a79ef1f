import type { ClusterInfo, Platform } from '../../platform/index.js';
import type { ServerHandle } from '../protocol.js';
import { Channel } from './channel.js';
import { CpuCosts } from './cpu.js';
import { monitor } from './election.js';
import { gcThread } from './gc.js';
import { HashTable } from './hashtable.js';
import { Incarnations } from './incarnation.js';
import { keyHash, offOf } from './layout.js';
import { LeaderTerm } from './leader.js';
import { decodeObject } from './object.js';
import type { LolkvOptions } from './options.js';
import { Replica } from './replica.js';
import { Segments } from './segments.js';
import { syncState } from './sync.js';
import { worker } from './worker.js';

/**
 * Boots a LoLKV replica: its regions and registrations, the monitor thread (election), `threads`
 * worker threads, and — while it leads — the leader machinery of the term (follower managers,
 * state sync, catch-up, GC). Every replica boots the same way; roles come from elections.
 */
export function startServer(p: Platform, cluster: ClusterInfo, opts: LolkvOptions): ServerHandle {
  const segB = Math.floor(opts.segmentBytes / 8) * 8;
  const r = new Replica(p, cluster, {
    service: 'lolkv',
    tracePrefix: 'lolkv',
    areaBytes: opts.segments * segB,
    segmentBytes: segB,
    tableSlots: opts.tableSlots,
    fencing: !opts.unsafe.skipTermFencing,
    heartbeatNs: opts.heartbeatNs,
    electionTimeoutMinNs: opts.electionTimeoutMinNs,
    electionTimeoutMaxNs: Math.max(opts.electionTimeoutMaxNs, opts.electionTimeoutMinNs + 1),
    voteRetryNs: opts.voteRetryNs,
    stepDownNs: opts.stepDownNs,
  });
  const table = new HashTable(r.table, r.area, opts.tableSlots, segB, !opts.unsafe.skipTornCheck);
  const incarnations = new Incarnations(p, opts.incarnations);
  const gcUser = opts.threads;
  // Channel u belongs to worker core u (u < threads) or to the GC thread (u = threads, a core of its own).
  const channels = Array.from({ length: opts.threads + 1 }, (_, u) => new Channel(p, `lolkv.u${u}`, u, opts.heartbeatNs));
  const cpu = new CpuCosts(opts.cpu);
  const wopts = { ...opts, cpu };
  const syncEnv = { incarnations, buffers: new Map() };
  let current: LeaderTerm | null = null;

  r.onElected = (term) => {
    const lt = new LeaderTerm(
      r,
      term,
      { reconnectNs: opts.reconnectNs, connectTimeoutNs: opts.connectTimeoutNs, skipStateSync: opts.unsafe.skipStateSync, verify: !opts.unsafe.skipTornCheck },
      {
        channels,
        table,
        newSegments: () => new Segments(opts.segments, segB, opts.threads + 1, opts.gcReserveSegments),
        sync: (l, sources) => syncState(l, sources, syncEnv),
        onServing: (l) => void p.rt.spawn(`leader${term}.gc`, () => gcThread(l, channels[gcUser]!, gcUser, table, opts, cpu), { core: gcUser }),
      },
    );
    current = lt;
    return lt.start();
  };
  const leader = () => (current !== null && current.live ? current : null);

  p.rt.spawn('monitor', () => monitor(r));
  for (let i = 0; i < opts.threads; i++) p.rt.spawn(`worker${i}`, () => worker({ r, opts: wopts, table, incarnations, channels, leader }, i), { core: i });

  return {
    role: () => r.role,
    checkInvariants: () => {
      const lt = leader();
      return lt !== null && lt.serving ? tableInvariants(r, lt, opts) : [];
    },
  };
}

/**
 * At the end of a run, on a serving leader: every slot points at a valid object whose key probes
 * to that slot, and the segment table's live bytes match what the slots point at.
 */
function tableInvariants(r: Replica, lt: LeaderTerm, opts: LolkvOptions): string[] {
  const bad: string[] = [];
  const segB = r.cfg.segmentBytes;
  const live = new Float64Array(lt.segments.count);
  const slots = opts.tableSlots;
  const keyAt: (string | null)[] = new Array<string | null>(slots).fill(null);
  for (let i = 0; i < slots && bad.length < 5; i++) {
    const ptr = r.table.peek64(i * 8);
    if (ptr === 0) continue;
    const off = offOf(ptr);
    const s = Math.floor(off / segB);
    const d = decodeObject(r.area.peek(s * segB, segB), off - s * segB, segB, !opts.unsafe.skipTornCheck);
    if (d.kind !== 'ok') {
      bad.push(`slot ${i} points at an invalid object (segment ${s}, offset ${off - s * segB})`);
      continue;
    }
    keyAt[i] = d.obj.key;
    live[s] = live[s]! + d.obj.size;
  }
  for (let i = 0; i < slots && bad.length < 5; i++) {
    const k = keyAt[i];
    if (k === null || k === undefined) continue;
    for (let j = keyHash(k) % slots; j !== i; j = (j + 1) % slots) {
      if (r.table.peek64(j * 8) === 0) {
        bad.push(`key ${k} at slot ${i} is unreachable: empty slot ${j} on its probe path`);
        break;
      }
      if (keyAt[j] === k) {
        bad.push(`key ${k} occupies slots ${j} and ${i}`);
        break;
      }
    }
  }
  for (let s = 0; s < lt.segments.count && bad.length < 5; s++) {
    if (live[s] !== lt.segments.live[s]) bad.push(`segment ${s}: ${lt.segments.live[s]} live bytes accounted, ${live[s]} pointed at`);
  }
  return bad;
}
