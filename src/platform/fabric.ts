import type { LocalSlice, Memory } from './memory.js';
import type { NodeId } from './runtime.js';
import type { Task } from './task.js';

/** Access rights of a registered memory region (bit flags, as ibv_access_flags / FI_REMOTE_*). */
export const Access = {
  LOCAL_WRITE: 1,
  REMOTE_READ: 2,
  REMOTE_WRITE: 4,
  REMOTE_ATOMIC: 8,
  ALL: 15,
} as const;

/** A registered region as a peer names it: plain numbers, so it can travel in a message. */
export interface MemoryKey {
  readonly node: NodeId;
  readonly rkey: number;
  readonly sizeBytes: number;
}

/** A location in a peer's registered memory. */
export interface RemoteAddr {
  readonly rkey: number;
  readonly offset: number;
}

/** The data of a WRITE or SEND: registered local memory, or bytes copied at post time (inline). */
export type Source = LocalSlice | Uint8Array;

export interface WorkRequestOptions {
  /** Echoed in the completion. Default 0. */
  wrId?: number;
  /** Whether a successful completion produces a CQ entry. Errors always do. Default true. */
  signaled?: boolean;
}

export type WcStatus =
  | 'success'
  /** Bad rkey, missing access right or out-of-bounds access at the responder; the QP moves to error. */
  | 'remote-access-error'
  /** Transport retries exhausted (peer crashed, NIC down, partitioned); the QP moves to error. */
  | 'retry-exceeded'
  /** The receiver had no posted buffer for a SEND for too long; the QP moves to error. */
  | 'rnr-retry-exceeded'
  /** The WR was flushed because the QP was (or went) into the error state. */
  | 'flushed'
  /** A received message did not fit the posted buffer. */
  | 'local-length-error';

export type WcOpcode = 'write' | 'read' | 'cas' | 'send' | 'recv' | 'ud-send' | 'ud-recv';

export interface UdAddress {
  readonly node: NodeId;
  readonly port: number;
}

/** A work completion (ibv_wc / fi_cq_data_entry). */
export interface Completion {
  readonly wrId: number;
  readonly status: WcStatus;
  readonly opcode: WcOpcode;
  /** The queue pair (or UD endpoint) the work request belonged to. */
  readonly qpId: number;
  /** Bytes transferred (received bytes for a receive). */
  readonly byteLen: number;
  /** Receives: the sending node. */
  readonly srcNode?: NodeId;
  /** UD receives: the sender's endpoint address. */
  readonly udSrc?: UdAddress;
  /** Multi-packet receives: offset of this message inside the posted buffer. */
  readonly bufOffset?: number;
  /** Multi-packet receives: the NIC has retired the posted buffer (FI_MULTI_RECV released). */
  readonly bufferDone?: boolean;
  /** Compare-and-swap: the old value at the remote word. */
  readonly value?: number;
}

export interface CqOptions {
  capacity: number;
  /**
   * An overrun-ignoring ring (IBV_EXP_CQ_IGNORE_OVERRUN): when full, new entries overwrite the
   * oldest and nothing errs, so nobody needs to poll. Otherwise an overrun is a fatal CQ error that
   * moves every attached QP to the error state.
   */
  overrunIgnoring?: boolean;
}

export interface CompletionQueue {
  readonly capacity: number;
  readonly overrunIgnoring: boolean;
  /** Entries overwritten (overrun-ignoring) so far. */
  readonly overwritten: number;
  /** Takes up to `max` completions (default all) without blocking. A scheduling point. */
  poll(max?: number): Task<Completion[]>;
  /** Waits for the next completion; null if `timeoutNs` passes first. */
  next(timeoutNs?: number): Task<Completion | null>;
}

export interface SrqOptions {
  /** Maximum number of posted receive buffers. */
  capacity: number;
  /** Where receive completions go. */
  cq: CompletionQueue;
  /**
   * Multi-packet receive queue: each posted buffer takes many messages, each starting at a
   * stride-aligned offset right after the previous one (FI_MULTI_RECV / mlx5 MP-RQ).
   */
  multiPacket?: { strideBytes: number };
}

/** A receive queue shared by many QPs (ibv_srq / libfabric shared receive context). */
export interface SharedReceiveQueue {
  readonly multiPacket: boolean;
  /** Buffers posted and not yet retired. */
  readonly postedCount: number;
  postRecv(buf: LocalSlice, wrId: number): Task<void>;
}

