import { Reader, Writer } from '../../kv/codec.js';

/** Client ↔ primary messages of the register store. */

export const REQ_GET = 1;
export const REQ_PUT = 2;
export const REQ_CAS = 3;

export type Request = { op: typeof REQ_GET; key: string } | { op: typeof REQ_PUT; key: string; value: string } | { op: typeof REQ_CAS; key: string; expected: string | null; value: string };

export const RES_OK = 1;
export const RES_CAS_FALSE = 2;
export const RES_FAIL = 3;

export interface Response {
  status: number;
  value: string | null;
}

export function encodeRequest(q: Request): Uint8Array {
  const w = new Writer().u8(q.op).str(q.key);
  if (q.op === REQ_PUT) w.str(q.value);
  if (q.op === REQ_CAS) w.strOrNull(q.expected).str(q.value);
  return w.finish();
}

export function decodeRequest(b: Uint8Array): Request {
  const r = new Reader(b);
  const op = r.u8();
  const key = r.str();
  if (op === REQ_GET) return { op, key };
  if (op === REQ_PUT) return { op, key, value: r.str() };
  if (op === REQ_CAS) return { op, key, expected: r.strOrNull(), value: r.str() };
  throw new Error(`unknown request op ${op}`);
}

export function encodeResponse(x: Response): Uint8Array {
  return new Writer().u8(x.status).strOrNull(x.value).finish();
}

export function decodeResponse(b: Uint8Array): Response {
  const r = new Reader(b);
  return { status: r.u8(), value: r.strOrNull() };
}
