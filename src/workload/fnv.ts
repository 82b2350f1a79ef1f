/**
 * YCSB's 64-bit FNV hash (`site.ycsb.Utils.fnvhash64`), computed on two unsigned 32-bit halves so
 * the hot path needs no BigInt.
 *
 * YCSB hashes a `long` as FNV-1a over its 8 little-endian bytes, then takes `Math.abs` of the
 * signed result. It uses this hash both to name keys ("user" + hash(keynum)) and to scramble the
 * zipfian generator's output, so matching it bit for bit gives YCSB's keys and hot-key positions
 * (e.g. keynum 0 → "user6284781860667377211", the first key of every YCSB load).
 */

const TWO32 = 4294967296;
// FNV-64 offset basis 0xcbf29ce484222325 and prime 0x100000001b3 = 2^40 + 0x1b3.
const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
const PRIME_LO = 0x1b3;

/** A 64-bit unsigned value as two unsigned 32-bit halves. */
export interface U64 {
  hi: number;
  lo: number;
}

/** h := (h XOR octet) * prime (mod 2^64), in place. */
function step(h: U64, octet: number): void {
  const lo = (h.lo ^ octet) >>> 0;
  const hi = h.hi;
  // (hi·2^32 + lo)·(2^40 + 0x1b3) mod 2^64: every partial product stays below 2^53, so exact.
  const lowProd = lo * PRIME_LO; // < 2^41
  const carry = Math.floor(lowProd / TWO32);
  h.lo = lowProd >>> 0; // ToUint32 reduces mod 2^32 exactly for integers below 2^53
  h.hi = (hi * PRIME_LO + carry + (lo & 0xffffff) * 256) >>> 0; // lo·2^40 contributes (lo mod 2^24)·2^8 to the high word
}

/**
 * YCSB `fnvhash64(val)`: FNV-1a-64 of the 8 little-endian bytes of `val`, then |signed result|.
 * `val` must be an integer in [0, 2^53).
 *
 * Java's `Math.abs(Long.MIN_VALUE)` stays negative; that input has probability 2^-64 and we return
 * 2^63 (unsigned) instead of YCSB's negative number.
 */
export function fnvhash64(val: number): U64 {
  const h: U64 = { hi: OFFSET_HI, lo: OFFSET_LO };
  let lo = val >>> 0;
  let hi = Math.floor(val / TWO32) >>> 0;
  for (let i = 0; i < 4; i++) {
    step(h, lo & 0xff);
    lo >>>= 8;
  }
  for (let i = 0; i < 4; i++) {
    step(h, hi & 0xff);
    hi >>>= 8;
  }
  return abs64(h);
}

/** FNV-1a-64 of a string's UTF-16 code units, low byte first (plain ASCII keys: their bytes). Unsigned. */
export function fnv1a64String(s: string): U64 {
  const h: U64 = { hi: OFFSET_HI, lo: OFFSET_LO };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    step(h, c & 0xff);
    if (c > 0xff) step(h, c >>> 8);
  }
  return h;
}

/** |x| of x read as a signed 64-bit integer (two's complement negation when the sign bit is set). */
function abs64(h: U64): U64 {
  if ((h.hi & 0x80000000) === 0) return h;
  const lo = (~h.lo + 1) >>> 0;
  const hi = (~h.hi + (lo === 0 ? 1 : 0)) >>> 0;
  return { hi, lo };
}

/** 2^32 mod n for the small-modulus path. */
function twoPow32Mod(n: number): number {
  return TWO32 % n;
}

/** (hi·2^32 + lo) mod n, exact for any n in [1, 2^53). */
export function mod64(h: U64, n: number): number {
  if (n <= 1) return 0;
  // Small moduli: (hi mod n)·(2^32 mod n) < n² ≤ 2^52, exact in doubles.
  if (n <= 67108864) return (((h.hi % n) * twoPow32Mod(n)) % n + (h.lo % n)) % n;
  return Number(((BigInt(h.hi) << 32n) | BigInt(h.lo)) % BigInt(n));
}

/** The unsigned decimal string of a 64-bit value (YCSB key names). */
export function toDecimal(h: U64): string {
  if (h.hi < 2097152) return String(h.hi * TWO32 + h.lo); // below 2^53: exact as a double
  return ((BigInt(h.hi) << 32n) | BigInt(h.lo)).toString();
}
