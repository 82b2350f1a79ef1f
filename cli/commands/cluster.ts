import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EXIT, InputError } from '../errors.js';
import { flagBool, flagInt, flagStr, parseFlags } from '../flags.js';
import type { Io } from '../io.js';
import { defaultStateDir, requireNative, resolveConfig } from '../../native/cluster/cli-util.js';
import { type ClusterConfig, localClusterFile, readClusterConfig, writeClusterFile } from '../../native/cluster/config.js';
import { currentLeader, logFile, readStatus, replicaPid, replicaUp, startReplica, stopReplica, waitFor } from '../../native/cluster/procs.js';
import { PROTOCOLS } from '../../src/protocols/registry.js';

export const CLUSTER_HELP = `kvlab cluster up|down|status [--dir DIR] [--json]

  up      starts a local native cluster: one \`kvlab serve\` process per replica, on loopback.
          --config FILE     use this cluster file (default: write DIR/cluster.json)
          --servers N       replicas (default 3)          --base-port P   first port (default 47100)
          --protocol NAME   default lolkv                 --provider P    libfabric provider (default tcp)
          --persist M       auto (pmem_persist on real PM, pmem_msync on a plain file: durable across
                            machine crashes), flush (cache-line flushes only: on a plain file durable
                            across process crashes, not power loss), msync
          Waits until every replica is up and one leads (30 s).
  down    stops the replicas (SIGTERM, then SIGKILL after 3 s); --purge also deletes DIR.
  status  pid, boot and role of every replica.
DIR (default ${defaultStateDir()}) holds the pids, logs, and the cluster file / data unless --config says otherwise.`;

export async function clusterCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { dir: 'string', config: 'string', servers: 'int', 'base-port': 'int', protocol: 'string', provider: 'string', persist: 'string', json: 'bool', purge: 'bool', help: 'bool' });
  if (flagBool(p, 'help')) {
    io.stdout(CLUSTER_HELP);
    return EXIT.OK;
  }
  const [sub, ...extra] = p.positional;
  if (sub === undefined) throw new InputError('argv', '<up|down|status>', 'missing subcommand');
  if (extra.length > 0) throw new InputError('argv', extra[0]!, 'unexpected argument');
  const dir = resolve(flagStr(p, 'dir') ?? defaultStateDir());
  const json = flagBool(p, 'json');
  switch (sub) {
    case 'up':
      return up(p, dir, json, io);
    case 'down': {
      const { cfg } = resolveConfig(flagStr(p, 'config'), dir);
      const stopped: number[] = [];
      for (let i = 0; i < cfg.servers.length; i++) if (await stopReplica(dir, i)) stopped.push(i);
      if (flagBool(p, 'purge')) rmSync(dir, { recursive: true, force: true });
      if (json) io.stdout(JSON.stringify({ stopped }));
      else io.stdout(stopped.length === 0 ? `no replicas were running (${dir})` : `stopped replicas ${stopped.join(', ')}${flagBool(p, 'purge') ? `; removed ${dir}` : ''}`);
      return EXIT.OK;
    }
    case 'status': {
      const { cfg } = resolveConfig(flagStr(p, 'config'), dir);
      const rows = statusRows(cfg, dir);
      if (json) io.stdout(JSON.stringify({ config: cfg.file, replicas: rows }));
      else for (const r of rows) io.stdout(`node ${r.node}  ${r.address.padEnd(21)} ${r.up ? `up   pid ${r.pid}  boot ${r.boot}  ${r.role}` : 'down'}`);
      return EXIT.OK;
    }
    default:
      throw new InputError('argv', sub, 'unknown subcommand (up, down, status)');
  }
}

function statusRows(cfg: ClusterConfig, dir: string) {
  return cfg.servers.map((a, i) => {
    const s = readStatus(cfg, i);
    const up = replicaUp(cfg, dir, i);
    return { node: i, address: `${a.host}:${a.port}`, up, pid: up ? replicaPid(dir, i) : null, boot: up ? (s?.boot ?? null) : null, role: up ? (s?.role ?? '?') : 'down' };
  });
}

async function up(p: ReturnType<typeof parseFlags>, dir: string, json: boolean, io: Io): Promise<number> {
  let file = flagStr(p, 'config');
  mkdirSync(dir, { recursive: true });
  if (file === undefined) {
    const protocol = flagStr(p, 'protocol') ?? 'lolkv';
    if (PROTOCOLS[protocol] === undefined) throw new InputError('argv', '--protocol', `unknown protocol ${JSON.stringify(protocol)} (known: ${Object.keys(PROTOCOLS).join(', ')})`);
    file = join(dir, 'cluster.json');
    const persist = flagStr(p, 'persist') ?? 'auto';
    if (persist !== 'auto' && persist !== 'flush' && persist !== 'msync') throw new InputError('argv', '--persist', `expected auto, flush or msync, got ${JSON.stringify(persist)}`);
    writeClusterFile(file, localClusterFile({ servers: flagInt(p, 'servers', 3, 1, 64), basePort: flagInt(p, 'base-port', 47100, 1, 65000), protocol, provider: flagStr(p, 'provider') ?? 'tcp', persist }));
  } else {
    for (const f of ['servers', 'base-port', 'protocol', 'provider', 'persist']) if (p.flags[f] !== undefined) throw new InputError('argv', `--${f}`, 'not with --config (the cluster file says it)');
  }
  const cfg = readClusterConfig(file);
  requireNative();
  writeFileSync(join(dir, 'config'), `${cfg.file}\n`);
  const started: number[] = [];
  const exited = new Map<number, number | null>();
  for (let i = 0; i < cfg.servers.length; i++) {
    if (replicaPid(dir, i) !== null) continue;
    const child = startReplica(cfg, dir, i);
    child.once('exit', (code) => exited.set(i, code));
    started.push(i);
  }
  if (!json) io.stderr(`kvlab cluster: ${started.length === 0 ? 'all replicas already running' : `started replicas ${started.join(', ')}`}; waiting for a leader...`);
  // Done when all are up and one leads; given up at once when a replica process exits (bad address, ...).
  const ok = (await waitFor(() => exited.size > 0 || (cfg.servers.every((_, i) => replicaUp(cfg, dir, i)) && currentLeader(cfg, dir) >= 0), 30_000)) && exited.size === 0;
  const rows = statusRows(cfg, dir);
  if (json) io.stdout(JSON.stringify({ ok, config: cfg.file, dir, replicas: rows }));
  else {
    for (const r of rows) io.stdout(`node ${r.node}  ${r.address.padEnd(21)} ${r.up ? `up   pid ${r.pid}  boot ${r.boot}  ${r.role}` : 'down'}`);
    io.stdout(`cluster file ${cfg.file}; logs ${join(dir, 'logs')}; stop with: kvlab cluster down --dir ${dir}`);
  }
  if (!ok) {
    for (let i = 0; i < cfg.servers.length; i++) {
      let tail = '';
      try {
        tail = readFileSync(logFile(dir, i), 'utf8').trim().split('\n').slice(-3).join(' | ');
      } catch {
        // no log
      }
      io.stderr(`kvlab cluster: node ${i} log: ${tail}`);
    }
    if (exited.size > 0) {
      for (const i of started) if (!exited.has(i)) await stopReplica(dir, i);
      io.stderr(`kvlab cluster: replica${exited.size > 1 ? 's' : ''} ${[...exited.keys()].join(', ')} exited at start (see the log lines above); stopped the others`);
    } else io.stderr('kvlab cluster: the cluster did not come up with a leader within 30 s');
    return EXIT.VIOLATION;
  }
  return EXIT.OK;
}
