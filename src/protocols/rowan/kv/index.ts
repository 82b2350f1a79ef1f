import type { ProtocolModule } from '../../protocol.js';
import { RowanKvClient } from './client.js';
import { type RowanKvOptions, rowanKvOptions } from './options.js';
import { type ReplicationMode, rowanMode, startServer } from './server.js';

/**
 * Rowan-KV (seed 001): a log-structured PM KV store with primary-backup replication through Rowan.
 * `replication` selects the baselines (src/protocols/baselines/): the same store replicating by
 * RPC, by RDMA WRITE into per-thread backup logs, or by batched RDMA WRITE.
 */
export type ModeFactory = (opts: RowanKvOptions, servers: number) => ReplicationMode;

const modes: Partial<Record<RowanKvOptions['replication'], ModeFactory>> = { rowan: rowanMode };

/** Baselines register their modes here (src/protocols/baselines/index.ts). */
export function registerReplicationMode(name: RowanKvOptions['replication'], f: ModeFactory): void {
  modes[name] = f;
}

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
      const f = modes[opts.replication];
      if (f === undefined) throw new Error(`rowankv: replication mode ${opts.replication} is not available`);
      return startServer(p, cluster, opts, f(opts, cluster.servers.length));
    },
    client(p, cluster, opts, clientId) {
      return new RowanKvClient(p, cluster, opts, clientId);
    },
  };
}

export const rowanKvProtocol = makeRowanKv('rowankv', 'Rowan-KV: log-structured PM KV, primary-backup replication through Rowan (receiver-side write aggregation), CM with epochs and leases');
