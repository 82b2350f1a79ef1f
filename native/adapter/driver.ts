import { ARGS_LEN, type Addon, ENTRY_HAS_DATA, ENTRY_RELEASED, type NativeNic, type NicInfo, OUT_STRIDE } from '../addon.js';
import type { Pollable } from './scheduler.js';
import { type CmMessage, type DirEntry, FI, TAG_CM, fromHex, makeTag, toHex } from './wire.js';

/** One completion as the driver hands it to the owner of the operation. */
export interface NativeEntry {
  /** 0, or a positive libfabric errno. */
  err: number;
  /** The multi-packet buffer was released (always true for other receives). */
  released: boolean;
  hasData: boolean;
  len: number;
  bufOffset: number;
  dataHi: number;
  /** -1 when the provider carries only 4 bytes of CQ data. */
  dataLo: number;
  value: number;
}

/** Whoever posted an operation receives its completion. */
export interface OpSink {
  onNative(op: NativeOp, e: NativeEntry): void;
}

/** A posted libfabric operation. `id` indexes the driver's table while it is outstanding. */
export class NativeOp {
  id = -1;
  /** Counted in the driver's in-flight total (everything but posted receives). */
  counted = false;
  readonly sink: OpSink;
  /** Without a sink, the operation object itself must implement OpSink. */
  constructor(sink?: OpSink) {
    this.sink = sink ?? (this as unknown as OpSink);
  }
}

/** How a node finds a peer's main endpoint. */
export type PeerAddress = { host: string; port: number } | { name: Uint8Array };

export interface DriverOptions {
  nodeId: number;
  bootCount: number;
  provider: string;
  host: string;
  port: number;
  atomics: 'auto' | 'native' | 'rpc';
  /** delivery: FI_DELIVERY_COMPLETE on sends/writes; transmit: not (the fabric confirms placement with READs). */
  completion: 'delivery' | 'transmit';
  /** Peers' main endpoint addresses, by node id (looked up lazily, so it may be filled in later). */
  peers: (node: number) => PeerAddress | undefined;
  /** The scheduler's clock (ns). */
  now: () => number;
  /**
   * How long a post may keep being refused with EAGAIN before it fails as retry-exceeded. rxm
   * answers EAGAIN while it (re)connects, and keeps doing so for a peer that is gone.
   */
  retryTimeoutNs: number;
}

const CM_SLOTS = 16;
const CM_SLOT_BYTES = 16384;
const POLL_BATCH = 256;

interface RemoteDir {
  boot: number;
  entries: Map<number, DirEntry>;
  /** Bumped every time a fresh directory arrives. */
  version: number;
  waiting: ((fresh: boolean) => void)[];
  requested: boolean;
}

/** Something whose posting was refused with EAGAIN (the provider is connecting, or its queue is full). */
export interface Retryable {
  /** Tries again; returns true when nothing is left to retry. */
  retry(): boolean;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The JavaScript side of one node's NIC: posts operations through the addon (arguments in a shared
 * Float64Array, no per-call object), polls completions in batches of up to 256 (one N-API call for
 * a whole batch), dispatches each to the object that posted it, and runs the connection manager.
 */
export class NicDriver implements Pollable {
  readonly nic: NativeNic;
  readonly info: NicInfo;
  readonly canWait: boolean;
  private readonly args = new Float64Array(ARGS_LEN);
  private readonly out = new Float64Array(OUT_STRIDE * POLL_BATCH);
  private readonly entry: NativeEntry = { err: 0, released: true, hasData: false, len: 0, bufOffset: 0, dataHi: 0, dataLo: 0, value: 0 };
  private ops: (NativeOp | undefined)[] = [];
  private readonly freeIds: number[] = [];
  /** Posted operations not yet completed (receives excluded). */
  inflight = 0;
  private readonly retries = new Set<Retryable>();
  private readonly bufIds = new Map<ArrayBuffer, number>();
  private readonly peerAddrs = new Map<number, number>();
  private closed = false;

  // ---- connection manager ----
  private readonly cmBuf = new ArrayBuffer(CM_SLOTS * CM_SLOT_BYTES);
  readonly cmTag = makeTag(TAG_CM, 0, 0);
  /** Handles CM messages (set by the fabric). */
  onCm: ((m: CmMessage) => void) | null = null;
  /** Runs at the start of every poll (the fabric posts its flush READs there). */
  beforePoll: (() => void) | null = null;
  private cmIds = 0;
  /** Regions this node registered, as peers see them. */
  readonly localDir: DirEntry[] = [];
  private readonly remoteDirs = new Map<number, RemoteDir>();
  private readonly mainName: string;

