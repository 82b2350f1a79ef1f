import type { Future, Task } from './task.js';

/** Identifies a machine of the cluster (servers first, then clients). */
export type NodeId = number;

/** A seeded random stream. One per purpose; streams never share state. */
export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, bound). `bound` ≥ 1. */
  int(bound: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
}

export type TraceValue = string | number | boolean | null;

export interface SpawnOptions {
  /**
   * The core (an index, per node) the thread runs on. Threads on one core time-share it: the CPU
   * work of one — `compute`, memory operations, posting to the NIC — delays the others; waiting
   * (sleeps, futures) leaves the core free. A thread without a core has one of its own. The
   * simulator models this; the native backend runs every thread on one JavaScript thread anyway.
   */
  core?: number;
}

/** A running coroutine thread. */
export interface ThreadHandle {
  readonly name: string;
  /** Resolves when the thread's body returns. Never resolves if the node crashes first. */
  readonly finished: Future<void>;
}

/**
 * The runtime of one node: time, threads, timers, randomness, trace annotations.
 *
 * Times are nanoseconds of the backend's clock: virtual in the simulator, monotonic wall time on the
 * native backend. Every method returning a Task is a scheduling point.
 */
export interface Runtime {
  readonly nodeId: NodeId;
  /** How many times this node has booted (0 on the first boot): a restart is a new incarnation. */
  readonly bootCount: number;
  /** Current time in ns. Not a scheduling point. */
  now(): number;
  /** Idles the calling thread for `ns` nanoseconds (its core is free meanwhile). */
  sleep(ns: number): Task<void>;
  /** Models `ns` nanoseconds of CPU work by the calling thread, on its core (no-op cost on native hardware). */
  compute(ns: number): Task<void>;
  /** A bare scheduling point: lets the backend run another thread. */
  yield(): Task<void>;
  /** A future resolved `ns` nanoseconds from now. */
  timer(ns: number): Future<void>;
  /** Starts a thread on this node. Threads of one node share its memory and die with it. */
  spawn(name: string, body: () => Task<void>, opts?: SpawnOptions): ThreadHandle;
  /** The random stream for `purpose`, derived from the run seed, node and boot count. */
  rng(purpose: string): Rng;
  /**
   * Records a protocol-level event (e.g. "lolkv.commit") in the run's trace. The simulator hashes
   * it and shows it on the timeline; trace validation maps these events to TLA+ actions.
   */
  trace(kind: string, fields?: Record<string, TraceValue>): void;
}

/** Raised by protocol code when one of its own invariants is broken; the run reports a violation. */
export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

/** TigerBeetle-style assertion for invariants that must hold in protocol code. */
export function invariant(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantViolation(typeof message === 'string' ? message : message());
}
