import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_WORD, type Memory, type MemoryProvider, type Task } from '../../src/platform/index.js';
import type { Addon } from '../addon.js';

/**
 * Memory on the native backend: DRAM regions are ArrayBuffers; PM regions are files mapped with
 * libpmem (`pmem_map_file`), exposed to JavaScript as external ArrayBuffers over the mapping itself.
 *
 * Atomicity. JavaScript runs one thread per process, so load64/store64/cas64/faa64 are atomic with
 * respect to every other kvlab thread of the node. They are also single 8-byte machine accesses
 * (Atomics on a BigUint64Array: `lock cmpxchg`, `lock xadd`, aligned 8-byte loads/stores), so a
 * remote NIC (an RDMA NIC DMA-ing into the region, or a libfabric provider thread such as the
 * `sockets` provider's) never sees half of a word. What is NOT provided — as on real RDMA hardware —
 * is atomicity between a CPU atomic and a NIC atomic on the same word, or any ordering between a
 * NIC's placement of a multi-word WRITE and CPU loads: a reader can see part of a concurrent WRITE
 * (exactly what the simulator models with chunked placement). With the tcp provider (manual
 * progress) remote WRITEs are placed by this very thread inside a CQ poll, so they interleave with
 * coroutine steps only at scheduling points.
 *
 * Persistence. `persist` on a PM region calls pmem_persist (cache-line flush + fence) when the
 * mapping is real persistent memory, pmem_msync otherwise (an ordinary file: only msync makes it
 * durable). On DRAM, persist is a no-op scheduling point.
 */

/** How persist makes PM durable: auto (by pmem_is_pmem), flush (pmem_persist always), msync (always). */
export type PersistMode = 'auto' | 'flush' | 'msync';

const PERSIST_MODE_CODE: Record<PersistMode, number> = { auto: 0, flush: 1, msync: 2 };

export class NativeMemory implements Memory {
  readonly u8: Uint8Array;
  private readonly dv: DataView;
  private readonly words: BigUint64Array;
  readonly sizeBytes: number;
  private unmapped = false;
  /**
   * Writes of at least this many bytes to PM use libpmem's copy (pmem_memcpy_nodrain: non-temporal
   * stores, as pmem_memcpy_persist does), so the later persist does not have to write back dirty
   * cache lines. persist still flushes the whole range (cheap on lines that are not cached), so a
   * store or a NIC write that lands in between is made durable too.
   */
  static ntThreshold = 256;

  constructor(
    readonly name: string,
    readonly kind: 'dram' | 'pm',
    readonly buffer: ArrayBuffer,
    /** libpmem mapping (PM regions). */
    private readonly pm: { addon: Addon; handle: number; isPmem: boolean; mode: number } | null,
  ) {
    this.sizeBytes = buffer.byteLength;
    this.u8 = new Uint8Array(buffer);
    this.dv = new DataView(buffer);
    this.words = new BigUint64Array(buffer, 0, Math.floor(buffer.byteLength / 8));
  }

  /** Whether this region is real persistent memory (pmem_is_pmem). */
  get isRealPm(): boolean {
    return this.pm !== null && this.pm.isPmem;
  }

