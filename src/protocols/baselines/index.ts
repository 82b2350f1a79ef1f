import { makeRowanKv } from '../rowan/kv/index.js';

/**
 * The replication baselines of seed 001: the same Rowan-KV store, replicating by RPC, by RDMA
 * WRITE into one backup log per remote thread, or by batched RDMA WRITE. (Each is also reachable as
 * `rowankv` with `replication: "rpc" | "write" | "batch"`.) Bench-only: no failover.
 */
export const rowanKvRpcProtocol = makeRowanKv('rowankv-rpc', 'Rowan-KV baseline: RPC replication (backup CPUs receive, persist, reply)', 'rpc');
export const rowanKvWriteProtocol = makeRowanKv('rowankv-write', 'Rowan-KV baseline: RDMA WRITE replication into one backup log per remote thread (FaRM-style)', 'write');
export const rowanKvBatchProtocol = makeRowanKv('rowankv-batch', 'Rowan-KV baseline: batched RDMA WRITE replication (flush at 256 B or 5 us)', 'batch');
