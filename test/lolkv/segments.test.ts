import { describe, expect, it } from 'vitest';
import { ACTIVE, FREE, SEALED, Segments } from '../../src/protocols/lolkv/segments.js';

describe('segment table', () => {
  it('appends into a thread\'s own segment, seals it when full, and never hands one segment to two threads', () => {
    const s = new Segments(8, 256, 3, 1);
    const a = s.alloc(0, 100, 0, false)!;
    const b = s.alloc(1, 100, 0, false)!;
    expect(a.seg).not.toBe(b.seg);
    const a2 = s.alloc(0, 100, 0, false)!;
    expect(a2.seg).toBe(a.seg);
    expect(a2.off).toBe(a.off + 100);
    const a3 = s.alloc(0, 100, 0, false)!;
    expect(a3.seg).not.toBe(a.seg);
    expect(s.state[a.seg]).toBe(SEALED);
    expect(s.state[a3.seg]).toBe(ACTIVE);
  });

  it('keeps a reserve only the GC thread may take', () => {
    const s = new Segments(3, 128, 3, 1);
    expect(s.alloc(0, 128, 0, false)).not.toBeNull();
    expect(s.alloc(1, 128, 0, false)).not.toBeNull();
    expect(s.alloc(2, 128, 0, false)).toBeNull();
    expect(s.alloc(2, 128, 0, true)).not.toBeNull();
  });

  it('reuses the most recently freed segment first, but only after its grace period, with a new generation', () => {
    const s = new Segments(6, 128, 2, 0);
    const x = s.alloc(0, 128, 0, false)!;
    s.alloc(0, 128, 0, false); // seals x
    s.addLive(x.off, 128);
    s.subLive(x.off, 128);
    s.free(x.seg, 1000);
    expect(s.state[x.seg]).toBe(FREE);
    const early = s.alloc(1, 128, 500, false)!;
    expect(early.seg).not.toBe(x.seg);
    const late = s.alloc(1, 128, 1000, false)!;
    expect(late.seg).toBe(x.seg);
    expect(late.gen).toBe(x.gen + 1);
  });

  it('refuses to free a segment that still has live bytes', () => {
    const s = new Segments(4, 128, 1, 0);
    const x = s.alloc(0, 64, 0, false)!;
    s.alloc(0, 128, 0, false);
    s.addLive(x.off, 64);
    expect(() => s.free(x.seg, 0)).toThrow(/live/);
  });
});