  private check(offset: number, length: number): void {
    if (this.unmapped) throw new Error(`memory ${this.name}: region was closed`);
    if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= this.sizeBytes)) {
      throw new RangeError(`memory ${this.name}: access [${offset}, ${offset + length}) outside [0, ${this.sizeBytes})`);
    }
  }

  private checkWord(offset: number): void {
    if ((offset & 7) !== 0) throw new RangeError(`memory ${this.name}: unaligned word at ${offset}`);
    this.check(offset, 8);
  }

  private checkValue(value: number): void {
    if (!(Number.isInteger(value) && value >= 0 && value <= MAX_WORD)) throw new RangeError(`memory ${this.name}: word value ${value} not in [0, 2^53)`);
  }

  peek(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    return this.u8.slice(offset, offset + length);
  }

  poke(offset: number, bytes: Uint8Array): void {
    this.check(offset, bytes.length);
    this.u8.set(bytes, offset);
  }

  peek64(offset: number): number {
    this.checkWord(offset);
    return this.dv.getUint32(offset, true) + this.dv.getUint32(offset + 4, true) * 4294967296;
  }

  poke64(offset: number, value: number): void {
    this.checkWord(offset);
    this.checkValue(value);
    this.dv.setUint32(offset, value >>> 0, true);
    this.dv.setUint32(offset + 4, Math.floor(value / 4294967296), true);
  }

  *read(offset: number, length: number): Task<Uint8Array> {
    this.check(offset, length);
    yield 0;
    return this.peek(offset, length);
  }

  *write(offset: number, bytes: Uint8Array): Task<void> {
    this.check(offset, bytes.length);
    yield 0;
    this.writeNow(offset, bytes);
  }

  /** The store of `write`, without the scheduling point (benchmarks): large PM writes use libpmem's copy. */
  writeNow(offset: number, bytes: Uint8Array): void {
    const pm = this.pm;
    if (pm !== null && bytes.length >= NativeMemory.ntThreshold && (pm.mode === 1 || (pm.mode === 0 && pm.isPmem))) {
      this.check(offset, bytes.length);
      pm.addon.pmemMemcpyNodrain(pm.handle, offset, bytes);
      return;
    }
    this.poke(offset, bytes);
  }

  *load64(offset: number): Task<number> {
    this.checkWord(offset);
    yield 0;
    return Number(Atomics.load(this.words, offset >>> 3));
  }

  *store64(offset: number, value: number): Task<void> {
    this.checkWord(offset);
    this.checkValue(value);
    yield 0;
    Atomics.store(this.words, offset >>> 3, BigInt(value));
  }

  *cas64(offset: number, expected: number, desired: number): Task<number> {
    this.checkWord(offset);
    this.checkValue(desired);
    yield 0;
    if (!(Number.isInteger(expected) && expected >= 0 && expected <= MAX_WORD)) return this.peek64(offset);
    return Number(Atomics.compareExchange(this.words, offset >>> 3, BigInt(expected), BigInt(desired)));
  }

  *faa64(offset: number, delta: number): Task<number> {
    this.checkWord(offset);
    if (!Number.isInteger(delta)) throw new RangeError(`memory ${this.name}: fetch-and-add delta ${delta} is not an integer`);
    yield 0;
    const old = Number(Atomics.add(this.words, offset >>> 3, BigInt.asUintN(64, BigInt(delta))));
    if (!(old + delta >= 0 && old + delta <= MAX_WORD)) {
      Atomics.sub(this.words, offset >>> 3, BigInt.asUintN(64, BigInt(delta)));
      throw new RangeError(`memory ${this.name}: word value ${old + delta} not in [0, 2^53)`);
    }
    return old;
  }

  *persist(offset: number, length: number): Task<void> {
    this.check(offset, length);
    yield 0;
    this.persistNow(offset, length);
  }

  /** The durability step itself, without a scheduling point (benchmarks, shutdown). */
  persistNow(offset: number, length: number): void {
    const pm = this.pm;
    if (pm !== null && length > 0) pm.addon.pmemPersist(pm.handle, offset, length, pm.mode);
  }

  /** Copy + persist in one addon call (pmem_memcpy_persist on real PM or in flush mode). Benchmarks. */
  memcpyPersistNow(offset: number, bytes: Uint8Array): void {
    this.check(offset, bytes.length);
    if (this.pm === null) this.u8.set(bytes, offset);
    else this.pm.addon.pmemMemcpyPersist(this.pm.handle, offset, bytes, this.pm.mode);
  }

  /** Unmaps a PM region (its ArrayBuffer is detached). Used when a node shuts down. */
  close(): void {
    if (this.pm === null || this.unmapped) return;
    this.unmapped = true;
    this.pm.addon.pmemUnmap(this.pm.handle, this.buffer);
  }
}

/** A file name for a region name (kept readable, never escaping the data directory). */
export function regionFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}.pm`;
}

/**
 * The memory of one native node. PM regions are files in `dir` (put it on a DAX file system for
 * real PM), created zeroed on first use and reopened with their contents after a restart.
 */
export class NativeMemoryProvider implements MemoryProvider {
  private readonly regions = new Map<string, NativeMemory>();
  private probed: boolean | null = null;
  private readonly modeCode: number;

  constructor(
    private readonly addon: Addon | null,
    readonly dir: string,
    mode: PersistMode = 'auto',
  ) {
    this.modeCode = PERSIST_MODE_CODE[mode];
  }

  dram(name: string, sizeBytes: number): Memory {
    if (!(Number.isInteger(sizeBytes) && sizeBytes > 0)) throw new Error(`memory ${name}: bad size ${sizeBytes}`);
    return new NativeMemory(name, 'dram', new ArrayBuffer(sizeBytes), null);
  }

  pm(name: string, sizeBytes: number): Memory {
    if (!(Number.isInteger(sizeBytes) && sizeBytes > 0)) throw new Error(`memory ${name}: bad size ${sizeBytes}`);
    const existing = this.regions.get(name);
    if (existing !== undefined) {
      if (existing.sizeBytes !== sizeBytes) throw new Error(`pm region ${name}: reopened with size ${sizeBytes}, has ${existing.sizeBytes}`);
      return existing;
    }
    if (this.addon === null) throw new Error(`pm region ${name}: the native addon (libpmem) is not available`);
    mkdirSync(this.dir, { recursive: true });
    const m = this.addon.pmemMap(join(this.dir, regionFileName(name)), sizeBytes);
    const mem = new NativeMemory(name, 'pm', m.buffer, { addon: this.addon, handle: m.handle, isPmem: m.isPmem, mode: this.modeCode });
    this.regions.set(name, mem);
    return mem;
  }

  get isRealPm(): boolean {
    for (const r of this.regions.values()) return r.isRealPm;
    if (this.probed !== null) return this.probed;
    if (this.addon === null) return (this.probed = false);
    mkdirSync(this.dir, { recursive: true });
    const p = join(this.dir, `.kvlab-probe-${process.pid}`);
    if (existsSync(p)) unlinkSync(p);
    const m = this.addon.pmemMap(p, 4096);
    this.probed = m.isPmem;
    this.addon.pmemUnmap(m.handle, m.buffer);
    unlinkSync(p);
    return this.probed;
  }

  /** PM regions opened so far. */
  get pmRegions(): ReadonlyMap<string, NativeMemory> {
    return this.regions;
  }

  /** Unmaps every PM region (a clean shutdown; unpersisted stores may or may not reach the file). */
  close(): void {
    for (const r of this.regions.values()) r.close();
    this.regions.clear();
  }
}