  constructor(
    addon: Addon,
    readonly opts: DriverOptions,
    onReadable: () => void,
  ) {
    this.nic = new addon.Nic({ provider: opts.provider, host: opts.host, port: opts.port, atomics: opts.atomics, completion: opts.completion });
    this.nic.setIo(this.args, this.out);
    this.info = this.nic.info();
    this.canWait = this.info.waitFd;
    this.mainName = toHex(this.info.name);
    this.nic.onReadable(onReadable);
    this.bufId(this.cmBuf);
    for (let i = 0; i < CM_SLOTS; i++) this.postCmRecv(i);
  }

  get nodeId(): number {
    return this.opts.nodeId;
  }

  /** Hex of the main endpoint's address: what peers insert into their address vector. */
  get name(): string {
    return this.mainName;
  }

  // ---- operation table ----

  private assign(op: NativeOp): number {
    const id = this.freeIds.length > 0 ? this.freeIds.pop()! : this.ops.length;
    this.ops[id] = op;
    op.id = id;
    return id;
  }

  private release(op: NativeOp): void {
    if (op.id < 0) return;
    this.ops[op.id] = undefined;
    this.freeIds.push(op.id);
    op.id = -1;
    if (op.counted) {
      op.counted = false;
      this.inflight--;
    }
  }

  private posted(op: NativeOp, rc: number, counted: boolean): number {
    if (rc !== 0) {
      this.release(op);
      return rc;
    }
    if (counted) {
      op.counted = true;
      this.inflight++;
    }
    return 0;
  }

  /** The addon's buffer id for an ArrayBuffer (registered for local access on first use). */
  bufId(buf: ArrayBuffer): number {
    let id = this.bufIds.get(buf);
    if (id === undefined) {
      id = this.nic.addBuffer(buf);
      this.bufIds.set(buf, id);
    }
    return id;
  }

  // ---- posting (each returns 0 or a negative libfabric errno; -11 = EAGAIN: retry later) ----

  postSend(op: NativeOp, ep: number, dest: number, tag: number, src: { buf: ArrayBuffer; off: number; len: number } | Uint8Array, padTo: number, hi: number, lo: number): number {
    const a = this.args;
    a[0] = ep;
    a[1] = dest;
    a[2] = tag;
    a[6] = padTo;
    a[7] = hi;
    a[8] = lo;
    a[9] = this.assign(op);
    if (src instanceof Uint8Array) {
      a[5] = src.length;
      return this.posted(op, this.nic.postSend(src), true);
    }
    a[3] = this.bufId(src.buf);
    a[4] = src.off;
    a[5] = src.len;
    return this.posted(op, this.nic.postSend(), true);
  }

  postRecv(op: NativeOp, ep: number, tag: number, buf: ArrayBuffer, off: number, len: number, multi: boolean): number {
    const a = this.args;
    a[0] = ep;
    a[1] = tag;
    a[2] = this.bufId(buf);
    a[3] = off;
    a[4] = len;
    a[5] = multi ? 1 : 0;
    a[6] = this.assign(op);
    return this.posted(op, this.nic.postRecv(), false);
  }

  postWrite(op: NativeOp, dest: number, src: { buf: ArrayBuffer; off: number; len: number } | Uint8Array, raddr: number, key: number): number {
    const a = this.args;
    a[0] = 0;
    a[1] = dest;
    a[5] = raddr;
    a[6] = key;
    a[7] = this.assign(op);
    if (src instanceof Uint8Array) {
      a[4] = src.length;
      return this.posted(op, this.nic.postWrite(src), true);
    }
    a[2] = this.bufId(src.buf);
    a[3] = src.off;
    a[4] = src.len;
    return this.posted(op, this.nic.postWrite(), true);
  }

  postRead(op: NativeOp, dest: number, dst: { buf: ArrayBuffer; off: number; len: number }, raddr: number, key: number): number {
    const a = this.args;
    a[0] = 0;
    a[1] = dest;
    a[2] = this.bufId(dst.buf);
    a[3] = dst.off;
    a[4] = dst.len;
    a[5] = raddr;
    a[6] = key;
    a[7] = this.assign(op);
    return this.posted(op, this.nic.postRead(), true);
  }

  postCas(op: NativeOp, dest: number, raddr: number, key: number, expected: number, desired: number, dst: { buf: ArrayBuffer; off: number } | null): number {
    const a = this.args;
    a[0] = 0;
    a[1] = dest;
    a[2] = raddr;
    a[3] = key;
    a[4] = expected;
    a[5] = desired;
    a[6] = dst === null ? -1 : this.bufId(dst.buf);
    a[7] = dst === null ? 0 : dst.off;
    a[8] = this.assign(op);
    return this.posted(op, this.nic.postCas(), true);
  }

