import { Reader, Writer } from '../../../kv/codec.js';
import { type Config, decodeConfig, encodeConfig } from './config.js';

/** Client → server requests and replies (UD RPC bodies), CM ↔ agent pings. */

export const OP_GET = 1;
export const OP_PUT = 2;
export const OP_CONFIG = 3;

export const ST_OK = 1;
/** Not the primary of the key's shard in the server's configuration (the client refreshes its own). */
export const ST_NOT_PRIMARY = 2;
/** The primary cannot serve right now (activating, handing off, no lease): retry. */
export const ST_RETRY = 3;

export type Request = { op: typeof OP_GET; key: string } | { op: typeof OP_PUT; key: string; value: string } | { op: typeof OP_CONFIG };

export function encodeRequest(q: Request): Uint8Array {
  const w = new Writer(32).u8(q.op);
  if (q.op !== OP_CONFIG) w.str(q.key);
  if (q.op === OP_PUT) w.str(q.value);
  return w.finish();
}

export function decodeRequest(b: Uint8Array): Request {
  const r = new Reader(b);
  const op = r.u8();
  if (op === OP_CONFIG) return { op };
  const key = r.str();
  if (op === OP_GET) return { op, key };
  if (op === OP_PUT) return { op, key, value: r.str() };
  throw new Error(`rowankv: unknown request op ${op}`);
}

export function encodeReply(status: number, value: string | null): Uint8Array {
  return new Writer(8 + (value?.length ?? 0) * 3).u8(status).strOrNull(value).finish();
}

export function encodeConfigReply(c: Config): Uint8Array {
  return encodeConfig(c, new Writer(64).u8(ST_OK)).finish();
}

/** A CM ping: the configuration and a lease (absolute time; 0 = none). */
export interface Ping {
  config: Config;
  leaseUntil: number;
}

export function encodePing(p: Ping): Uint8Array {
  return encodeConfig(p.config, new Writer(64).u53(p.leaseUntil)).finish();
}

export function decodePing(b: Uint8Array): Ping {
  const r = new Reader(b);
  const leaseUntil = r.u53();
  return { leaseUntil, config: decodeConfig(r) };
}

/** What a server reports to the CM in its ping reply. */
export const REPORT_RELEASED = 1;
export const REPORT_CAUGHT_UP = 2;

export interface Report {
  kind: number;
  shard: number;
  node: number;
  epoch: number;
}

export interface Pong {
  bootCount: number;
  epoch: number;
  reports: Report[];
}

export function encodePong(p: Pong): Uint8Array {
  const w = new Writer(32).u32(p.bootCount).u53(p.epoch).u16(p.reports.length);
  for (const x of p.reports) w.u8(x.kind).u16(x.shard).u8(x.node).u53(x.epoch);
  return w.finish();
}

export function decodePong(b: Uint8Array): Pong {
  const r = new Reader(b);
  const bootCount = r.u32();
  const epoch = r.u53();
  const n = r.u16();
  const reports: Report[] = [];
  for (let i = 0; i < n; i++) reports.push({ kind: r.u8(), shard: r.u16(), node: r.u8(), epoch: r.u53() });
  return { bootCount, epoch, reports };
}
