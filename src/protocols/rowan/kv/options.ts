import { s, type SchemaType } from '../../../kv/schema.js';

const replicationField = s.oneOf(['rowan', 'rpc', 'write', 'batch'] as const, {
  default: 'rowan',
  doc: 'How a primary replicates to backups: rowan (SEND into the backup log via Rowan), rpc (backup CPUs receive, persist, reply), write (RDMA WRITE into one backup log per remote thread, FaRM-style), batch (batched RDMA WRITE: flush at batchBytes or batchTimeoutNs).',
});
const flushField = s.oneOf(['read', 'none'] as const, { default: 'read', doc: 'Remote persistence: read = an RDMA READ after each remote write (DDIO off, the seed); none = trust the ACK.' });

export const rowanKvOptions = s.obj({
  replication: replicationField,
  shards: s.int({ min: 1, max: 1024, default: 12, doc: 'Shards (key → shard by hash).' }),
  replicas: s.int({ min: 1, max: 8, default: 3, doc: 'Replication factor: a primary and replicas-1 backups per shard.' }),
  workers: s.int({ min: 1, max: 64, default: 2, doc: 'Worker threads per server; each has its own UD port, RDMA resources and primary log segment.' }),
  segmentBytes: s.int({ min: 1024, max: 1 << 26, default: 32 << 10, doc: 'Primary-log segment size.' }),
  segments: s.int({ min: 4, max: 1 << 16, default: 32, doc: 'Primary-log segments per server.' }),
  backupBuffers: s.int({ min: 4, max: 1 << 16, default: 64, doc: 'Rowan receive buffers (the backup log ring).' }),
  backupBufferBytes: s.int({ min: 4096, max: 1 << 26, default: 64 << 10, doc: 'Bytes per Rowan receive buffer (multi-packet, 64-byte stride).' }),
  postBatch: s.int({ min: 1, max: 64, default: 2, doc: 'Rowan: buffers the control thread posts at a time.' }),
  flush: flushField,
  computeNs: s.int({ min: 0, default: 300, doc: 'CPU time a worker spends on one request (parsing, hashing, composing).' }),
  pingNs: s.int({ min: 1000, default: 20_000, doc: 'CM → server heartbeat period (carries the configuration and a lease).' }),
  leaseNs: s.int({ min: 1000, default: 100_000, doc: 'Lease a ping grants: a primary serves only while it holds one.' }),
  suspectNs: s.int({ min: 1000, default: 120_000, doc: 'CM: a server that has not answered a ping for this long is suspected.' }),
  reshardEveryNs: s.int({ min: 0, default: 0, doc: 'CM: move one shard\'s primary to one of its backups this often (0 = never).' }),
  digestIntervalNs: s.int({ min: 100, default: 10_000, doc: 'Backup digest thread period.' }),
  gcIntervalNs: s.int({ min: 100, default: 20_000, doc: 'Cleaner period.' }),
  gcFreeSegments: s.int({ min: 1, default: 8, doc: 'Clean when fewer primary-log segments than this are free.' }),
  gcGraceNs: s.int({ min: 0, default: 100_000, doc: 'A cleaned segment is reused only after this long (readers of old pointers finish first).' }),
  attemptTimeoutNs: s.int({ min: 1000, default: 100_000, doc: 'Client: resend after this long without a reply.' }),
  opDeadlineNs: s.int({ min: 1000, default: 20_000_000, doc: 'Client: give up (put → info, get → fail).' }),
  batchBytes: s.int({ min: 64, default: 256, doc: 'batch: flush a batch when it holds this many bytes.' }),
  batchTimeoutNs: s.int({ min: 100, default: 5_000, doc: 'batch: flush a batch this long after its first entry.' }),
  rpcThreads: s.int({ min: 1, max: 64, default: 2, doc: 'rpc: backup threads that receive, persist and answer replication RPCs.' }),
  rpcComputeNs: s.int({ min: 0, default: 400, doc: 'rpc: backup CPU time per replication RPC (besides the PM write and persist).' }),
  unsafe: s.obj(
    {
      ackBeforeBackups: s.bool({ default: false, doc: 'TEST ONLY: reply to a PUT without waiting for the backups\' ACKs.' }),
      reverseRepost: s.bool({ default: false, doc: 'TEST ONLY: the Rowan control thread posts each batch of buffers in decreasing address order.' }),
      skipEpochCheck: s.bool({ default: false, doc: 'TEST ONLY: primaries serve without a valid lease, and the CM promotes without waiting for the old primary\'s lease.' }),
      cleanReferenced: s.bool({ default: false, doc: 'TEST ONLY: the cleaner frees a segment without relocating the objects the index still points at.' }),
    },
    { doc: 'Test-only switches that disable a safety mechanism, to prove the checks catch it.' },
  ),
});

export type RowanKvOptions = SchemaType<typeof rowanKvOptions>;

/** UD port of worker i (clients → primary). */
export function workerPort(i: number): number {
  return 200 + i;
}

/** UD port of the server agent (CM pings). */
export const AGENT_PORT = 190;
export const ROWAN_SERVICE = 'rk.rowan';
export const TAG_EPOCH = 2 ** 32;