  /** Cancels a posted receive; it completes with ECANCELED. */
  cancel(op: NativeOp): void {
    if (op.id >= 0 && !this.closed) this.nic.cancel(op.id);
  }

  retryLater(r: Retryable): void {
    this.retries.add(r);
  }

  // ---- Pollable ----

  poll(): number {
    if (this.closed) return 0;
    this.beforePoll?.();
    let total = 0;
    const out = this.out;
    const e = this.entry;
    for (;;) {
      const n = this.nic.poll(POLL_BATCH);
      for (let i = 0; i < n; i++) {
        const b = i * OUT_STRIDE;
        const op = this.ops[out[b]!];
        if (op === undefined) continue;
        const flags = out[b + 2]!;
        e.err = out[b + 1]!;
        e.released = (flags & ENTRY_RELEASED) !== 0;
        e.hasData = (flags & ENTRY_HAS_DATA) !== 0;
        e.len = out[b + 3]!;
        e.bufOffset = out[b + 4]!;
        e.dataHi = out[b + 5]!;
        e.dataLo = out[b + 6]!;
        e.value = out[b + 7]!;
        if (e.released) this.release(op);
        op.sink.onNative(op, e);
      }
      total += n;
      if (n < POLL_BATCH) break;
    }
    if (this.retries.size > 0) {
      for (const r of [...this.retries]) if (r.retry()) this.retries.delete(r);
    }
    return total;
  }

  busy(): boolean {
    return this.inflight > 0 || this.retries.size > 0;
  }

  tryWait(): boolean {
    if (this.closed) return true;
    if (this.retries.size > 0) return false;
    return !this.canWait || this.nic.tryWait();
  }

  // ---- addresses ----

  /** The fi_addr of a node's main endpoint, or -1 if the cluster configuration has no address for it. */
  addrOfNode(node: number): number {
    let a = this.peerAddrs.get(node);
    if (a !== undefined) return a;
    const p = this.opts.peers(node);
    if (p === undefined) return -1;
    a = 'name' in p ? this.nic.avInsertName(p.name) : this.nic.avInsertService(p.host, p.port);
    this.peerAddrs.set(node, a);
    return a;
  }

  /** Drops a cached peer address (the peer restarted somewhere else). */
  forgetPeer(node: number): void {
    this.peerAddrs.delete(node);
  }

  /** The fi_addr of a raw address (hex), e.g. a connecting peer's or a multi-packet SRQ endpoint's. */
  addrOfName(hex: string): number {
    return this.nic.avInsertName(fromHex(hex));
  }

  // ---- connection manager transport ----

  newCmId(): number {
    return ++this.cmIds;
  }

  private postCmRecv(slot: number): void {
    const op = new CmRecvOp(this, slot);
    const rc = this.postRecv(op, 0, this.cmTag, this.cmBuf, slot * CM_SLOT_BYTES, CM_SLOT_BYTES, false);
    if (rc === -FI.EAGAIN) this.retryLater({ retry: () => this.postRecv(op, 0, this.cmTag, this.cmBuf, slot * CM_SLOT_BYTES, CM_SLOT_BYTES, false) !== -FI.EAGAIN });
    else if (rc !== 0) throw new Error(`node ${this.nodeId}: cannot post connection-manager buffers (${rc})`);
  }

  /** @internal a CM receive completed */
  cmReceived(op: CmRecvOp, e: NativeEntry): void {
    if (e.err === FI.ECANCELED || this.closed) return;
    if (e.err === 0) {
      let msg: CmMessage | null = null;
      try {
        const off = op.slot * CM_SLOT_BYTES;
        msg = JSON.parse(decoder.decode(new Uint8Array(this.cmBuf, off, e.len))) as CmMessage;
      } catch {
        msg = null;
      }
      this.postCmRecv(op.slot);
      if (msg !== null) this.onCm?.(msg);
      return;
    }
    this.postCmRecv(op.slot);
  }

  /** Sends a CM message to `dest` (an fi_addr); `onError` runs if it cannot be delivered. */
  cmSend(dest: number, m: CmMessage, onError?: () => void): void {
    const bytes = encoder.encode(JSON.stringify(m));
    if (bytes.length > CM_SLOT_BYTES) throw new Error(`connection-manager message of ${bytes.length} bytes exceeds ${CM_SLOT_BYTES}`);
    const op = new CmSendOp(onError ?? null);
    this.sendWithRetry(op, dest, this.cmTag, bytes, (this.nodeId & 0xffff) << 16, () => onError?.());
  }

