/**
 * The cluster file of a native kvlab cluster (`kvlab serve --config`, `kvlab cluster`, `kvlab
 * load`, `kvlab crashtest`): which protocol, and where every node is.
 *
 *   {
 *     "protocol": { "name": "lolkv", "options": { "threads": 4 } },   // options over native/cluster/options.ts
 *     "seed": 1,
 *     "provider": "tcp",                                             // KVLAB_FI_PROVIDER values
 *     "dataDir": "data",                                             // relative to this file; node i uses <dataDir>/node<i>
 *     "persist": "auto",                                             // auto | flush | msync (native/adapter/memory.ts)
 *     "servers": [ { "host": "127.0.0.1", "port": 47100 }, ... ],    // node ids 0..S-1
 *     "clients": [ { "host": "127.0.0.1", "port": 47200 } ]          // node ids S..S+C-1 (kvlab load --client i)
 *   }
 *
 * Every node knows every other by this table (host + port of its main libfabric endpoint), so a
 * restarted process (same host and port, next boot from its data directory) is found again.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { InputError } from '../../src/kv/input-error.js';
import { SchemaError } from '../../src/kv/schema.js';
import type { ClusterInfo } from '../../src/platform/index.js';
import { PROTOCOLS } from '../../src/protocols/registry.js';
import type { PeerAddress } from '../adapter/driver.js';
import type { PersistMode } from '../adapter/memory.js';
import type { NativeNodeOptions } from '../adapter/node.js';
import { nativeProtocolOptions } from './options.js';

export interface NodeAddress {
  host: string;
  port: number;
}

export interface ClusterConfig {
  /** The file it was read from (absolute), for messages and for child processes. */
  file: string;
  protocol: { name: string; options: Record<string, unknown> };
  /** The protocol's options, validated, with the native defaults filled in. */
  options: unknown;
  seed: number;
  provider: string;
  /** Absolute. */
  dataDir: string;
  /** How PM ranges are made durable: auto (pmem_persist on real PM, else pmem_msync), flush, msync. */
  persist: PersistMode;
  servers: NodeAddress[];
  clients: NodeAddress[];
}

const TOP_FIELDS = ['protocol', 'seed', 'provider', 'dataDir', 'persist', 'servers', 'clients'];

export function parseClusterConfig(text: string, file: string): ClusterConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(file, '', `not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError(file, '', 'expected a JSON object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!TOP_FIELDS.includes(k)) throw new InputError(file, k, `unknown field (known: ${TOP_FIELDS.join(', ')})`);
  const proto = o['protocol'] ?? { name: 'lolkv' };
  if (typeof proto !== 'object' || proto === null || Array.isArray(proto)) throw new InputError(file, 'protocol', 'expected an object {name, options}');
  const p = proto as Record<string, unknown>;
  const name = p['name'] ?? 'lolkv';
  if (typeof name !== 'string' || PROTOCOLS[name] === undefined) throw new InputError(file, 'protocol.name', `unknown protocol ${JSON.stringify(name)} (known: ${Object.keys(PROTOCOLS).join(', ')})`);
  const overrides = p['options'] ?? {};
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) throw new InputError(file, 'protocol.options', 'expected an object');
  let options: unknown;
  try {
    options = PROTOCOLS[name]!.options.parse(nativeProtocolOptions(name, overrides as Record<string, unknown>), 'protocol.options');
  } catch (e) {
    if (e instanceof SchemaError) throw new InputError(file, e.path, e.reason);
    throw e;
  }
  const seed = o['seed'] ?? 1;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed)) throw new InputError(file, 'seed', 'expected an integer');
  const provider = o['provider'] ?? 'tcp';
  if (typeof provider !== 'string' || provider === '') throw new InputError(file, 'provider', 'expected a provider name (tcp, sockets, verbs, ...)');
  const dataDir = o['dataDir'] ?? 'data';
  if (typeof dataDir !== 'string' || dataDir === '') throw new InputError(file, 'dataDir', 'expected a directory name');
  const persist = o['persist'] ?? 'auto';
  if (persist !== 'auto' && persist !== 'flush' && persist !== 'msync') throw new InputError(file, 'persist', 'expected auto, flush or msync');
  const servers = addresses(o['servers'], file, 'servers', 1);
  const clients = addresses(o['clients'] ?? [], file, 'clients', 0);
  const seen = new Set<string>();
  for (const [i, a] of [...servers, ...clients].entries()) {
    const k = `${a.host}:${a.port}`;
    if (seen.has(k)) throw new InputError(file, i < servers.length ? `servers[${i}]` : `clients[${i - servers.length}]`, `address ${k} is used twice`);
    seen.add(k);
  }
  const abs = resolve(file);
  return {
    file: abs,
    protocol: { name, options: overrides as Record<string, unknown> },
    options,
    seed,
    provider,
    dataDir: isAbsolute(dataDir) ? dataDir : join(dirname(abs), dataDir),
    persist,
    servers,
    clients,
  };
}

function addresses(v: unknown, file: string, field: string, min: number): NodeAddress[] {
  if (!Array.isArray(v)) throw new InputError(file, field, 'expected an array of {host, port}');
  if (v.length < min) throw new InputError(file, field, `expected at least ${min} entr${min === 1 ? 'y' : 'ies'}`);
  return v.map((a: unknown, i) => {
    const at = `${field}[${i}]`;
    if (typeof a !== 'object' || a === null) throw new InputError(file, at, 'expected {host, port}');
    const r = a as Record<string, unknown>;
    for (const k of Object.keys(r)) if (k !== 'host' && k !== 'port') throw new InputError(file, `${at}.${k}`, 'unknown field (known: host, port)');
    const host = r['host'] ?? '127.0.0.1';
    const port = r['port'];
    if (typeof host !== 'string' || host === '') throw new InputError(file, `${at}.host`, 'expected a host name or address');
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(file, `${at}.port`, 'expected a port 1..65535');
    return { host, port };
  });
}

export function readClusterConfig(file: string): ClusterConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(file, '', `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseClusterConfig(text, file);
}

