import type { ProtocolModule } from '../../protocol.js';
import { RowanKvClient } from './client.js';
import { type RowanKvOptions, rowanKvOptions } from './options.js';
import { type ReplicationMode, rowanMode, startServer } from './server.js';
import { batchMode } from '../../baselines/batch.js';
import { rpcMode } from '../../baselines/rpc.js';
import { writeMode } from '../../baselines/write.js';

/**
 * Rowan-KV (seed 001): a log-structured PM KV store with primary-backup replication through Rowan.
 * `replication` selects the baselines (src/protocols/baselines/): the same store replicating by
 * RPC, by RDMA WRITE into per-thread backup logs, or by batched RDMA WRITE.
 */
export type ModeFactory = (opts: RowanKvOptions, servers: number) => ReplicationMode;

const modes: Record<RowanKvOptions['replication'], ModeFactory> = { rowan: rowanMode, rpc: rpcMode, write: writeMode, batch: batchMode };

export function makeRowanKv(name: string, summary: string, forced?: RowanKvOptions['replication']): ProtocolModule<RowanKvOptions> {
  return {
    name,
    summary,
    options: {
      ...rowanKvOptions,
      parse(v: unknown, path: string): RowanKvOptions {
        const o = rowanKvOptions.parse(v, path);
        if (forced !== undefined) o.replication = forced;
        return o;
      },
      describe: (path: string) => rowanKvOptions.describe(path),
      typeName: rowanKvOptions.typeName,
      doc: rowanKvOptions.doc,
      defaultValue: rowanKvOptions.defaultValue,
    },
    server(p, cluster, opts) {
      return startServer(p, cluster, opts, modes[opts.replication](opts, cluster.servers.length));
    },
    client(p, cluster, opts, clientId) {
      return new RowanKvClient(p, cluster, opts, clientId);
    },
  };
}

export const rowanKvProtocol = makeRowanKv('rowankv', 'Rowan-KV: log-structured PM KV, primary-backup replication through Rowan (receiver-side write aggregation), CM with epochs and leases');
