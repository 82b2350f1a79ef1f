/**
 * Little-endian binary encoding for messages and on-media records. Strings are UTF-8 with a
 * 16-bit length. Integers up to 2^53 use 8 bytes (two 32-bit halves, as memory words do).
 */

const enc = new TextEncoder();
const dec = new TextDecoder();

export class Writer {
  private buf: Uint8Array;
  private dv: DataView;
  private pos = 0;

  constructor(initialBytes = 64) {
    this.buf = new Uint8Array(initialBytes);
    this.dv = new DataView(this.buf.buffer);
  }

  private need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }

  u8(v: number): this {
    this.need(1);
    this.dv.setUint8(this.pos, v);
    this.pos += 1;
    return this;
  }

  u16(v: number): this {
    this.need(2);
    this.dv.setUint16(this.pos, v, true);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    this.need(4);
    this.dv.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
    return this;
  }

  /** An integer in [0, 2^53). */
  u53(v: number): this {
    if (!(Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER)) throw new RangeError(`u53 out of range: ${v}`);
    this.need(8);
    this.dv.setUint32(this.pos, v >>> 0, true);
    this.dv.setUint32(this.pos + 4, Math.floor(v / 4294967296), true);
    this.pos += 8;
    return this;
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
        this.dv.setUint16(this.pos, n, true);
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

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export class DecodeError extends Error {}

export class Reader {
  private readonly dv: DataView;
  pos = 0;

  constructor(private readonly buf: Uint8Array) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DecodeError(`truncated: need ${n} bytes at ${this.pos} of ${this.buf.length}`);
  }

  u8(): number {
    this.need(1);
    return this.dv.getUint8(this.pos++);
  }

  u16(): number {
    this.need(2);
    const v = this.dv.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(): number {
    this.need(4);
    const v = this.dv.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u53(): number {
    this.need(8);
    const v = this.dv.getUint32(this.pos, true) + this.dv.getUint32(this.pos + 4, true) * 4294967296;
    this.pos += 8;
    return v;
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

/** UTF-8 byte length of a string. */
export function utf8Length(s: string): number {
  return enc.encode(s).length;
}

export function encodeUtf8(s: string): Uint8Array {
  return enc.encode(s);
}

export function decodeUtf8(b: Uint8Array): string {
  return dec.decode(b);
}
