/**
 * Little-endian binary encoding for messages and on-media records. Strings are UTF-8 with a
 * 16-bit length. Integers up to 2^53 use 8 bytes (two 32-bit halves, as memory words do).
 */

const enc = new TextEncoder();
const dec = new TextDecoder();

export class Writer {
  private buf: Uint8Array;
  private pos = 0;

  constructor(initialBytes = 64) {
    this.buf = new Uint8Array(initialBytes);
  }

  private need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
  }

  /** Starts over (the buffer is kept: a Writer can be reused for message after message). */
  reset(): this {
    this.pos = 0;
    return this;
  }

  u8(v: number): this {
    this.need(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u16(v: number): this {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    b[p] = v;
    b[p + 1] = v >>> 8;
    this.pos = p + 2;
    return this;
  }

  u32(v: number): this {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    const x = v >>> 0;
    b[p] = x;
    b[p + 1] = x >>> 8;
    b[p + 2] = x >>> 16;
    b[p + 3] = x >>> 24;
    this.pos = p + 4;
    return this;
  }

  /** An integer in [0, 2^53). */
  u53(v: number): this {
    if (!(Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER)) throw new RangeError(`u53 out of range: ${v}`);
    this.u32(v >>> 0);
    return this.u32(Math.floor(v / 4294967296));
  }

  str(s: string): this {
    // Keys and values are almost always ASCII: copy code units directly, no encoder allocation.
    const n = s.length;
    if (n <= 0xffff) {
      this.need(2 + n);
      const buf = this.buf;
      const at = this.pos + 2;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + i] = c;
      }
      if (i === n) {
        buf[this.pos] = n;
        buf[this.pos + 1] = n >>> 8;
        this.pos = at + n;
        return this;
      }
    }
    const b = enc.encode(s);
    if (b.length > 0xffff) throw new RangeError(`string too long: ${b.length} bytes`);
    this.u16(b.length);
    return this.bytes(b);
  }

  /** A string or null (a flag byte first). */
  strOrNull(s: string | null): this {
    if (s === null) return this.u8(0);
    return this.u8(1).str(s);
  }

  bytes(b: Uint8Array): this {
    this.need(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  get length(): number {
    return this.pos;
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  /** A view of what was written: valid until the next write or reset (no copy). */
  view(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

export class DecodeError extends Error {}

export class Reader {
  pos = 0;

  constructor(private buf: Uint8Array) {}

  /** Reads another buffer from its start (a Reader can be reused). */
  reset(buf: Uint8Array): this {
    this.buf = buf;
    this.pos = 0;
    return this;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DecodeError(`truncated: need ${n} bytes at ${this.pos} of ${this.buf.length}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return b[p]! | (b[p + 1]! << 8);
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
  }

  u53(): number {
    this.need(8);
    const lo = this.u32();
    return lo + this.u32() * 4294967296;
  }

  str(): string {
    const n = this.u16();
    this.need(n);
    const buf = this.buf;
    const start = this.pos;
    this.pos += n;
    if (n <= 64) {
      // Short ASCII strings (keys, small values): build directly, no decoder call.
      let ascii = true;
      for (let i = start; i < start + n; i++) if (buf[i]! >= 0x80) ascii = false;
      if (ascii) return String.fromCharCode.apply(null, buf.subarray(start, start + n) as unknown as number[]);
    }
    return dec.decode(buf.subarray(start, start + n));
  }

  strOrNull(): string | null {
    return this.u8() === 0 ? null : this.str();
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }
}

/** UTF-8 byte length of a string (no encoder allocation for ASCII). */
export function utf8Length(s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return enc.encode(s).length;
  return n;
}

export function encodeUtf8(s: string): Uint8Array {
  return enc.encode(s);
}

export function decodeUtf8(b: Uint8Array): string {
  return dec.decode(b);
}