/** ClusterInfo of the protocol modules: servers 0..S-1, clients S..S+C-1. */
export function clusterInfo(c: ClusterConfig): ClusterInfo {
  return { servers: c.servers.map((_, i) => i), clients: c.clients.map((_, i) => c.servers.length + i) };
}

/** Node id → address (servers, then clients). */
export function peerTable(c: ClusterConfig): (node: number) => PeerAddress | undefined {
  const all = [...c.servers, ...c.clients];
  return (node) => all[node];
}

export function nodeDataDir(c: ClusterConfig, node: number): string {
  return node < c.servers.length ? join(c.dataDir, `node${node}`) : join(c.dataDir, `client${node - c.servers.length}`);
}

/** The NativeNode options of node `node` of the cluster (its address, directory, provider, seed), quiet. */
export function clusterNodeOptions(c: ClusterConfig, node: number, onPanic: NonNullable<NativeNodeOptions['onPanic']>): NativeNodeOptions {
  const addr = node < c.servers.length ? c.servers[node]! : c.clients[node - c.servers.length]!;
  return { nodeId: node, dataDir: nodeDataDir(c, node), peers: peerTable(c), host: addr.host, port: addr.port, provider: c.provider, persist: c.persist, seed: c.seed, quiet: true, onPanic };
}

/** A local cluster file: `servers` replicas and `clients` load generators on `host` from `basePort`. */
export function localClusterFile(opts: { servers?: number; clients?: number; host?: string; basePort?: number; protocol?: string; options?: Record<string, unknown>; seed?: number; provider?: string; dataDir?: string; persist?: PersistMode }): Record<string, unknown> {
  const host = opts.host ?? '127.0.0.1';
  const base = opts.basePort ?? 47100;
  return {
    protocol: { name: opts.protocol ?? 'lolkv', options: opts.options ?? {} },
    seed: opts.seed ?? 1,
    provider: opts.provider ?? 'tcp',
    dataDir: opts.dataDir ?? 'data',
    persist: opts.persist ?? 'auto',
    servers: Array.from({ length: opts.servers ?? 3 }, (_, i) => ({ host, port: base + i })),
    clients: Array.from({ length: opts.clients ?? 2 }, (_, i) => ({ host, port: base + 50 + i })),
  };
}

export function writeClusterFile(file: string, content: Record<string, unknown>): void {
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
}
