import type { Memory, MemoryProvider, Task, Wait } from '../src/platform/index.js';
import { MAX_WORD } from '../src/platform/index.js';
import { copyBytes } from './bytes.js';
import { DONE, OneStep, SimOp, returned, yielded } from './op.js';
import type { PmDevice } from './pm-device.js';
import type { SeededRng } from './rng.js';

/** Virtual-time costs of a node's memory operations (charged to the calling thread). */
export interface MemoryCosts {
  dramAccessNs: number;
  pmStoreNs: number;
  atomicNs: number;
  /** Copy bandwidth for read/write of byte ranges. */
  copyBytesPerNs: number;
  persistBaseNs: number;
  persistPerLineNs: number;
  /** Each operation's cost gets a seeded jitter in [0, jitterNs]: this is how seeds explore interleavings. */
  jitterNs: number;
}

export const DEFAULT_MEMORY_COSTS: MemoryCosts = {
  dramAccessNs: 20,
  pmStoreNs: 40,
  atomicNs: 30,
  copyBytesPerNs: 8,
  persistBaseNs: 120,
  persistPerLineNs: 15,
  jitterNs: 16,
};

/** What the PM model does with unpersisted words at a crash. */
export type CrashPolicy = 'tear' | 'lose' | 'keep';

const LINE = 64;

/**
 * A simulated memory region. `visible` is what loads see. For PM, `durable` is the persistence
 * domain and `dirty` marks 64-byte lines whose visible contents may differ from it (stored but not
 * yet persisted). At a crash every 8-byte word of a dirty line independently keeps its durable
 * (old) or visible (new) value — so a multi-word object can tear, but no word ever holds a value
 * that was never stored there.
 */
export class SimMemory implements Memory {
  readonly visible: Uint8Array;
  private readonly dv: DataView;
  durable: Uint8Array | null;
  private dirty: Uint8Array | null;
  dirtyLines = 0;

  constructor(
    readonly name: string,
    readonly kind: 'dram' | 'pm',
    readonly sizeBytes: number,
    private readonly env: MemoryEnv,
    /** Base address in the node's PM device address space. */
    readonly deviceBase: number,
  ) {
    if (!Number.isInteger(sizeBytes) || sizeBytes <= 0) throw new Error(`memory ${name}: bad size ${sizeBytes}`);
    this.visible = new Uint8Array(sizeBytes);
    this.dv = new DataView(this.visible.buffer);
    this.durable = kind === 'pm' ? new Uint8Array(sizeBytes) : null;
    this.dirty = kind === 'pm' ? new Uint8Array(Math.ceil(sizeBytes / LINE)) : null;
  }

