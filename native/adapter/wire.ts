/**
 * What the native backend puts on the wire besides protocol bytes: libfabric tags, remote CQ data,
 * and the connection manager's messages. See docs/platform.md.
 *
 * Tags (64-bit, kept below 2^48 so they travel as exact JavaScript numbers):
 *   bits 44..47 kind · bits 32..43 the receiver's boot count (12 bits) · bits 0..31 an id.
 *   kind 1: a QP's own receive queue (id = QP id)   kind 2: a shared receive queue (id = SRQ id)
 *   kind 3: a UD port (boot 0, id = port)           kind 4: the connection manager (id 0)
 *   kinds 14, 15: the addon's emulated atomics (nic.h)
 * A tag carries the receiver's boot so a message meant for an earlier incarnation of a node is
 * never matched by the new one.
 *
 * Remote CQ data (8 bytes where the provider has them, else the high half only):
 *   high 32 bits: sender node (16) | the receiving QP's id (16), or the sending UD port (16)
 *   low 32 bits: the message length before stride padding (multi-packet receive queues)
 */

export const TAG_QP = 1;
export const TAG_SRQ = 2;
export const TAG_UD = 3;
export const TAG_CM = 4;

const KIND_UNIT = 2 ** 44;
const BOOT_UNIT = 2 ** 32;

export function makeTag(kind: number, boot: number, id: number): number {
  return kind * KIND_UNIT + (boot & 0xfff) * BOOT_UNIT + (id >>> 0);
}

export function dataHi(node: number, id: number): number {
  return (((node & 0xffff) << 16) | (id & 0xffff)) >>> 0;
}

export function hiNode(hi: number): number {
  return hi >>> 16;
}

export function hiId(hi: number): number {
  return hi & 0xffff;
}

/** libfabric error numbers (positive) seen in completions. */
export const FI = {
  EAGAIN: 11,
  EACCES: 13,
  EINVAL: 22,
  ENOENT: 2,
  EIO: 5,
  EPIPE: 32,
  ECONNRESET: 104,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  ECANCELED: 125,
  ETRUNC: 265,
} as const;

/** Where a peer's SENDs to one of our queue pairs land. */
export type RecvTarget =
  | { kind: 'tag'; tag: number }
  /** A multi-packet SRQ: its own endpoint (raw address, hex), stride, and the largest message it accepts. */
  | { kind: 'mrecv'; name: string; stride: number; maxMessage: number };

/** A registered region as the connection manager describes it to peers. */
export interface DirEntry {
  rkey: number;
  /** libfabric key (fi_mr_key). */
  key: number;
  /** Added to offsets (the region's address under FI_MR_VIRT_ADDR, else 0). */
  base: number;
  size: number;
  access: number;
}

/** A node's flush region (8 readable bytes): READ to confirm that earlier WRITEs/SENDs were placed. */
export interface FlushKey {
  key: number;
  base: number;
}

/** Connection-manager messages (JSON over the CM tag). */
export type CmMessage =
  | { t: 'req'; id: number; svc: string; node: number; boot: number; qp: number; name: string; recv: RecvTarget; flush: FlushKey }
  | { t: 'rep'; id: number; ok: true; node: number; boot: number; qp: number; recv: RecvTarget; flush: FlushKey; pd: string; dir: DirEntry[] }
  | { t: 'rep'; id: number; ok: false; node: number; boot: number; reason: string }
  | { t: 'dirq'; id: number; node: number; name: string }
  | { t: 'dirr'; id: number; node: number; boot: number; dir: DirEntry[] }
  | { t: 'close'; node: number; boot: number; qp: number }
  /** A registration was revoked: drop it from the directory (later accesses fail locally). */
  | { t: 'dereg'; node: number; boot: number; rkey: number };

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}
