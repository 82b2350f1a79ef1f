import { crc32c } from '../../kv/checksum.js';
import { decodeUtf8, encodeUtf8, utf8Length } from '../../kv/codec.js';

/**
 * A LoLKV object as it lies in a segment (docs/lolkv.md, "Objects"):
 *
 *   [u32 crc][u32 length][u53 term][u53 inc][u53 wterm][u32 gen][u32 clientId][u53 reqId]
 *   [u16 keyLen][key][value][pad to 8]
 *
 * `length` counts the bytes up to the end of the value (no padding). The CRC-32C covers
 * [4, length): a torn object (some words new, some old; or a prefix of an interrupted WRITE) fails
 * it. (term, inc) is the object's *version* of its key; (wterm, gen) is its *write stamp* for the
 * location: the term of the leader that wrote it there and the reuse generation of the segment.
 * A GC copy keeps the version and gets a new stamp.
 */

export const HEADER_BYTES = 50;
const OFF_CRC = 0;
const OFF_LEN = 4;
const OFF_TERM = 8;
const OFF_INC = 16;
const OFF_WTERM = 24;
const OFF_GEN = 32;
const OFF_CLIENT = 36;
const OFF_REQ = 40;
const OFF_KEYLEN = 48;

/**
 * Mu baseline: a log entry whose clientId has this bit set is a read command (a GET ordered
 * through the log, with an empty value), not a version of its key. LoLKV's client ids are far
 * below it (the leader's in-flight set takes ids < 2^20), so a LoLKV object never has it.
 */
export const READ_COMMAND = 0x80000000;

export function isReadCommand(o: { clientId: number }): boolean {
  return o.clientId >= READ_COMMAND;
}

export interface ObjectFields {
  term: number;
  inc: number;
  wterm: number;
  gen: number;
  clientId: number;
  reqId: number;
  key: string;
  value: string;
}

export interface DecodedObject extends ObjectFields {
  /** Bytes the object occupies (padded to 8). */
  size: number;
  crc: number;
}

export function padded(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function put53(dv: DataView, off: number, v: number): void {
  dv.setUint32(off, v >>> 0, true);
  dv.setUint32(off + 4, Math.floor(v / 4294967296), true);
}

function get53(dv: DataView, off: number): number {
  return dv.getUint32(off, true) + dv.getUint32(off + 4, true) * 4294967296;
}

/** Bytes (padded) an object with this key and value occupies. */
export function objectBytes(key: string, value: string): number {
  return padded(HEADER_BYTES + utf8Length(key) + utf8Length(value));
}

/** ASCII strings as their bytes without an encoder (keys and values almost always are). */
function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

function putAscii(out: Uint8Array, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
}

export function encodeObject(o: ObjectFields): Uint8Array {
  if (isAscii(o.key) && isAscii(o.value)) return encodeWith(o, null, null, o.key.length, o.value.length);
  const k = encodeUtf8(o.key);
  const v = encodeUtf8(o.value);
  return encodeWith(o, k, v, k.length, v.length);
}

function encodeWith(o: ObjectFields, k: Uint8Array | null, v: Uint8Array | null, kLen: number, vLen: number): Uint8Array {
  const length = HEADER_BYTES + kLen + vLen;
  const out = new Uint8Array(padded(length));
  const dv = new DataView(out.buffer);
  dv.setUint32(OFF_LEN, length, true);
  put53(dv, OFF_TERM, o.term);
  put53(dv, OFF_INC, o.inc);
  put53(dv, OFF_WTERM, o.wterm);
  dv.setUint32(OFF_GEN, o.gen >>> 0, true);
  dv.setUint32(OFF_CLIENT, o.clientId >>> 0, true);
  put53(dv, OFF_REQ, o.reqId);
  dv.setUint16(OFF_KEYLEN, kLen, true);
  if (k === null) putAscii(out, HEADER_BYTES, o.key);
  else out.set(k, HEADER_BYTES);
  if (v === null) putAscii(out, HEADER_BYTES + kLen, o.value);
  else out.set(v, HEADER_BYTES + kLen);
  dv.setUint32(OFF_CRC, crc32c(out, 4, length), true);
  return out;
}

/** Bytes of the object whose header starts `bytes` (from its length field), or 0 if implausible. */
export function objectSize(bytes: Uint8Array, at: number, limit: number): number {
  if (at + 8 > bytes.length) return 0;
  const dv = new DataView(bytes.buffer, bytes.byteOffset + at, 8);
  const len = dv.getUint32(OFF_LEN, true);
  if (len < HEADER_BYTES || at + padded(len) > limit) return 0;
  return padded(len);
}

/** UTF-8 text of bytes[from, to): ASCII without a decoder call. */
function text(bytes: Uint8Array, from: number, to: number): string {
  if (to - from <= 4096) {
    let ascii = true;
    for (let i = from; i < to; i++) if (bytes[i]! >= 0x80) ascii = false;
    if (ascii) return String.fromCharCode.apply(null, bytes.subarray(from, to) as unknown as number[]);
  }
  return decodeUtf8(bytes.subarray(from, to));
}

export type Decode = { kind: 'ok'; obj: DecodedObject } | { kind: 'torn' } | { kind: 'empty' };

/**
 * Decodes the object at `bytes[at…]`, not reading past `limit`. `verify` false (the test-only
 * skipTornCheck) accepts any object whose fields parse.
 */
export function decodeObject(bytes: Uint8Array, at: number, limit: number, verify = true): Decode {
  if (at + HEADER_BYTES > limit) return { kind: 'empty' };
  const dv = new DataView(bytes.buffer, bytes.byteOffset + at, limit - at);
  const crc = dv.getUint32(OFF_CRC, true);
  const len = dv.getUint32(OFF_LEN, true);
  if (crc === 0 && len === 0) return { kind: 'empty' };
  if (len < HEADER_BYTES || at + len > limit) return { kind: 'torn' };
  if (verify && crc32c(bytes, at + 4, at + len) !== crc) return { kind: 'torn' };
  const keyLen = dv.getUint16(OFF_KEYLEN, true);
  if (HEADER_BYTES + keyLen > len) return { kind: 'torn' };
  let key: string;
  let value: string;
  try {
    key = text(bytes, at + HEADER_BYTES, at + HEADER_BYTES + keyLen);
    value = text(bytes, at + HEADER_BYTES + keyLen, at + len);
  } catch {
    return { kind: 'torn' };
  }
  return {
    kind: 'ok',
    obj: {
      term: get53(dv, OFF_TERM),
      inc: get53(dv, OFF_INC),
      wterm: get53(dv, OFF_WTERM),
      gen: dv.getUint32(OFF_GEN, true),
      clientId: dv.getUint32(OFF_CLIENT, true),
      reqId: get53(dv, OFF_REQ),
      key,
      value,
      size: padded(len),
      crc,
    },
  };
}

/** Version order of one key's objects: (term, inc) lexicographic. Positive if a is newer. */
export function compareVersion(a: { term: number; inc: number }, b: { term: number; inc: number }): number {
  return a.term !== b.term ? a.term - b.term : a.inc - b.inc;
}

/** Location order (who wrote a location last): (wterm, gen) lexicographic. Positive if a is later. */
export function compareStamp(a: { wterm: number; gen: number }, b: { wterm: number; gen: number }): number {
  return a.wterm !== b.wterm ? a.wterm - b.wterm : a.gen - b.gen;
}
