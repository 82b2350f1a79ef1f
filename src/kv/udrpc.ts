import type { CompletionQueue, Memory, Platform, Task, UdAddress, UdEndpoint } from '../platform/index.js';
import { Writer } from './codec.js';

/**
 * Request/response over unreliable datagrams (clients ↔ servers, as in LoLKV and eRPC-style KV
 * stores). A request carries (clientId, reqId); a client retries with the same reqId so a server
 * can execute each request at most once. Datagrams may be lost or duplicated by retries; replies
 * that do not match the outstanding request are dropped.
 *
 * Wire format: [u8 kind][u32 clientId][u53 reqId][body...], kind 1 = request, 2 = reply.
 */

/** Little-endian u32 at `at`. */
function u32At(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

const KIND_REQUEST = 1;
const KIND_REPLY = 2;
const HEADER_BYTES = 13;

export interface UdRpcOptions {
  /** Receive buffers kept posted. */
  recvSlots?: number;
  /** Bytes per receive buffer (≤ MTU). */
  slotBytes?: number;
}

/** A UD endpoint with a ring of posted receive buffers in DRAM. */
class Mailbox {
  readonly ud: UdEndpoint;
  readonly recvCq: CompletionQueue;
  private readonly mem: Memory;
  private readonly slotBytes: number;
  private primed = false;

  constructor(
    p: Platform,
    name: string,
    private readonly slots: number,
    slotBytes: number,
    port?: number,
  ) {
    this.slotBytes = slotBytes;
    this.mem = p.memory.dram(`${name}.rx`, slots * slotBytes);
    const sendCq = p.fabric.createCq({ capacity: 64, overrunIgnoring: true });
    this.recvCq = p.fabric.createCq({ capacity: slots + 8 });
    this.ud = p.fabric.createUd({ ...(port === undefined ? {} : { port }), cq: sendCq, recvCq: this.recvCq, recvCapacity: slots });
  }

  *prime(): Task<void> {
    if (this.primed) return;
    this.primed = true;
    for (let i = 0; i < this.slots; i++) yield* this.ud.postRecv({ mem: this.mem, offset: i * this.slotBytes, length: this.slotBytes }, i);
  }

  /** Next datagram (bytes + source), or null after `timeoutNs`. The slot is reposted. */
  *receive(timeoutNs?: number): Task<{ bytes: Uint8Array; src: UdAddress } | null> {
    if (!this.primed) yield* this.prime();
    for (;;) {
      const c = yield* this.recvCq.next(timeoutNs);
      if (c === null) return null;
      if (c.status !== 'success' || c.udSrc === undefined) continue;
      const bytes = this.mem.peek(c.wrId * this.slotBytes, c.byteLen);
      yield* this.ud.postRecv({ mem: this.mem, offset: c.wrId * this.slotBytes, length: this.slotBytes }, c.wrId);
      return { bytes, src: c.udSrc };
    }
  }
}

export interface RpcRequest {
  readonly src: UdAddress;
  readonly clientId: number;
  readonly reqId: number;
  readonly body: Uint8Array;
}

/** Server side: receive requests on a well-known port, reply to their source. */
export class UdRpcServer {
  private readonly box: Mailbox;
  private readonly pool: Writer[] = [];

  constructor(p: Platform, name: string, port: number, opts: UdRpcOptions = {}) {
    this.box = new Mailbox(p, name, opts.recvSlots ?? 128, opts.slotBytes ?? 4096, port);
  }

  get address(): UdAddress {
    return this.box.ud.address;
  }

  /** Primes the receive ring (call once before clients may send). */
  *start(): Task<void> {
    yield* this.box.prime();
  }

  *next(timeoutNs?: number): Task<RpcRequest | null> {
    for (;;) {
      const m = yield* this.box.receive(timeoutNs);
      if (m === null) return null;
      const b = m.bytes;
      if (b.length < HEADER_BYTES || b[0] !== KIND_REQUEST) continue;
      return { src: m.src, clientId: u32At(b, 1), reqId: u32At(b, 5) + u32At(b, 9) * 4294967296, body: b.subarray(HEADER_BYTES) };
    }
  }

  *reply(req: RpcRequest, body: Uint8Array): Task<void> {
    yield* this.replyWith(req, (w) => w.bytes(body));
  }

  /** Replies with a body written by `fill` straight after the header (no intermediate buffer). */
  *replyWith(req: RpcRequest, fill: (w: Writer) => void): Task<void> {
    // Several coroutines may reply at once (a pipelined worker): each takes a writer of the pool
    // and gives it back once the send was posted (the endpoint has copied the bytes by then).
    const w = this.pool.pop() ?? new Writer(256);
    w.reset().u8(KIND_REPLY).u32(req.clientId).u53(req.reqId);
    fill(w);
    yield* this.box.ud.send(req.src, w.view(), { signaled: false });
    this.pool.push(w);
  }
}

/** Client side: one outstanding request at a time. */
export class UdRpcClient {
  private readonly box: Mailbox;
  private nextReqId = 1;
  /** Reused for every request: one outstanding request at a time, and the send copies the bytes. */
  private readonly out = new Writer(256);

  constructor(
    p: Platform,
    name: string,
    readonly clientId: number,
    opts: UdRpcOptions = {},
  ) {
    this.box = new Mailbox(p, name, opts.recvSlots ?? 16, opts.slotBytes ?? 4096);
  }

  /** A fresh request id; reuse it for every retry of the same operation. */
  newRequestId(): number {
    return this.nextReqId++;
  }

  /** Sends one attempt of request `reqId` and waits up to `timeoutNs` for its reply. */
  *call(dst: UdAddress, reqId: number, body: Uint8Array, timeoutNs: number, now: () => number): Task<Uint8Array | null> {
    const w = this.out.reset().u8(KIND_REQUEST).u32(this.clientId).u53(reqId).bytes(body);
    yield* this.box.ud.send(dst, w.view(), { signaled: false });
    const deadline = now() + timeoutNs;
    for (;;) {
      const left = deadline - now();
      if (left <= 0) return null;
      const m = yield* this.box.receive(left);
      if (m === null) return null;
      const b = m.bytes;
      if (b.length < HEADER_BYTES || b[0] !== KIND_REPLY || u32At(b, 1) !== this.clientId || u32At(b, 5) + u32At(b, 9) * 4294967296 !== reqId) continue; // stale reply
      return b.subarray(HEADER_BYTES);
    }
  }
}
