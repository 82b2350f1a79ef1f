/**
 * An Optane-like persistent-memory device: what happens below the persistence domain.
 *
 * Writes reach the device in 64-byte cache lines (a CPU flush, or a NIC DMA with DDIO off). The
 * device's media is written in XPLines (256 B). Each DIMM has a bounded write-combining buffer
 * (the XPBuffer) holding recently written XPLines; writes to a line still in the buffer combine.
 * When a line must make room it is evicted (least recently used) and costs one media write of a
 * whole XPLine, however little of it was written — that is device-level write amplification:
 *
 *     DLWA = media bytes written / bytes written by CPU and NIC (in the 64-byte lines the
 *            memory controller writes; `writtenBytes` keeps the exact payload count too)
 *
 * Sequential full-line writes give DLWA 1.0; many interleaved small-write streams evict lines
 * before they fill and give DLWA > 1. Physical addresses are interleaved across DIMMs in
 * `interleaveBytes` chunks. Media writes take time: each DIMM writes one XPLine per
 * `xplineBytes / mediaWriteBytesPerNs` ns, and a write that needs buffer space waits for the
 * evicted line's media slot — so DLWA also costs throughput.
 */

export interface PmDeviceParams {
  xplineBytes: number;
  /** Write-combining capacity per DIMM, in XPLines. */
  wcLinesPerDimm: number;
  dimms: number;
  interleaveBytes: number;
  /** Media write bandwidth per DIMM, bytes per ns (1 B/ns = 1 GB/s). */
  mediaWriteBytesPerNs: number;
}

export const OPTANE_PRESET: PmDeviceParams = {
  xplineBytes: 256,
  wcLinesPerDimm: 64,
  dimms: 3,
  interleaveBytes: 4096,
  mediaWriteBytesPerNs: 2.0,
};

interface Dimm {
  /** Buffered lines: line index → bitmask of written 64-byte sectors. Insertion order = LRU order. */
  buffer: Map<number, number>;
  mediaFreeAtNs: number;
}

export interface DlwaCounters {
  /** Bytes written to the device by CPU flushes and NIC DMA (exact payload bytes). */
  writtenBytes: number;
  /**
   * The same writes as the memory controller issues them: whole 64-byte lines (a 100-byte write
   * touching two lines counts 128). DLWA is measured against this, as Optane's own counters
   * (media writes / iMC write requests) and the Rowan paper measure it.
   */
  writtenLineBytes: number;
  /** Bytes written to the media (whole XPLines). */
  mediaBytes: number;
  /** XPLines evicted before all their sectors were written (each costs a read-modify-write). */
  partialLineWrites: number;
}

export class PmDevice {
  private readonly dimms: Dimm[] = [];
  private readonly sectorsPerLine: number;
  private readonly fullMask: number;
  private readonly lineWriteNs: number;
  readonly counters: DlwaCounters = { writtenBytes: 0, writtenLineBytes: 0, mediaBytes: 0, partialLineWrites: 0 };

  constructor(readonly params: PmDeviceParams) {
    if (params.xplineBytes % 64 !== 0 || params.xplineBytes > 64 * 30) throw new Error('xplineBytes must be a multiple of 64 up to 1920');
    if (params.interleaveBytes % params.xplineBytes !== 0) throw new Error('interleaveBytes must be a multiple of xplineBytes');
    for (let i = 0; i < params.dimms; i++) this.dimms.push({ buffer: new Map(), mediaFreeAtNs: 0 });
    this.sectorsPerLine = params.xplineBytes / 64;
    this.fullMask = (1 << this.sectorsPerLine) - 1;
    if (!(params.mediaWriteBytesPerNs > 0)) throw new Error('mediaWriteBytesPerNs must be positive');
    // Whole nanoseconds: every time the device returns must be an integer (virtual time is integral).
    this.lineWriteNs = Math.max(1, Math.ceil(params.xplineBytes / params.mediaWriteBytesPerNs));
  }

  /**
   * `length` bytes at device address `addr` reach the device at `nowNs`. Returns the time at which
   * the device has accepted them (later than now when the media is the bottleneck).
   */
  write(addr: number, length: number, nowNs: number): number {
    if (length <= 0) return nowNs;
    this.counters.writtenBytes += length;
    let accepted = nowNs;
    const first = Math.floor(addr / 64);
    const last = Math.floor((addr + length - 1) / 64);
    this.counters.writtenLineBytes += (last - first + 1) * 64;
    for (let s = first; s <= last; s++) {
      const t = this.writeSector(s, nowNs);
      if (t > accepted) accepted = t;
    }
    return accepted;
  }

  private writeSector(sector: number, nowNs: number): number {
    const p = this.params;
    const byteAddr = sector * 64;
    const line = Math.floor(byteAddr / p.xplineBytes);
    const dimm = this.dimms[Math.floor(byteAddr / p.interleaveBytes) % p.dimms]!;
    const bit = 1 << (sector % this.sectorsPerLine);
    const buf = dimm.buffer;
    const mask = buf.get(line);
    if (mask !== undefined) {
      // Combine; move to most recently used.
      buf.delete(line);
      buf.set(line, mask | bit);
      return nowNs;
    }
    let accepted = nowNs;
    if (buf.size >= p.wcLinesPerDimm) {
      // Evict the least recently used line: one media write of a whole XPLine.
      const victim = buf.keys().next().value as number;
      const vmask = buf.get(victim)!;
      buf.delete(victim);
      const start = Math.max(nowNs, dimm.mediaFreeAtNs);
      dimm.mediaFreeAtNs = start + this.lineWriteNs;
      this.mediaWrite(vmask);
      accepted = start;
    }
    buf.set(line, bit);
    return accepted;
  }

  private mediaWrite(mask: number): void {
    this.counters.mediaBytes += this.params.xplineBytes;
    if (mask !== this.fullMask) this.counters.partialLineWrites++;
  }

  /** Writes every buffered line to media (end of a measurement, or a drain). */
  drain(): void {
    for (const d of this.dimms) {
      for (const mask of d.buffer.values()) this.mediaWrite(mask);
      d.buffer.clear();
    }
  }

  /** Forgets buffered lines without writing them (the buffer is inside the ADR domain; modeled as flushed at crash). */
  crashDrain(): void {
    this.drain();
  }

  /** Media bytes per byte the memory controller wrote (64-byte lines); 1.0 when nothing was written. */
  dlwa(): number {
    const c = this.counters;
    return c.writtenLineBytes === 0 ? 1 : c.mediaBytes / c.writtenLineBytes;
  }
}
