import { Reader, Writer } from '../../../kv/codec.js';
import { FRAME_HEADER, seal } from '../frame.js';

/**
 * A Rowan-KV object as it lies in a log (primary log, backup log): a Rowan frame whose payload is
 *
 *   u16 shard, u32 clientId, u53 reqId, u53 ver, str key, str value
 *
 * `ver` orders versions of a key: tenureEpoch · 2^32 + n, where tenureEpoch is the configuration
 * epoch in which the writing primary took the shard over (newer tenures write larger versions).
 */
export interface KvEntry {
  shard: number;
  clientId: number;
  reqId: number;
  ver: number;
  key: string;
  value: string;
}

export function encodeEntry(e: KvEntry): Uint8Array {
  const w = new Writer(64 + e.key.length * 3 + e.value.length * 3);
  w.bytes(ZERO_HEADER).u16(e.shard).u32(e.clientId).u53(e.reqId).u53(e.ver).str(e.key).str(e.value);
  const frame = w.finish();
  seal(frame);
  return frame;
}

const ZERO_HEADER = new Uint8Array(FRAME_HEADER);

/** Decodes the entry framed at bytes[at, at+len) (the frame already validated). */
export function decodeEntry(bytes: Uint8Array, at: number, len: number): KvEntry {
  const r = new Reader(bytes.subarray(at + FRAME_HEADER, at + len));
  return { shard: r.u16(), clientId: r.u32(), reqId: r.u53(), ver: r.u53(), key: r.str(), value: r.str() };
}

/** Just the shard, version and key (the digest's needs), without decoding the value. */
export function peekEntryHead(bytes: Uint8Array, at: number, len: number): { shard: number; ver: number; key: string; clientId: number; reqId: number } {
  const r = new Reader(bytes.subarray(at + FRAME_HEADER, at + len));
  const shard = r.u16();
  const clientId = r.u32();
  const reqId = r.u53();
  const ver = r.u53();
  return { shard, clientId, reqId, ver, key: r.str() };
}
