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

const OP_READ = 0;
const OP_WRITE = 1;
const OP_LOAD = 2;
const OP_STORE = 3;
const OP_CAS = 4;
const OP_FAA = 5;
const OP_PERSIST = 6;

/**
 * One memory operation as a Task: the first next() yields the scheduling point (0), the second
 * performs the operation and returns its result. Iterator protocol only (what `yield*` uses); one
 * result object is reused for both steps (yield* reads it before it calls next again).
 */
class MemOp {
  private state = 0;
  private readonly res: { value: unknown; done: boolean } = { value: 0, done: false };

  constructor(
    private readonly mem: NativeMemory,
    private readonly op: number,
    private readonly offset: number,
    private readonly a: number,
    private readonly b: number,
    private readonly bytes: Uint8Array | null,
  ) {}

  next(): { value: unknown; done: boolean } {
    if (this.state === 0) {
      this.state = 1;
      return this.res;
    }
    if (this.state === 1) {
      this.state = 2;
      this.res.value = this.mem.act(this.op, this.offset, this.a, this.b, this.bytes);
      this.res.done = true;
      return this.res;
    }
    return { value: undefined, done: true };
  }

  return(value: unknown): { value: unknown; done: boolean } {
    this.state = 2;
    return { value, done: true };
  }

  throw(e: unknown): never {
    this.state = 2;
    throw e;
  }

  [Symbol.iterator](): this {
    return this;
  }
}

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

  // The Task-returning operations yield one scheduling point (0) and then act, like the
  // simulator's. They are MemOp iterators rather than generator functions: one small object per
  // operation instead of a generator plus its result objects (this is the hottest path of protocol
  // code: ~30% less time per operation, less GC).

  read(offset: number, length: number): Task<Uint8Array> {
    this.check(offset, length);
    return new MemOp(this, OP_READ, offset, length, 0, null) as unknown as Task<Uint8Array>;
  }

  write(offset: number, bytes: Uint8Array): Task<void> {
    this.check(offset, bytes.length);
    return new MemOp(this, OP_WRITE, offset, 0, 0, bytes) as unknown as Task<void>;
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

  load64(offset: number): Task<number> {
    this.checkWord(offset);
    return new MemOp(this, OP_LOAD, offset, 0, 0, null) as unknown as Task<number>;
  }

  store64(offset: number, value: number): Task<void> {
    this.checkWord(offset);
    this.checkValue(value);
    return new MemOp(this, OP_STORE, offset, value, 0, null) as unknown as Task<void>;
  }

  cas64(offset: number, expected: number, desired: number): Task<number> {
    this.checkWord(offset);
    this.checkValue(desired);
    return new MemOp(this, OP_CAS, offset, expected, desired, null) as unknown as Task<number>;
  }

  faa64(offset: number, delta: number): Task<number> {
    this.checkWord(offset);
    if (!Number.isInteger(delta)) throw new RangeError(`memory ${this.name}: fetch-and-add delta ${delta} is not an integer`);
    return new MemOp(this, OP_FAA, offset, delta, 0, null) as unknown as Task<number>;
  }

  persist(offset: number, length: number): Task<void> {
    this.check(offset, length);
    return new MemOp(this, OP_PERSIST, offset, length, 0, null) as unknown as Task<void>;
  }

  /** @internal the effect of a MemOp, after its scheduling point */
  act(op: number, offset: number, a: number, b: number, bytes: Uint8Array | null): unknown {
    switch (op) {
      case OP_READ:
        return this.peek(offset, a);
      case OP_WRITE:
        this.writeNow(offset, bytes!);
        return undefined;
      case OP_LOAD:
        this.check(offset, 8);
        return Number(Atomics.load(this.words, offset >>> 3));
      case OP_STORE:
        this.check(offset, 8);
        Atomics.store(this.words, offset >>> 3, BigInt(a));
        return undefined;
      case OP_CAS:
        this.check(offset, 8);
        if (!(Number.isInteger(a) && a >= 0 && a <= MAX_WORD)) return this.peek64(offset);
        return Number(Atomics.compareExchange(this.words, offset >>> 3, BigInt(a), BigInt(b)));
      case OP_FAA: {
        this.check(offset, 8);
        const old = Number(Atomics.add(this.words, offset >>> 3, BigInt.asUintN(64, BigInt(a))));
        if (!(old + a >= 0 && old + a <= MAX_WORD)) {
          Atomics.sub(this.words, offset >>> 3, BigInt.asUintN(64, BigInt(a)));
          throw new RangeError(`memory ${this.name}: word value ${old + a} not in [0, 2^53)`);
        }
        return old;
      }
      default:
        this.check(offset, a);
        this.persistNow(offset, a);
        return undefined;
    }
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
