/**
 * Loads kvlab's native addon (native/build/Release/kvlab_native.node, built by `cd native && npx
 * node-gyp rebuild`) and describes its JavaScript surface. Nothing here is protocol code.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Doubles per completion entry in the poll output array (nic.h OUT_STRIDE). */
export const OUT_STRIDE = 8;
/** Doubles in the post-argument array (nic.h ARGS_LEN). */
export const ARGS_LEN = 16;
/** Entry flags. */
export const ENTRY_RELEASED = 1;
export const ENTRY_HAS_DATA = 2;

export interface NicOrder {
  rar: boolean;
  raw: boolean;
  war: boolean;
  waw: boolean;
  sar: boolean;
  saw: boolean;
  sas: boolean;
  ras: boolean;
  was: boolean;
  /** Atomics are ordered among themselves (all four ATOMIC_* bits). */
  atomic: boolean;
}

export interface NicInfo {
  provider: string;
  fabric: string;
  domain: string;
  mrMode: number;
  mrLocal: boolean;
  virtAddr: boolean;
  provKey: boolean;
  atomics: 'native' | 'rpc';
  deliveryComplete: boolean;
  cqDataSize: number;
  injectSize: number;
  maxMsgSize: number;
  iovLimit: number;
  dataProgress: 'auto' | 'manual';
  waitFd: boolean;
  order: NicOrder;
  /** The main endpoint's raw address (fi_getname). */
  name: Uint8Array;
  address: string;
}

export interface NicStats {
  posts: number;
  polls: number;
  cqReads: number;
  eagain: number;
  rpcServed: number;
  wakeups: number;
  contexts: number;
  freeContexts: number;
}

export interface NicOptions {
  /** tcp (tcp;ofi_rxm), sockets, verbs (verbs;ofi_rxm), or a literal libfabric provider string. */
  provider?: string;
  /** Address of the main endpoint (FI_SOURCE). Port 0 = ephemeral. */
  host?: string;
  port?: number | string;
  /** CAS: provider atomics when available (auto), always (native) or the RPC emulation (rpc). */
  atomics?: 'auto' | 'native' | 'rpc';
  /** Request FI_DELIVERY_COMPLETE on sends and writes (delivery, the default) or not (transmit). */
  completion?: 'delivery' | 'transmit';
}

/** The addon's Nic class (native/src/nic.cc). Post methods read their arguments from the args array set by setIo. */
export interface NativeNic {
  info(): NicInfo;
  createEndpoint(minMultiRecv: number): number;
  getName(ep: number): Uint8Array;
  avInsertService(host: string, port: number | string): number;
  avInsertName(name: Uint8Array): number;
  addBuffer(buf: ArrayBuffer): number;
  regMr(bufId: number, access: number, requestedKey: number): [key: number, base: number];
  /** fi_close on the registration with this key; false if there is none. */
  deregMr(key: number): boolean;
  setIo(args: Float64Array, out: Float64Array): void;
  /** args: ep, dest, tag (-1 untagged), buf, off, len, padTo, dataHi, dataLo, opId. Returns 0 or -errno. */
  postSend(inline?: Uint8Array): number;
  /** args: ep, tag (-1 untagged), buf, off, len, multi, opId. */
  postRecv(): number;
  /** args: ep, dest, buf, off, len, raddr, key, opId. */
  postWrite(inline?: Uint8Array): number;
  /** args: ep, dest, buf, off, len, raddr, key, opId. */
  postRead(): number;
  /** args: ep, dest, raddr, key, expected, desired, dstBuf (-1), dstOff, opId. */
  postCas(): number;
  cancel(opId: number): number;
  /** Reads completions into the out array; returns the number of entries. */
  poll(max?: number): number;
  tryWait(): boolean;
  onReadable(fn: (() => void) | null): void;
  stats(): NicStats;
  close(): void;
}

export interface PmemMapping {
  buffer: ArrayBuffer;
  isPmem: boolean;
  handle: number;
  created: boolean;
}

export interface Addon {
  Nic: new (opts: NicOptions) => NativeNic;
  versions(): { libfabric: string; libfabricApi: string; libpmem: string };
  providers(): string[];
  pmemMap(path: string, size: number): PmemMapping;
  /** mode 0 = auto (pmem_persist on real PM, pmem_msync otherwise), 1 = pmem_persist, 2 = pmem_msync. */
  pmemPersist(handle: number, offset: number, length: number, mode?: number): void;
  pmemMemcpyPersist(handle: number, offset: number, bytes: Uint8Array, mode?: number): void;
  pmemUnmap(handle: number, buffer?: ArrayBuffer): void;
  /** pmem_memcpy_nodrain: libpmem's copy for persistent stores (non-temporal for large sizes); durable after pmemDrain. */
  pmemMemcpyNodrain(handle: number, offset: number, bytes: Uint8Array): void;
  /** pmem_drain (sfence). */
  pmemDrain(): void;
  pmemIsPmem(handle: number): boolean;
}

let cached: Addon | null | undefined;
let loadError = '';

function candidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const out: string[] = [];
  const env = process.env['KVLAB_NATIVE_ADDON'];
  // An explicit path is the only candidate (a missing file there is reported, not replaced by a default build).
  if (env !== undefined && env !== '') return [resolve(env)];
  // From native/addon.ts, and from dist/native/addon.js.
  out.push(join(here, 'build', 'Release', 'kvlab_native.node'));
  out.push(join(here, '..', '..', 'native', 'build', 'Release', 'kvlab_native.node'));
  out.push(join(here, 'build', 'Debug', 'kvlab_native.node'));
  return out;
}

/** The addon, or null when it is not built (see {@link addonUnavailableReason}). */
export function loadAddon(): Addon | null {
  if (cached !== undefined) return cached;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const p of candidates()) {
    if (!existsSync(p)) {
      tried.push(p);
      continue;
    }
    try {
      cached = require(p) as Addon;
      return cached;
    } catch (e) {
      loadError = `${p}: ${e instanceof Error ? e.message : String(e)}`;
      cached = null;
      return null;
    }
  }
  loadError = `the native addon is not built (looked for ${tried.join(', ')}). Build it with: sudo apt-get install libfabric-dev libfabric-bin libpmem-dev && (cd native && npx node-gyp rebuild)`;
  cached = null;
  return null;
}

/** Why {@link loadAddon} returned null (one line). */
export function addonUnavailableReason(): string {
  if (cached === undefined) loadAddon();
  return loadError;
}

/** The addon, or an Error naming exactly what is missing. */
export function requireAddon(): Addon {
  const a = loadAddon();
  if (a === null) throw new Error(`kvlab native: ${addonUnavailableReason()}`);
  return a;
}

/** The provider named by `KVLAB_FI_PROVIDER` (default tcp). */
export function providerFromEnv(): string {
  const p = process.env['KVLAB_FI_PROVIDER'];
  return p === undefined || p === '' ? 'tcp' : p;
}
