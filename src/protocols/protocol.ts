import type { ClusterInfo, Platform, Task } from '../platform/index.js';
import type { Schema } from '../kv/schema.js';

/**
 * How a protocol plugs into kvlab. A scenario names a protocol; the harness (simulator or native)
 * boots `server` on every server node — again after every restart, with the PM regions that
 * survived — and builds one `client` per client thread.
 */
export interface ProtocolModule<O = unknown> {
  readonly name: string;
  /** One line for `kvlab` help and docs. */
  readonly summary: string;
  /** Protocol options (scenario `protocol.options`), validated with defaults. Test-only switches live under `unsafe`. */
  readonly options: Schema<O>;
  /** Boots a server node. Spawns its threads and returns at once. */
  server(p: Platform, cluster: ClusterInfo, opts: O): ServerHandle;
  /** A client library instance, used by one client thread at a time. */
  client(p: Platform, cluster: ClusterInfo, opts: O, clientId: number): KvClient;
}

/** What the harness may ask a running server (introspection for fault targeting and checks). */
export interface ServerHandle {
  /** e.g. "leader", "follower", "primary", "backup", "recovering", "idle". */
  role(): string;
  /** Violated protocol invariants at this instant (checked when the run ends), empty when all hold. */
  checkInvariants?(): string[];
}

export type OpResult<T> =
  | { type: 'ok'; value: T }
  /** Certainly did not take effect (e.g. rejected before any replication). */
  | { type: 'fail'; error: string }
  /** Unknown: timed out or the server failed mid-operation; it may or may not take effect. */
  | { type: 'info'; error: string };

/** A client of a linearizable KV store. Values are strings; null = absent. */
export interface KvClient {
  get(key: string): Task<OpResult<string | null>>;
  put(key: string, value: string): Task<OpResult<null>>;
  /** Optional operations; the workload only issues what the client has. */
  append?(key: string, value: string): Task<OpResult<null>>;
  /** Swaps when the current value equals `expected` (null = absent): ok(true) swapped; ok(false) did not. */
  cas?(key: string, expected: string | null, value: string): Task<OpResult<boolean>>;
  /** Up to `count` pairs with keys ≥ start in key order (YCSB-E); not part of checked histories. */
  scan?(start: string, count: number): Task<OpResult<[string, string][]>>;
}

export function ok<T>(value: T): OpResult<T> {
  return { type: 'ok', value };
}

export function fail<T>(error: string): OpResult<T> {
  return { type: 'fail', error };
}

export function info<T>(error: string): OpResult<T> {
  return { type: 'info', error };
}