/** A reliable connected queue pair (RC): in order, exactly once, ACKed after remote placement. */
export interface QueuePair {
  readonly id: number;
  readonly remote: NodeId;
  /** 'error' after a failed WR, a peer failure or a CQ overrun: every later WR is flushed. */
  readonly state: 'ready' | 'error';
  /** One-sided RDMA WRITE of `src` to `dst` in the peer's memory. */
  write(src: Source, dst: RemoteAddr, wr?: WorkRequestOptions): Task<void>;
  /** One-sided RDMA READ of `dst.length` bytes from `src` into local memory. */
  read(dst: LocalSlice, src: RemoteAddr, wr?: WorkRequestOptions): Task<void>;
  /** Remote atomic compare-and-swap of an aligned 8-byte word; the old value is in the completion (and in `dst` if given). */
  cas(remote: RemoteAddr, expected: number, desired: number, wr?: WorkRequestOptions, dst?: LocalSlice): Task<void>;
  /** Two-sided SEND: consumes a receive buffer at the peer (its QP's receive queue or SRQ). */
  send(src: Source, wr?: WorkRequestOptions): Task<void>;
  /** Posts a receive buffer on this QP's own receive queue (QPs bound to an SRQ use the SRQ). */
  postRecv(buf: LocalSlice, wrId: number): Task<void>;
  /** Destroys the QP; pending work requests are flushed. */
  close(): void;
}

export interface QpOptions {
  /** Send-side completions. */
  cq: CompletionQueue;
  /** Receive completions for the QP's own receive queue (default: `cq`). */
  recvCq?: CompletionQueue;
  /** Bind receives to a shared receive queue instead of a per-QP one. */
  srq?: SharedReceiveQueue;
  /** Depth of the per-QP receive queue when there is no SRQ. Default 64. */
  recvCapacity?: number;
}

export interface ListenOptions extends QpOptions {
  /** Bytes handed to every connecting peer (rdma_cm private data): e.g. the rkeys it needs. */
  privateData?: Uint8Array;
}

/**
 * A passive endpoint: the connection manager accepts every connection to `service` without this
 * node's CPU, creating a QP with the listener's options (so passive replicas stay passive).
 */
export interface Listener {
  readonly service: string;
  /** Waits for the next accepted QP (optional: protocols that never answer need not call it). */
  accept(timeoutNs?: number): Task<QueuePair | null>;
  close(): void;
}

export interface Connection {
  readonly qp: QueuePair;
  readonly privateData: Uint8Array;
}

export interface UdOptions {
  /** Well-known port (servers); omit for an ephemeral one (clients). */
  port?: number;
  cq: CompletionQueue;
  recvCq?: CompletionQueue;
  /** Depth of the receive queue. Default 256. */
  recvCapacity?: number;
}

/** An unreliable datagram endpoint: messages up to the MTU, may be lost, no ordering promise. */
export interface UdEndpoint {
  readonly id: number;
  readonly address: UdAddress;
  readonly mtuBytes: number;
  send(dst: UdAddress, src: Source, wr?: WorkRequestOptions): Task<void>;
  postRecv(buf: LocalSlice, wrId: number): Task<void>;
  close(): void;
}

/** A node's RDMA NIC as protocol code sees it. */
export interface Fabric {
  readonly nodeId: NodeId;
  registerMemory(mem: Memory, access: number): MemoryKey;
  /**
   * Invalidates a registration (ibv_dereg_mr / fi_close on the MR): later remote accesses with its
   * rkey fail with remote-access-error and move the requester's QP to error. This is how a replica
   * revokes a deposed leader's access (permission switching, as in Mu).
   */
  deregisterMemory(key: MemoryKey): void;
  createCq(opts: CqOptions): CompletionQueue;
  createSrq(opts: SrqOptions): SharedReceiveQueue;
  listen(service: string, opts: ListenOptions): Listener;
  /** Connects an RC QP to `service` on `remote`; null if the peer cannot be reached in time. */
  connect(remote: NodeId, service: string, opts: QpOptions, timeoutNs?: number): Task<Connection | null>;
  createUd(opts: UdOptions): UdEndpoint;
}
