import { Reader, Writer } from '../../kv/codec.js';

/** Client ↔ server requests (over UD RPC) and replica ↔ replica election messages. */

export const REQ_GET = 1;
export const REQ_PUT = 2;

export type Request = { op: typeof REQ_GET; key: string } | { op: typeof REQ_PUT; key: string; value: string };

export const RES_OK = 1;
/** Not the leader; `hint` is the replica's best guess (-1: none). */
export const RES_NOT_LEADER = 2;
/** The leader is not ready (syncing, no space): try again shortly. */
export const RES_RETRY = 3;
export const RES_FAIL = 4;

export interface Response {
  status: number;
  value: string | null;
  hint: number;
}

export function encodeRequest(q: Request): Uint8Array {
  const w = new Writer().u8(q.op).str(q.key);
  if (q.op === REQ_PUT) w.str(q.value);
  return w.finish();
}

export function decodeRequest(b: Uint8Array): Request | null {
  try {
    const r = reader.reset(b);
    const op = r.u8();
    const key = r.str();
    if (op === REQ_GET) return { op, key };
    if (op === REQ_PUT) return { op, key, value: r.str() };
    return null;
  } catch {
    return null;
  }
}

export function encodeResponse(x: Response): Uint8Array {
  const w = new Writer();
  writeResponse(w, x);
  return w.finish();
}

/** Writes a response into `w` (the server writes it straight after the RPC header). */
export function writeResponse(w: Writer, x: Response): void {
  w.u8(x.status).strOrNull(x.value).u32(x.hint + 1);
}

const reader = new Reader(new Uint8Array(0));

export function decodeResponse(b: Uint8Array): Response | null {
  try {
    const r = reader.reset(b);
    return { status: r.u8(), value: r.strOrNull(), hint: r.u32() - 1 };
  } catch {
    return null;
  }
}

// ---- election (monitor thread ↔ monitor thread) ----

export const VOTE_REQ = 1;
export const VOTE_RESP = 2;
/** PreVote: "would you vote for me in `term`?" — answered without changing any state. */
export const PREVOTE_REQ = 3;
export const PREVOTE_RESP = 4;

export interface VoteMessage {
  type: typeof VOTE_REQ | typeof VOTE_RESP | typeof PREVOTE_REQ | typeof PREVOTE_RESP;
  term: number;
  from: number;
  granted: boolean;
}

export function encodeVote(m: VoteMessage): Uint8Array {
  return new Writer(16).u8(m.type).u53(m.term).u32(m.from).u8(m.granted ? 1 : 0).finish();
}

export function decodeVote(b: Uint8Array): VoteMessage | null {
  try {
    const r = new Reader(b);
    const type = r.u8();
    if (type !== VOTE_REQ && type !== VOTE_RESP && type !== PREVOTE_REQ && type !== PREVOTE_RESP) return null;
    return { type, term: r.u53(), from: r.u32(), granted: r.u8() === 1 };
  } catch {
    return null;
  }
}
