import type { ClusterInfo, Platform, Task } from '../../../platform/index.js';
import type { ServerHandle } from '../../protocol.js';
import { runActivator } from './activate.js';
import { runAgent } from './agent.js';
import { BackupStore } from './backup.js';
import { startCm } from './cm.js';
import { initialConfig } from './config.js';
import { peekEntryHead } from './entry.js';
import type { RowanKvOptions } from './options.js';
import { PrimaryLog } from './plog.js';
import { type ReplicatorFactory, RowanReplicator } from './replicator.js';
import { runCleaner } from './gc.js';
import { runBackupCleaner } from './bclean.js';
import { ServerState } from './state.js';
import { runWorker } from './worker.js';

/** How the backup side ingests replication writes, and how primaries send them (per mode). */
export interface ReplicationMode {
  /** Builds a thread-private replicator. */
  replicator: ReplicatorFactory;
  /** Starts the backup side (listeners, threads). Rowan: the Rowan receiver and the digest. */
  startBackup(st: ServerState): Task<void>;
}

export function rowanMode(opts: RowanKvOptions, servers: number): ReplicationMode {
  return {
    replicator: (p, owner) => new RowanReplicator(p, opts, servers, owner),
    *startBackup(st) {
      const b = new BackupStore(st.p, opts);
      st.backup = b;
      // Frames an earlier boot received may be the only copy of a shard this server is now
      // primary of (every replica restarted): keep the newest version of each key by copying it
      // into the primary log before the ring is reused. Stale versions never win (newest wins).
      const newest = new Map<string, { bytes: Uint8Array; ver: number; shard: number; key: string; clientId: number; reqId: number }>();
      b.recoverEarlierBoots((bytes, at, len) => {
        const h = peekEntryHead(bytes, at, len);
        if (h.shard >= opts.shards) return;
        const d = st.dedup[h.shard]!;
        if ((d.get(h.clientId) ?? -1) < h.reqId) d.set(h.clientId, h.reqId);
        if (h.key === '') return;
        const id = `${h.shard}/${h.key}`;
        const cur = newest.get(id);
        if (cur === undefined || cur.ver < h.ver) newest.set(id, { bytes: bytes.slice(at, at + len), ...h });
      });
      for (const e of newest.values()) {
        const have = st.index[e.shard]!.get(e.key);
        if (have !== undefined && have.ver >= e.ver) continue;
        const off = yield* st.plog.append(opts.workers + 1, e.bytes);
        if (off < 0) break;
        st.install(e.shard, e.key, { off, len: e.bytes.length, ver: e.ver, clientId: e.clientId, reqId: e.reqId });
      }
      if (newest.size > 0) st.p.rt.trace('rowankv.backup-recovered', { objects: newest.size });
      yield* b.start(opts.digestIntervalNs);
    },
  };
}

/**
 * Boots a Rowan-KV server: recover the primary-log index from PM, start the backup side, the
 * agent, the workers, the reconfiguration thread and the cleaner; on the first server also the
 * configuration manager. Until the CM's first ping arrives the server knows only the initial
 * configuration and holds no lease, so it serves nothing.
 */
export function startServer(p: Platform, cluster: ClusterInfo, opts: RowanKvOptions, mode: ReplicationMode): ServerHandle {
  const owners = opts.workers + 3;
  const plog = new PrimaryLog(p, opts.segmentBytes, opts.segments, owners);
  const cfg0 = initialConfig(cluster.servers.length, opts.shards, opts.replicas);
  cfg0.epoch = 0;
  const st = new ServerState(p, cluster, opts, plog, cfg0);
  let recovered = 0;
  plog.recover((bytes, at, len, off) => {
    const h = peekEntryHead(bytes, at, len);
    if (h.shard >= opts.shards) return;
    st.install(h.shard, h.key, { off, len, ver: h.ver, clientId: h.clientId, reqId: h.reqId });
    recovered++;
  });
  p.rt.trace('rowankv.recovered', { objects: recovered, boot: p.rt.bootCount });
  p.rt.spawn('rk.boot', function* (): Task<void> {
    yield* mode.startBackup(st);
    p.rt.spawn('rk.agent', () => runAgent(st));
    for (let w = 0; w < opts.workers; w++) {
      const rep = mode.replicator(p, w);
      p.rt.spawn(`rk.worker${w}`, () => runWorker(st, w, rep));
    }
    const arep = mode.replicator(p, opts.workers + 1);
    p.rt.spawn('rk.activator', () => runActivator(st, arep, opts.workers + 1));
    p.rt.spawn('rk.cleaner', () => runCleaner(st, opts.workers));
    p.rt.spawn('rk.bcleaner', () => runBackupCleaner(st, opts.workers + 2));
    if (p.rt.nodeId === cluster.servers[0]) startCm(p, cluster, opts, st);
  });
  return {
    role: () => st.role,
    checkInvariants(): string[] {
      const bad: string[] = [];
      if (st.backup !== null) bad.push(...st.backup.rx.orderProblems);
      return bad;
    },
  };
}
