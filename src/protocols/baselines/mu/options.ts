import { s, type SchemaType } from '../../../kv/schema.js';
import { cpuOptions } from '../../lolkv/cpu.js';

/** Options of the Mu-style log-based baseline (scenario `protocol.options`). */
export const muOptions = s.obj({
  threads: s.int({ min: 1, max: 64, default: 8, doc: 'Worker threads (cores) on the leader (each its own UD port); they share one log and one QP per follower.' }),
  pipelineDepth: s.int({ min: 1, max: 256, default: 8, doc: 'Request coroutines per worker core, as LoLKV\'s.' }),
  cpu: cpuOptions,
  reads: s.oneOf(['log', 'read-check'] as const, {
    default: 'log',
    doc: 'log: every request is a command of the replicated state machine (Mu) — a GET is appended, committed and executed in log order by the apply thread; read-check: GETs are served by a worker from the leader\'s table with LoLKV\'s read check (an optimization Mu does not have).',
  }),
  logEntries: s.int({ min: 16, max: 1 << 24, default: 8192, doc: 'Entries of the replicated log (no recycling: size it for the run).' }),
  entryBytes: s.int({ min: 128, max: 1 << 16, default: 256, doc: 'Bytes per log entry slot (a multiple of 8).' }),
  tableSlots: s.int({ min: 16, max: 1 << 26, default: 4096, doc: 'Slots of each replica\'s hash table (pointing into its log).' }),
  applyPollNs: s.int({ min: 100, default: 2000, doc: 'Follower apply thread: poll interval when the next entry is not there yet.' }),
  holeTimeoutNs: s.int({ min: 1000, default: 500_000, doc: 'Follower apply thread: skip an entry still missing this long after a later one arrived.' }),
  heartbeatNs: s.int({ min: 1000, default: 10_000 }),
  electionTimeoutMinNs: s.int({ min: 1000, default: 300_000 }),
  electionTimeoutMaxNs: s.int({ min: 1000, default: 600_000 }),
  voteRetryNs: s.int({ min: 1000, default: 50_000 }),
  stepDownNs: s.int({ min: 1000, default: 600_000 }),
  reconnectNs: s.int({ min: 1000, default: 30_000 }),
  connectTimeoutNs: s.int({ min: 1000, default: 40_000 }),
  commitTimeoutNs: s.int({ min: 1000, default: 300_000 }),
  readCheckTimeoutNs: s.int({ min: 1000, default: 200_000 }),
  attemptTimeoutNs: s.int({ min: 1000, default: 100_000 }),
  opDeadlineNs: s.int({ min: 1000, default: 10_000_000 }),
});

export type MuOptions = SchemaType<typeof muOptions>;