  private check(offset: number, length: number): void {
    if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= this.sizeBytes)) {
      throw new RangeError(`memory ${this.name}: access [${offset}, ${offset + length}) outside [0, ${this.sizeBytes})`);
    }
  }

  private checkWord(offset: number): void {
    if ((offset & 7) !== 0) throw new RangeError(`memory ${this.name}: unaligned word at ${offset}`);
    this.check(offset, 8);
  }

  private cost(base: number): number {
    const j = this.env.costs.jitterNs;
    return base + (j > 0 ? this.env.rng.int(j + 1) : 0);
  }

  private storeCost(): number {
    return this.kind === 'pm' ? this.env.costs.pmStoreNs : this.env.costs.dramAccessNs;
  }

  private markDirty(offset: number, length: number): void {
    const d = this.dirty;
    if (d === null || length === 0) return;
    const last = Math.floor((offset + length - 1) / LINE);
    for (let l = Math.floor(offset / LINE); l <= last; l++) {
      if (d[l] === 0) {
        d[l] = 1;
        this.dirtyLines++;
      }
    }
  }

  // ---- synchronous access (also used by the NIC model) ----

  peek(offset: number, length: number): Uint8Array {
    this.check(offset, length);
    return copyBytes(this.visible, offset, length);
  }

  poke(offset: number, bytes: Uint8Array): void {
    this.check(offset, bytes.length);
    this.visible.set(bytes, offset);
    this.markDirty(offset, bytes.length);
  }

  peek64(offset: number): number {
    this.checkWord(offset);
    return this.dv.getUint32(offset, true) + this.dv.getUint32(offset + 4, true) * 4294967296;
  }

  poke64(offset: number, value: number): void {
    this.checkWord(offset);
    if (!(Number.isInteger(value) && value >= 0 && value <= MAX_WORD)) throw new RangeError(`memory ${this.name}: word value ${value} not in [0, 2^53)`);
    this.dv.setUint32(offset, value >>> 0, true);
    this.dv.setUint32(offset + 4, Math.floor(value / 4294967296), true);
    this.markDirty(offset, 8);
  }

  // ---- shared-memory operations: scheduling points (sim/op.ts: iterators, not generators) ----

  read(offset: number, length: number): Task<Uint8Array> {
    return new MemOp<Uint8Array>(this, MEM.READ, offset, length, 0, null);
  }

  write(offset: number, bytes: Uint8Array): Task<void> {
    return new MemOp<void>(this, MEM.WRITE, offset, bytes.length, 0, bytes);
  }

  load64(offset: number): Task<number> {
    return new MemOp<number>(this, MEM.LOAD64, offset, 8, 0, null);
  }

  store64(offset: number, value: number): Task<void> {
    return new MemOp<void>(this, MEM.STORE64, offset, value, 0, null);
  }

  cas64(offset: number, expected: number, desired: number): Task<number> {
    return new MemOp<number>(this, MEM.CAS64, offset, expected, desired, null);
  }

  faa64(offset: number, delta: number): Task<number> {
    return new MemOp<number>(this, MEM.FAA64, offset, delta, 0, null);
  }

  persist(offset: number, length: number): Task<void> {
    return new Persist(this, offset, length);
  }

  /** The CPU cost of a memory operation, drawn (with its jitter) when the thread reaches it; validates its address. */
  opCost(kind: number, offset: number, a: number): number {
    const c = this.env.costs;
    switch (kind) {
      case MEM.READ:
        this.check(offset, a);
        return this.cost(c.dramAccessNs + Math.ceil(a / c.copyBytesPerNs));
      case MEM.WRITE:
        this.check(offset, a);
        return this.cost(this.storeCost() + Math.ceil(a / c.copyBytesPerNs));
      case MEM.LOAD64:
        this.checkWord(offset);
        return this.cost(c.dramAccessNs);
      case MEM.STORE64:
        this.checkWord(offset);
        return this.cost(this.storeCost());
      default:
        this.checkWord(offset);
        return this.cost(c.atomicNs);
    }
  }

  /** The effect of a memory operation, when the thread resumes after its cost. */
  opEffect(kind: number, offset: number, a: number, b: number, bytes: Uint8Array | null): unknown {
    switch (kind) {
      case MEM.READ:
        return this.peek(offset, a);
      case MEM.WRITE:
        this.poke(offset, bytes!);
        return undefined;
      case MEM.LOAD64:
        return this.peek64(offset);
      case MEM.STORE64:
        this.poke64(offset, a);
        return undefined;
      case MEM.CAS64: {
        const old = this.peek64(offset);
        if (old === a) this.poke64(offset, b);
        return old;
      }
      default: {
        const old = this.peek64(offset);
        this.poke64(offset, old + a);
        return old;
      }
    }
  }

  /** The CPU cost of persisting [offset, offset + length): a base plus one clwb per line. */
  persistCost(offset: number, length: number): number {
    this.check(offset, length);
    const c = this.env.costs;
    const lines = length === 0 ? 0 : Math.floor((offset + length - 1) / LINE) - Math.floor(offset / LINE) + 1;
    return this.cost(c.persistBaseNs + lines * c.persistPerLineNs);
  }

  /** Flushes the range now; returns how long the thread still waits for the device to accept it. */
  persistNow(offset: number, length: number): number {
    return this.flushLines(offset, length, this.env.now()) - this.env.now();
  }

  /** clwb of every dirty line in the range: copy to the persistence domain and feed the device. */
  flushLines(offset: number, length: number, nowNs: number): number {
    const d = this.dirty;
    if (d === null || length === 0) return nowNs;
    let accepted = nowNs;
    const last = Math.floor((offset + length - 1) / LINE);
    for (let l = Math.floor(offset / LINE); l <= last; l++) {
      if (d[l] === 0) continue;
      d[l] = 0;
      this.dirtyLines--;
      const start = l * LINE;
      const end = Math.min(start + LINE, this.sizeBytes);
      this.durable!.set(this.visible.subarray(start, end), start);
      const t = this.env.device.write(this.deviceBase + start, end - start, nowNs);
      if (t > accepted) accepted = t;
    }
    return accepted;
  }

  /**
   * A NIC DMA write (remote WRITE, SEND payload, READ response) of `bytes` at `offset`.
   * DDIO on: lands in the volatile cache, like a CPU store. DDIO off: lands in the persistence
   * domain and goes through the device. Returns when the memory system has accepted it.
   */
  nicWrite(offset: number, bytes: Uint8Array, nowNs: number): number {
    this.check(offset, bytes.length);
    this.visible.set(bytes, offset);
    if (this.kind !== 'pm') return nowNs;
    if (this.env.ddio) {
      this.markDirty(offset, bytes.length);
      return nowNs;
    }
    this.durable!.set(bytes, offset);
    return this.env.device.write(this.deviceBase + offset, bytes.length, nowNs);
  }

  /** A NIC atomic on a word: performed in the memory system, persisted like a NIC write. */
  nicCas(offset: number, expected: number, desired: number, nowNs: number): number {
    const old = this.peek64(offset);
    if (old === expected) {
      const b = new Uint8Array(8);
      const v = new DataView(b.buffer);
      v.setUint32(0, desired >>> 0, true);
      v.setUint32(4, Math.floor(desired / 4294967296), true);
      this.nicWrite(offset, b, nowNs);
    }
    return old;
  }

  /** The crash: apply the policy to unpersisted words, then reload what survived. */
  crash(policy: CrashPolicy, rng: SeededRng): void {
    const d = this.dirty;
    const dur = this.durable;
    if (d === null || dur === null) return;
    if (this.dirtyLines > 0) {
      for (let l = 0; l < d.length; l++) {
        if (d[l] === 0) continue;
        d[l] = 0;
        const start = l * LINE;
        const end = Math.min(start + LINE, this.sizeBytes);
        for (let w = start; w < end; w += 8) {
          const keepNew = policy === 'keep' || (policy === 'tear' && rng.next() < 0.5);
          if (keepNew) dur.set(this.visible.subarray(w, Math.min(w + 8, end)), w);
        }
      }
      this.dirtyLines = 0;
    }
    this.visible.set(dur);
  }
}

