import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Future, type Platform, type Rng, type Runtime, type Task, type ThreadHandle, type TraceValue } from '../../src/platform/index.js';
import { SeededRng } from '../../sim/rng.js';
import { type NicInfo, providerFromEnv, requireAddon } from '../addon.js';
import { NicDriver, type PeerAddress } from './driver.js';
import { NativeFabric } from './fabric.js';
import { NativeMemoryProvider, type PersistMode } from './memory.js';
import { NativeScheduler, NativeThread, type ThreadOwner, errorText, sharedScheduler } from './scheduler.js';

export interface NativeTraceEvent {
  t: number;
  node: number;
  kind: string;
  fields?: Record<string, TraceValue>;
}

export interface NativeNodeOptions {
  nodeId: number;
  /** This node's directory: PM region files (put it on a DAX file system for real PM) and the boot counter. */
  dataDir: string;
  /** Peers' main-endpoint addresses by node id (looked up when first needed). */
  peers?: (node: number) => PeerAddress | undefined;
  /** This node's main endpoint address (default: its entry in `peers`, else 127.0.0.1 on an ephemeral port). */
  host?: string;
  port?: number;
  /** libfabric provider: tcp (default, or env KVLAB_FI_PROVIDER), sockets, verbs, or a literal provider string. */
  provider?: string;
  /** CAS implementation: provider atomics when available (auto), or the RPC emulation. Env KVLAB_FI_ATOMICS. */
  atomics?: 'auto' | 'native' | 'rpc';
  /**
   * How a WRITE/SEND completion is made to mean "placed at the target": FI_DELIVERY_COMPLETE
   * (delivery) or a flush READ (transmit). Default: transmit on tcp (libfabric 1.17's tcp;ofi_rxm
   * delivery-complete path stalls), delivery elsewhere. Env KVLAB_FI_COMPLETION.
   */
  completion?: 'delivery' | 'transmit';
  /** The run seed (random streams are derived from it, the node and the boot count). */
  seed?: number | string;
  scheduler?: NativeScheduler;
  /** Largest message a multi-packet SRQ accepts (FI_OPT_MIN_MULTI_RECV). Default 1024. */
  multiRecvMaxMessageBytes?: number;
  /** connect() waits at least this long (default 1 s). */
  connectTimeoutFloorNs?: number;
  /** A post the provider keeps refusing (EAGAIN: reconnecting to a peer that is gone) fails as retry-exceeded after this (default 1 s). */
  retryTimeoutNs?: number;
  persist?: PersistMode;
  /** Do not print the provider line at start. */
  quiet?: boolean;
  /** A thread threw (default: print it and set process.exitCode = 1). */
  onPanic?: (p: { node: number; thread: string; error: unknown }) => void;
  /** Trace events (Runtime.trace and the fabric's connection events). */
  onTrace?: (e: NativeTraceEvent) => void;
}

/** Reads the boot counter of `dir` and stores the next value (durably): 0 on the first boot. */
export function nextBootCount(dir: string): number {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, 'boot-count');
  let n = 0;
  try {
    n = Number.parseInt(readFileSync(p, 'utf8').trim(), 10);
    if (!Number.isInteger(n) || n < 0) n = 0;
  } catch {
    n = 0;
  }
  const fd = openSync(p, 'w');
  writeSync(fd, `${n + 1}\n`);
  fsyncSync(fd);
  closeSync(fd);
  return n;
}

class NativeRuntime implements Runtime {
  constructor(private readonly node: NativeNode) {}

  get nodeId(): number {
    return this.node.nodeId;
  }

  get bootCount(): number {
    return this.node.bootCount;
  }

  now(): number {
    return this.node.sched.now();
  }

  *sleep(ns: number): Task<void> {
    yield Math.max(0, Math.round(ns));
  }

  *compute(_ns: number): Task<void> {
    // Real CPU work costs what it costs: a bare scheduling point.
    yield 0;
  }

  *yield(): Task<void> {
    yield 0;
  }

  timer(ns: number): Future<void> {
    const f = new Future<void>();
    const node = this.node;
    const epoch = node.epoch;
    node.sched.at(node.sched.now() + Math.max(0, Math.round(ns)), null, () => {
      if (node.epoch === epoch) f.resolve();
    });
    return f;
  }

