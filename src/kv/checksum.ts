/**
 * Checksums that detect torn objects. A crash can leave any subset of an object's unpersisted
 * 8-byte words new and the rest old, and an RDMA WRITE cut off mid-transfer lands only a prefix;
 * a 32-bit checksum over the whole object (header fields included) tells a complete object from a
 * torn one with probability 1 - 2^-32.
 */

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli) of bytes[from, to). */
export function crc32c(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
