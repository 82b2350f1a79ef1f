import { crc32c } from '../../kv/checksum.js';
import { DecodeError, Reader, Writer } from '../../kv/codec.js';

/**
 * A log record of the register store, as it lies in PM:
 *
 *   [u32 crc][u32 bodyLength][body][padding to 8 bytes]
 *   body = [u53 seq][u32 clientId][u53 reqId][u8 op][key][value]
 *
 * The CRC covers the length field and the body, so a torn record (some words new, some old, or a
 * prefix of an RDMA WRITE) is rejected. A zero length word marks the end of the log.
 */

export const OP_PUT = 1;
export const OP_CAS = 2;

export interface LogRecord {
  seq: number;
  clientId: number;
  reqId: number;
  op: number;
  key: string;
  value: string;
}

export function encodeRecord(r: LogRecord): Uint8Array {
  const body = new Writer(32 + r.key.length * 3 + r.value.length * 3).u53(r.seq).u32(r.clientId).u53(r.reqId).u8(r.op).str(r.key).str(r.value).finish();
  const total = Math.ceil((8 + body.length) / 8) * 8;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, body.length, true);
  out.set(body, 8);
  dv.setUint32(0, crc32c(out, 4, 8 + body.length), true);
  return out;
}

export type Decoded = { kind: 'end' } | { kind: 'torn' } | { kind: 'record'; record: LogRecord; sizeBytes: number };

/** Decodes the record at the start of `bytes` (which may extend past it). */
export function decodeRecord(bytes: Uint8Array, verifyCrc = true): Decoded {
  if (bytes.length < 8) return { kind: 'end' };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const crc = dv.getUint32(0, true);
  const len = dv.getUint32(4, true);
  if (len === 0 && crc === 0) return { kind: 'end' };
  if (len > bytes.length - 8) return { kind: 'torn' };
  if (verifyCrc && crc32c(bytes, 4, 8 + len) !== crc) return { kind: 'torn' };
  try {
    const r = new Reader(bytes.subarray(8, 8 + len));
    const record: LogRecord = { seq: r.u53(), clientId: r.u32(), reqId: r.u53(), op: r.u8(), key: r.str(), value: r.str() };
    return { kind: 'record', record, sizeBytes: Math.ceil((8 + len) / 8) * 8 };
  } catch (e) {
    if (e instanceof DecodeError) return { kind: 'torn' };
    throw e;
  }
}