  /**
   * Posts a tagged inline send, retrying while the provider answers EAGAIN, for at most
   * `retryTimeoutNs`; `onFail` runs if the post fails (then or later).
   */
  sendWithRetry(op: NativeOp, dest: number, tag: number, bytes: Uint8Array, hi: number, onFail: () => void): void {
    const attempt = (): number => this.postSend(op, 0, dest, tag, bytes, 0, hi, bytes.length);
    const rc = attempt();
    if (rc === 0) return;
    if (rc !== -FI.EAGAIN) {
      onFail();
      return;
    }
    const since = this.opts.now();
    this.retryLater({
      retry: () => {
        const r = attempt();
        if (r === -FI.EAGAIN) {
          if (this.opts.now() - since < this.opts.retryTimeoutNs) return false;
          onFail();
          return true;
        }
        if (r !== 0) onFail();
        return true;
      },
    });
  }

  get retryTimeoutNs(): number {
    return this.opts.retryTimeoutNs;
  }

  now(): number {
    return this.opts.now();
  }

  // ---- registration directory ----

  addLocalDir(e: DirEntry): void {
    this.localDir.push(e);
  }

  /** Peers (fi_addr) that were sent this node's directory: told when a registration is revoked. */
  readonly dirHolders = new Set<number>();

  removeLocalDir(rkey: number): DirEntry | undefined {
    const i = this.localDir.findIndex((e) => e.rkey === rkey);
    if (i < 0) return undefined;
    return this.localDir.splice(i, 1)[0];
  }

  /** A peer revoked one of its registrations. */
  dropDir(node: number, boot: number, rkey: number): void {
    const d = this.remoteDirs.get(node);
    if (d !== undefined && d.boot === boot) d.entries.delete(rkey);
  }

  /** The peer's directory entry for `rkey` if known for boot `boot`. */
  lookupDir(node: number, boot: number, rkey: number): DirEntry | undefined {
    const d = this.remoteDirs.get(node);
    if (d === undefined || d.boot !== boot) return undefined;
    return d.entries.get(rkey);
  }

  /** Boot of the peer whose directory is known, or -1. */
  lookupDirBoot(node: number): number {
    return this.remoteDirs.get(node)?.boot ?? -1;
  }

  dirVersion(node: number): number {
    return this.remoteDirs.get(node)?.version ?? 0;
  }

  setDir(node: number, boot: number, dir: DirEntry[]): void {
    let d = this.remoteDirs.get(node);
    if (d === undefined) {
      d = { boot, entries: new Map(), version: 0, waiting: [], requested: false };
      this.remoteDirs.set(node, d);
    }
    if (d.boot !== boot) {
      d.boot = boot;
      d.entries.clear();
    }
    for (const e of dir) d.entries.set(e.rkey, e);
    d.version++;
    d.requested = false;
    const w = d.waiting;
    d.waiting = [];
    for (const f of w) f(true);
  }

  /** Asks `node` (at fi_addr `dest`) for its directory; `then(fresh)` runs when it arrives (true) or the request fails (false). */
  refreshDir(node: number, dest: number, then: (fresh: boolean) => void): void {
    let d = this.remoteDirs.get(node);
    if (d === undefined) {
      d = { boot: -1, entries: new Map(), version: 0, waiting: [], requested: false };
      this.remoteDirs.set(node, d);
    }
    d.waiting.push(then);
    if (d.requested) return;
    d.requested = true;
    const dd = d;
    const fail = (): void => {
      dd.requested = false;
      dd.version++;
      const w = dd.waiting;
      dd.waiting = [];
      for (const f of w) f(false);
    };
    this.cmSend(dest, { t: 'dirq', id: this.newCmId(), node: this.nodeId, name: this.mainName }, fail);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.retries.clear();
    this.nic.onReadable(null);
    this.nic.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

class CmRecvOp extends NativeOp implements OpSink {
  constructor(
    private readonly driver: NicDriver,
    readonly slot: number,
  ) {
    super();
  }

  onNative(_op: NativeOp, e: NativeEntry): void {
    this.driver.cmReceived(this, e);
  }
}

class CmSendOp extends NativeOp implements OpSink {
  constructor(private readonly onError: (() => void) | null) {
    super();
  }

  onNative(_op: NativeOp, e: NativeEntry): void {
    if (e.err !== 0) this.onError?.();
  }
}
