import { Reader, Writer } from '../../../kv/codec.js';

/**
 * The configuration the configuration manager (CM) owns: for every shard its primary, its backups,
 * a node being caught up to become a backup (`joining`), and a backup the primary is handing the
 * shard to (`handoff`, resharding). Every change makes a new epoch.
 */
export interface ShardConfig {
  primary: number;
  backups: number[];
  joining: number;
  /** The joining node has adopted the configuration that names it (data may flow to it now). */
  joinReady: boolean;
  handoff: number;
}

export interface Config {
  epoch: number;
  shards: ShardConfig[];
}

export function initialConfig(servers: number, shards: number, replicas: number): Config {
  const r = Math.min(replicas, servers);
  const out: ShardConfig[] = [];
  for (let s = 0; s < shards; s++) {
    const p = s % servers;
    const backups: number[] = [];
    for (let k = 1; k < r; k++) backups.push((p + k) % servers);
    out.push({ primary: p, backups, joining: -1, joinReady: false, handoff: -1 });
  }
  return { epoch: 1, shards: out };
}

export function cloneConfig(c: Config): Config {
  return { epoch: c.epoch, shards: c.shards.map((x) => ({ primary: x.primary, backups: [...x.backups], joining: x.joining, joinReady: x.joinReady, handoff: x.handoff })) };
}

export function encodeConfig(c: Config, w: Writer = new Writer(16 + c.shards.length * 8)): Writer {
  w.u53(c.epoch).u16(c.shards.length);
  for (const x of c.shards) {
    w.u8(x.primary).u8(x.joining + 1).u8(x.joinReady ? 1 : 0).u8(x.handoff + 1).u8(x.backups.length);
    for (const b of x.backups) w.u8(b);
  }
  return w;
}

export function decodeConfig(r: Reader): Config {
  const epoch = r.u53();
  const n = r.u16();
  const shards: ShardConfig[] = [];
  for (let i = 0; i < n; i++) {
    const primary = r.u8();
    const joining = r.u8() - 1;
    const joinReady = r.u8() === 1;
    const handoff = r.u8() - 1;
    const nb = r.u8();
    const backups: number[] = [];
    for (let k = 0; k < nb; k++) backups.push(r.u8());
    shards.push({ primary, backups, joining, joinReady, handoff });
  }
  return { epoch, shards };
}

/**
 * Nodes a primary must have every committed write on: backups, and a joining node once it knows
 * it is joining (before that, frames reaching it could be taken for garbage of a shard it left).
 */
export function replicaTargets(x: ShardConfig): number[] {
  return x.joining >= 0 && x.joinReady ? [...x.backups, x.joining] : x.backups;
}

export function isMember(x: ShardConfig, n: number): boolean {
  return x.primary === n || x.backups.includes(n);
}

/** FNV-1a of the key, then modulo: the shard of a key (clients and servers agree). */
export function shardOf(key: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % shards;
}
