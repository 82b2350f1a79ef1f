import { s, type SchemaType } from '../../kv/schema.js';

/**
 * The CPU work of request handling — ONE definition shared by LoLKV and the Mu baseline, so that
 * the same work costs the same in both (docs/lolkv.md, "CPU costs"). Each protocol charges these
 * with `rt.compute(ns)` on the core of the thread doing the work; the simulator's memory model
 * charges memory operations (loads, stores, CAS, persists, copies into PM) separately, and its NIC
 * model charges posting work requests (`postCostNs`) and polling CQs (`pollCostNs`).
 *
 * Defaults and where they come from (per operation on one core of a ≈ 2 GHz Xeon, the seed's
 * testbed: 8-core 2.1 GHz, ConnectX-3):
 *
 *  - `requestNs` 150 — receiving one request over UD: taking the receive completion, parsing the
 *    RPC header and the request, dispatching to the handler. eRPC (Kalia et al., NSDI 2019) runs
 *    ≈ 10 M small RPCs per second on one core including the response (≈ 100 ns per RPC), and
 *    HERD/FaSST-style UD RPC servers reach 5–10 M requests/s per core (100–200 ns); 150 ns is the
 *    middle of that range for the receive side.
 *  - `replyNs` 80 — composing the response (RPC header, copying a small value into the send
 *    buffer); the doorbell itself is the NIC model's post cost.
 *  - `hashNs` 20 — hashing a short key (xxHash/CityHash on 16–32 B keys: 10–20 ns).
 *  - `objectFixedNs` 40 + `bytes / copyBytesPerNs` + `bytes / crcBytesPerNs` — composing an object
 *    or log entry (header fields, copying key and value, its CRC-32C). memcpy of small, cache-
 *    resident buffers runs at ≈ 10 GB/s on one core (`copyBytesPerNs` 10); CRC-32C with the SSE4.2
 *    `crc32` instruction (8 bytes per instruction, 3-cycle latency) ≈ 5–6 GB/s on one stream at
 *    2.1 GHz (`crcBytesPerNs` 6). Decoding/verifying an object costs `objectFixedNs + bytes/crc`.
 *  - `tableNs` 100 — a hash-table probe (lookup or apply): one or two cache misses on the slot
 *    and the object it points at (a DRAM miss is ≈ 80–100 ns on such CPUs), key comparison and
 *    the CAS, beyond the memory model's per-access charges (which model the access pipeline,
 *    20–30 ns each). MICA (Lim et al., NSDI 2014) reports ≈ 100–150 ns per GET/PUT of its
 *    in-memory store on one core, network stack excluded.
 *
 * Overridable per scenario through `protocol.options.cpu` (both protocols accept the same object).
 * Setting every field to 0 restores the old model (no CPU cost beyond memory and NIC operations).
 */
export const cpuOptions = s.obj(
  {
    requestNs: s.num({ min: 0, default: 150, doc: 'Receive one UD request: completion, RPC header and request parse, dispatch (eRPC-style, ≈ 100–200 ns).' }),
    replyNs: s.num({ min: 0, default: 80, doc: 'Compose one response (RPC header, value copy); the doorbell is the NIC model\'s post cost.' }),
    hashNs: s.num({ min: 0, default: 20, doc: 'Hash a key.' }),
    objectFixedNs: s.num({ min: 0, default: 40, doc: 'Fixed cost of composing or decoding an object / log entry (header fields).' }),
    copyBytesPerNs: s.num({ min: 0.1, default: 10, doc: 'memcpy rate of one core (≈ 10 GB/s).' }),
    crcBytesPerNs: s.num({ min: 0.1, default: 6, doc: 'CRC-32C rate of one core with SSE4.2 (≈ 5–6 GB/s).' }),
    tableNs: s.num({ min: 0, default: 100, doc: 'Hash-table probe (lookup or apply): one or two cache misses, key compare, CAS.' }),
  },
  { doc: 'CPU cost of request handling, charged identically by LoLKV and the Mu baseline (src/protocols/lolkv/cpu.ts).' },
);

export type CpuOptions = SchemaType<typeof cpuOptions>;

/** The costs in ns for one configuration (whole ns: the simulator's clock is in ns). */
export class CpuCosts {
  constructor(readonly o: CpuOptions) {}

  /** Receive and parse one request. */
  get request(): number {
    return Math.round(this.o.requestNs);
  }

  /** Compose one response. */
  get reply(): number {
    return Math.round(this.o.replyNs);
  }

  get hash(): number {
    return Math.round(this.o.hashNs);
  }

  get table(): number {
    return Math.round(this.o.tableNs);
  }

  /** Compose an object / log entry of `bytes` bytes: header, copy of key and value, CRC. */
  compose(bytes: number): number {
    return Math.round(this.o.objectFixedNs + bytes / this.o.copyBytesPerNs + bytes / this.o.crcBytesPerNs);
  }

  /** Decode and verify an object / log entry of `bytes` bytes: header, CRC. */
  decode(bytes: number): number {
    return Math.round(this.o.objectFixedNs + bytes / this.o.crcBytesPerNs);
  }

  /** Copy `bytes` bytes into another structure (Mu: a log entry's value into the store). */
  copy(bytes: number): number {
    return Math.round(this.o.objectFixedNs + bytes / this.o.copyBytesPerNs);
  }
}