  spawn(name: string, body: () => Task<void>): ThreadHandle {
    return this.node.spawn(name, body);
  }

  rng(purpose: string): Rng {
    return new SeededRng(this.node.seed, `node${this.node.nodeId}/boot${this.node.bootCount}/${purpose}`);
  }

  trace(kind: string, fields?: Record<string, TraceValue>): void {
    this.node.trace(kind, fields);
  }
}

/**
 * One kvlab node on real hardware: a libfabric NIC (one domain, one completion queue, a main RDM
 * endpoint), libpmem-mapped PM regions, and coroutine threads on the process's scheduler. A
 * process normally hosts one node (`kvlab serve`); tests host several.
 *
 * A node's boot is this object's lifetime: `shutdown()` (or the process dying) ends it, and the
 * next NativeNode on the same `dataDir` is the next boot, with the PM files as they were.
 */
export class NativeNode implements ThreadOwner {
  readonly nodeId: number;
  readonly bootCount: number;
  readonly seed: number | string;
  epoch = 0;
  liveThreads = 0;
  readonly sched: NativeScheduler;
  readonly driver: NicDriver;
  readonly memory: NativeMemoryProvider;
  readonly fabric: NativeFabric;
  readonly rt: Runtime;
  readonly platform: Platform;
  readonly panics: { thread: string; error: unknown }[] = [];
  traceCount = 0;
  private readonly threads = new Set<NativeThread>();
  private down = false;

  constructor(readonly opts: NativeNodeOptions) {
    const addon = requireAddon();
    this.nodeId = opts.nodeId;
    this.seed = opts.seed ?? 1;
    this.sched = opts.scheduler ?? sharedScheduler();
    this.bootCount = nextBootCount(opts.dataDir);
    const self = opts.peers?.(opts.nodeId);
    const host = opts.host ?? (self !== undefined && 'host' in self ? self.host : '127.0.0.1');
    const port = opts.port ?? (self !== undefined && 'port' in self ? self.port : 0);
    const atomicsEnv = process.env['KVLAB_FI_ATOMICS'];
    const atomics = opts.atomics ?? (atomicsEnv === 'native' || atomicsEnv === 'rpc' ? atomicsEnv : 'auto');
    const provider = opts.provider ?? providerFromEnv();
    const completionEnv = process.env['KVLAB_FI_COMPLETION'];
    const completion = opts.completion ?? (completionEnv === 'delivery' || completionEnv === 'transmit' ? completionEnv : provider === 'tcp' || provider === 'tcp;ofi_rxm' ? 'transmit' : 'delivery');
    // rxm runs connection management every CM_PROGRESS_INTERVAL µs of CQ polling (default 10 ms);
    // a shorter interval makes first contact with a peer (and a multi-packet SRQ) take ~1 ms.
    if (process.env['FI_OFI_RXM_CM_PROGRESS_INTERVAL'] === undefined) process.env['FI_OFI_RXM_CM_PROGRESS_INTERVAL'] = '1000';
    this.driver = new NicDriver(
      addon,
      {
        nodeId: opts.nodeId,
        bootCount: this.bootCount,
        provider,
        host,
        port,
        atomics,
        completion,
        peers: opts.peers ?? (() => undefined),
        now: () => this.sched.now(),
        retryTimeoutNs: opts.retryTimeoutNs ?? 1_000_000_000,
      },
      () => this.sched.wakeFromIo(),
    );
    this.sched.addSource(this.driver);
    this.memory = new NativeMemoryProvider(addon, opts.dataDir, opts.persist ?? 'auto');
    const node = this;
    this.fabric = new NativeFabric({
      nodeId: this.nodeId,
      bootCount: this.bootCount,
      sched: this.sched,
      driver: this.driver,
      live: () => !node.down,
      multiRecvMaxMessageBytes: opts.multiRecvMaxMessageBytes ?? 1024,
      connectTimeoutFloorNs: opts.connectTimeoutFloorNs ?? 1_000_000_000,
      trace: (kind, fields) => node.trace(kind, fields),
    });
    this.rt = new NativeRuntime(this);
    this.platform = { rt: this.rt, fabric: this.fabric, memory: this.memory };
    if (opts.quiet !== true) console.error(`kvlab native: ${describe(this.nodeId, this.bootCount, this.driver.info)}`);
  }

