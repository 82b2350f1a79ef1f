import { Reader, Writer } from '../../kv/codec.js';

/**
 * The memory layout every LoLKV replica shares (docs/lolkv.md, "Replicas, threads, memory"):
 *
 *   segment area (PM)  segments × segmentBytes; an object lies at the same (segment, offset) on
 *                      every replica that has it
 *   hash table (PM)    tableSlots 8-byte slots; a slot holds ptr = byteOffset/8 + 1 (0 = empty)
 *   meta (PM)          [currentTerm][votedFor + 1]
 *   heartbeat (DRAM)   [term][leader + 1][counter], written by the leader
 */

export const REGION = {
  segments: 'lolkv.segments',
  table: 'lolkv.table',
  meta: 'lolkv.meta',
  heartbeat: 'lolkv.heartbeat',
} as const;

export const META_TERM = 0;
export const META_VOTED_FOR = 8;
export const META_BYTES = 64;

export const HB_TERM = 0;
export const HB_LEADER = 8;
export const HB_COUNTER = 16;
export const HB_BYTES = 24;

/** FNV-1a (32-bit) of a key: table slot and incarnation index. */
export function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Slot word for an object at byte offset `off` of the segment area. */
export function ptrOf(off: number): number {
  return off / 8 + 1;
}

/** Byte offset in the segment area of the object a slot word points at. */
export function offOf(ptr: number): number {
  return (ptr - 1) * 8;
}

/**
 * What a replica hands every connecting peer (rdma_cm private data): the rkeys of its regions, and
 * the term at which it registered them. A replica registers afresh (revoking every older rkey)
 * whenever its term grows, so a leader of term T that is handed `term === T` knows the replica
 * accepts nothing from any older leader any more.
 */
export interface PeerKeys {
  segments: number;
  table: number;
  meta: number;
  heartbeat: number;
  term: number;
}

export function encodePeerKeys(k: PeerKeys): Uint8Array {
  return new Writer(24).u32(k.segments).u32(k.table).u32(k.meta).u32(k.heartbeat).u53(k.term).finish();
}

export function decodePeerKeys(b: Uint8Array): PeerKeys | null {
  if (b.length < 24) return null;
  const r = new Reader(b);
  return { segments: r.u32(), table: r.u32(), meta: r.u32(), heartbeat: r.u32(), term: r.u53() };
}

/** Majority of n replicas. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** Little-endian bytes of one 8-byte word. */
export function wordBytes(v: number): Uint8Array {
  const b = new Uint8Array(8);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, v >>> 0, true);
  dv.setUint32(4, Math.floor(v / 4294967296), true);
  return b;
}
