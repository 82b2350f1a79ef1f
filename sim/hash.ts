/**
 * The 64-bit trace hash: two independent 32-bit multiply-rotate lanes (murmur3-style finalizers),
 * fed with 32-bit words. Not cryptographic — it identifies a run; any difference in any event's
 * time, kind or subject changes it with overwhelming probability.
 */
export class TraceHash {
  private h1 = 0x6a09e667 | 0;
  private h2 = 0xbb67ae85 | 0;
  private count = 0;

  /** Mixes one 32-bit word. */
  word(w: number): void {
    let k = Math.imul(w | 0, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    let h = this.h1 ^ k;
    h = (h << 13) | (h >>> 19);
    this.h1 = (Math.imul(h, 5) + 0xe6546b64) | 0;
    let j = Math.imul(w | 0, 0x85ebca6b) ^ this.h1;
    j = (j << 17) | (j >>> 15);
    let g = this.h2 ^ Math.imul(j, 0xc2b2ae35);
    g = (g << 11) | (g >>> 21);
    this.h2 = (Math.imul(g, 9) + 0x52dce729) | 0;
    this.count++;
  }

  /** Mixes one event: its time (ns, below 2^53), kind code (< 256) and subject id. */
  event(t: number, code: number, id: number): void {
    const hi = (t / 4294967296) >>> 0;
    this.word(t >>> 0);
    this.word((code & 0xff) | (id << 8));
    if (hi !== 0) this.word(hi);
  }

  /** Mixes a non-negative integer below 2^53 (two words). */
  int(n: number): void {
    this.word(n >>> 0);
    this.word((n / 4294967296) >>> 0);
  }

  /** Mixes a string (its UTF-16 code units, two per word, and its length). */
  str(s: string): void {
    this.word(s.length);
    for (let i = 0; i < s.length; i += 2) this.word(s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
  }

  /** The hash as 16 hex digits. */
  hex(): string {
    const f1 = fmix(this.h1 ^ this.count);
    const f2 = fmix(this.h2 ^ Math.imul(this.count, 0x9e3779b1) ^ f1);
    return (f2 >>> 0).toString(16).padStart(8, '0') + (f1 >>> 0).toString(16).padStart(8, '0');
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** 32-bit FNV-1a of a string: stable ids for names (event kinds, services). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