  /** The provider in use and what it offers. */
  get info(): NicInfo {
    return this.driver.info;
  }

  /** This node's main endpoint address (raw), for peers' `peers` tables. */
  get address(): PeerAddress {
    return { name: this.driver.info.name };
  }

  get isDown(): boolean {
    return this.down;
  }

  spawn(name: string, body: () => Task<void>): NativeThread {
    const t = new NativeThread(this.sched, this, name, body());
    if (this.down) {
      t.kill();
      return t;
    }
    this.threads.add(t);
    t.finished.addWaiter({ wake: () => void this.threads.delete(t) });
    t.start();
    return t;
  }

  panic(thread: NativeThread, error: unknown): void {
    this.threads.delete(thread);
    this.panics.push({ thread: thread.name, error });
    if (this.opts.onPanic !== undefined) this.opts.onPanic({ node: this.nodeId, thread: thread.name, error });
    else {
      console.error(`kvlab native: thread ${thread.name} on node ${this.nodeId} failed: ${errorText(error)}`);
      process.exitCode = 1;
    }
  }

  trace(kind: string, fields?: Record<string, TraceValue>): void {
    this.traceCount++;
    const f = this.opts.onTrace;
    if (f !== undefined) f(fields === undefined ? { t: this.sched.now(), node: this.nodeId, kind } : { t: this.sched.now(), node: this.nodeId, kind, fields });
  }

  /**
   * Ends this boot: threads stop, the NIC is closed (peers' QPs see their operations fail), PM
   * regions are unmapped (what was not persisted may or may not be in the file).
   */
  shutdown(): void {
    if (this.down) return;
    this.down = true;
    this.epoch++;
    for (const t of this.threads) t.kill();
    this.threads.clear();
    this.sched.removeSource(this.driver);
    this.driver.close();
    this.memory.close();
  }
}

export function describe(node: number, boot: number, i: NicInfo): string {
  return (
    `node ${node} boot ${boot}: provider ${i.provider} (fabric ${i.fabric}, domain ${i.domain}) at ${i.address}; ` +
    `atomics ${i.atomics === 'native' ? 'native (fi_compare_atomic)' : 'emulated (RPC)'}, ` +
    `${i.deliveryComplete ? 'delivery-complete completions' : 'placement confirmed by flush READs'}, ${i.dataProgress} progress, ${i.waitFd ? 'wait fd' : 'no wait fd (polling)'}`
  );
}

/** Resolves when `f` resolves (tests and harnesses; protocol code never awaits). Rejects after `timeoutMs`. */
export function settle<T>(f: Future<T>, timeoutMs = 30_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not settled within ${timeoutMs} ms`)), timeoutMs);
    f.addWaiter({
      wake: () => {
        clearTimeout(timer);
        resolve(f.value);
      },
    });
  });
}

export interface LocalClusterOptions extends Omit<NativeNodeOptions, 'nodeId' | 'dataDir' | 'peers' | 'host' | 'port'> {
  nodes: number;
  /** Node i's data directory is `${dataDir}/node${i}`. */
  dataDir: string;
  host?: string;
}

/**
 * Several nodes in this process on loopback, each with its own NIC on an ephemeral port: for
 * tests and benchmarks. (A real cluster runs one node per process with fixed addresses.)
 */
export class LocalCluster {
  readonly nodes: NativeNode[] = [];
  private readonly names: PeerAddress[] = [];

  constructor(readonly opts: LocalClusterOptions) {
    for (let i = 0; i < opts.nodes; i++) this.boot(i);
  }

  private boot(i: number): NativeNode {
    const n = new NativeNode({
      ...this.opts,
      nodeId: i,
      dataDir: join(this.opts.dataDir, `node${i}`),
      host: this.opts.host ?? '127.0.0.1',
      port: 0,
      peers: (node) => this.names[node],
    });
    this.nodes[i] = n;
    this.names[i] = n.address;
    return n;
  }

  /** Shuts node i down and boots it again (a new incarnation: new address, same PM files). */
  restart(i: number): NativeNode {
    this.nodes[i]!.shutdown();
    const n = this.boot(i);
    for (const m of this.nodes) if (m !== n && !m.isDown) m.driver.forgetPeer(i);
    return n;
  }

  shutdown(): void {
    for (const n of this.nodes) n.shutdown();
  }
}
