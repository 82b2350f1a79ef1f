import type { ProtocolModule } from '../protocol.js';
import { LolkvClient } from './client.js';
import { type LolkvOptions, lolkvOptions } from './options.js';
import { startServer } from './server.js';

/**
 * LoLKV (seed 000): leader-based linearizable KV store with logless replication (one RDMA WRITE
 * commits an object on a follower, one asynchronous WRITE applies it there), a multi-threaded
 * shard over a lock-free hash table, the incarnation array, torn-write detection, elections with
 * state synchronization and term fencing, and garbage collection. Design: docs/lolkv.md.
 */
export const lolkvProtocol: ProtocolModule<LolkvOptions> = {
  name: 'lolkv',
  summary: 'LoLKV: logless replication (one RDMA WRITE per follower), multi-threaded shard, elections, state sync, GC',
  options: lolkvOptions,
  server(p, cluster, opts) {
    return startServer(p, cluster, opts);
  },
  client(p, cluster, opts, clientId) {
    return new LolkvClient(p, cluster, opts, clientId);
  },
};