/** What a node's memory regions need from their node. */
export interface MemoryEnv {
  readonly costs: MemoryCosts;
  readonly rng: SeededRng;
  readonly device: PmDevice;
  readonly ddio: boolean;
  now(): number;
}

/**
 * The memory of one simulated node. PM regions persist across crashes (by name); DRAM regions
 * die with the boot that allocated them.
 */
export class SimMemoryProvider implements MemoryProvider {
  readonly isRealPm = false;
  private nextDeviceBase = 0;
  readonly pmRegions = new Map<string, SimMemory>();
  /** DRAM regions of the current boot. */
  dramRegions: SimMemory[] = [];

  constructor(private readonly env: MemoryEnv) {}

  dram(name: string, sizeBytes: number): Memory {
    const m = new SimMemory(name, 'dram', sizeBytes, this.env, 0);
    this.dramRegions.push(m);
    return m;
  }

  pm(name: string, sizeBytes: number): Memory {
    const existing = this.pmRegions.get(name);
    if (existing !== undefined) {
      if (existing.sizeBytes !== sizeBytes) throw new Error(`pm region ${name}: reopened with size ${sizeBytes}, has ${existing.sizeBytes}`);
      return existing;
    }
    const m = new SimMemory(name, 'pm', sizeBytes, this.env, this.nextDeviceBase);
    const align = 4096;
    this.nextDeviceBase += Math.ceil(sizeBytes / align) * align;
    this.pmRegions.set(name, m);
    return m;
  }

  crash(policy: CrashPolicy, rng: SeededRng): void {
    for (const m of this.pmRegions.values()) m.crash(policy, rng);
    this.dramRegions = [];
  }
}

/** Memory operation kinds (MemOp). */
const MEM = { READ: 0, WRITE: 1, LOAD64: 2, STORE64: 3, CAS64: 4, FAA64: 5 } as const;

/** A load, store or atomic: one scheduling point (its CPU cost), then the access. */
class MemOp<T> extends OneStep<T> {
  constructor(
    private readonly mem: SimMemory,
    private readonly kind: number,
    private readonly offset: number,
    /** READ/WRITE: length; STORE64: value; CAS64: expected; FAA64: delta. */
    private readonly a: number,
    /** CAS64: desired. */
    private readonly b: number,
    private readonly bytes: Uint8Array | null,
  ) {
    super();
  }
  protected cost(): Wait {
    return this.mem.opCost(this.kind, this.offset, this.kind === MEM.READ || this.kind === MEM.WRITE ? this.a : 8);
  }
  protected effect(): T {
    return this.mem.opEffect(this.kind, this.offset, this.a, this.b, this.bytes) as T;
  }
}

/** persist(range): the clwb/sfence cost, then — if the device is behind — a wait until it accepts the lines. */
class Persist extends SimOp<void> {
  constructor(
    private readonly mem: SimMemory,
    private readonly offset: number,
    private readonly length: number,
  ) {
    super();
  }
  next(): IteratorResult<Wait, void> {
    if (this.stage === 0) {
      this.stage = 1;
      return yielded(this.mem.persistCost(this.offset, this.length));
    }
    if (this.stage === 1) {
      const wait = this.mem.persistNow(this.offset, this.length);
      if (wait > 0) {
        this.stage = 2;
        return yielded(wait);
      }
    }
    this.stage = DONE;
    return returned(undefined);
  }
}
