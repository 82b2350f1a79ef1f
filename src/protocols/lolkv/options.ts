import { s, type SchemaType } from '../../kv/schema.js';
import { cpuOptions } from './cpu.js';

/**
 * Options of LoLKV (scenario `protocol.options`). Every field has a default; the defaults suit the
 * simulator's correctness scenarios (small storage so that elections, catch-up and GC are cheap).
 * See docs/lolkv.md.
 */
export const lolkvOptions = s.obj({
  threads: s.int({ min: 1, max: 64, default: 8, doc: 'Worker threads per server; each has its own QPs to every replica and its own UD port.' }),
  pipelineDepth: s.int({ min: 1, max: 256, default: 8, doc: 'Request coroutines per worker core: each serves one request at a time, sharing the worker\'s UD endpoint, CQ and QPs; the core time-shares their CPU work.' }),
  cpu: cpuOptions,
  segments: s.int({ min: 4, max: 1 << 20, default: 64, doc: 'Segments in the segment area (same layout on every replica).' }),
  segmentBytes: s.int({ min: 128, max: 1 << 26, default: 4096, doc: 'Bytes per segment (a multiple of 8).' }),
  tableSlots: s.int({ min: 16, max: 1 << 26, default: 4096, doc: '8-byte slots of the lock-free linear-probing hash table.' }),
  incarnations: s.int({ min: 1, max: 1 << 22, default: 1024, doc: 'Atomic counters of the incarnation array (indexed by key hash).' }),
  heartbeatNs: s.int({ min: 1000, default: 10_000, doc: 'Leader: heartbeat WRITE interval.' }),
  electionTimeoutMinNs: s.int({ min: 1000, default: 300_000, doc: 'Follower: no heartbeat progress for a random time in [min, max) starts an election.' }),
  electionTimeoutMaxNs: s.int({ min: 1000, default: 600_000, doc: 'See electionTimeoutMinNs.' }),
  voteRetryNs: s.int({ min: 1000, default: 50_000, doc: 'Candidate: resend vote requests to replicas that have not answered.' }),
  stepDownNs: s.int({ min: 1000, default: 600_000, doc: 'Leader: step down when fewer than a majority acknowledged a heartbeat for this long.' }),
  reconnectNs: s.int({ min: 1000, default: 30_000, doc: 'Leader: retry interval for (re)connecting to a follower.' }),
  connectTimeoutNs: s.int({ min: 1000, default: 40_000, doc: 'Leader: connection attempt timeout.' }),
  commitTimeoutNs: s.int({ min: 1000, default: 300_000, doc: 'Leader: a PUT not committed within this time is abandoned without a reply (the client retries).' }),
  readCheckTimeoutNs: s.int({ min: 1000, default: 200_000, doc: 'Leader: a GET whose read check does not complete within this time is abandoned.' }),
  gcIntervalNs: s.int({ min: 1000, default: 20_000, doc: 'Leader: GC thread period.' }),
  gcLiveThreshold: s.num({ min: 0, max: 1, default: 0.5, doc: 'GC collects sealed segments whose live fraction is below this.' }),
  gcGraceNs: s.int({ min: 0, default: 200_000, doc: 'A freed segment is reused only after this grace period (longer than any local read).' }),
  gcReserveSegments: s.int({ min: 1, default: 2, doc: 'Free segments only the GC thread may take (so GC can always make progress).' }),
  attemptTimeoutNs: s.int({ min: 1000, default: 100_000, doc: 'Client: resend (or try another replica) after this long without a reply.' }),
  opDeadlineNs: s.int({ min: 1000, default: 10_000_000, doc: 'Client: give up after this long (put → info, get → fail).' }),
  unsafe: s.obj(
    {
      skipIncarnationCheck: s.bool({ default: false, doc: 'TEST ONLY: apply a PUT even if the slot holds a newer version.' }),
      skipTornCheck: s.bool({ default: false, doc: 'TEST ONLY: trust objects without checking their CRC (apply, GET, state sync).' }),
      skipStateSync: s.bool({ default: false, doc: 'TEST ONLY: a new leader serves from its own storage without reading the voters.' }),
      skipTermFencing: s.bool({ default: false, doc: 'TEST ONLY: no revocation of older leaders when a replica moves to a new term; no term check on connect.' }),
      skipGcSafety: s.bool({ default: false, doc: 'TEST ONLY: reuse freed segments at once and do not re-check the slot after reading an object.' }),
      skipReadCheck: s.bool({ default: false, doc: 'TEST ONLY: GETs reply without the majority term check.' }),
    },
    { doc: 'Test-only switches that disable a safety mechanism, to prove the checks catch it.' },
  ),
});

export type LolkvOptions = SchemaType<typeof lolkvOptions>;

/** UD port of worker thread i (every replica listens on all of them; only the leader serves). */
export function workerPort(i: number): number {
  return 100 + i;
}

/** UD port of the monitor thread (votes). */
export const MONITOR_PORT = 90;
