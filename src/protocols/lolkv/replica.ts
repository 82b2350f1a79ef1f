import { Access, type ClusterInfo, type CompletionQueue, type Memory, type MemoryKey, type Platform, type Task } from '../../platform/index.js';
import { HB_BYTES, META_BYTES, META_TERM, META_VOTED_FOR, REGION, encodePeerKeys, majority } from './layout.js';

/**
 * What every replica has, whatever its role: its regions (segment area, hash table, meta,
 * heartbeat word), their registration, and the persistent (currentTerm, votedFor).
 *
 * **Fencing** (docs/lolkv.md, "Terms fence a deposed leader"): whenever a replica's term grows —
 * it votes, or learns a newer term — it first deregisters every region and registers it again.
 * Every rkey an older leader holds then fails with remote-access-error. The new rkeys go out in
 * the private data of new connections together with the term they were registered at, so a
 * leader of term T counts a follower only if it was handed keys of term T.
 */

export type Role = 'follower' | 'candidate' | 'leader';

export interface ReplicaConfig {
  /** Connection-manager service name. */
  service: string;
  /** Prefix of trace events ("lolkv", "mu"). */
  tracePrefix: string;
  areaBytes: number;
  segmentBytes: number;
  tableSlots: number;
  /** Revocation on term change, term check on connect (false only with skipTermFencing). */
  fencing: boolean;
  heartbeatNs: number;
  electionTimeoutMinNs: number;
  electionTimeoutMaxNs: number;
  voteRetryNs: number;
  stepDownNs: number;
}

/** The leader's per-term machinery, as the monitor sees it. */
export interface LeaderRun {
  readonly term: number;
  /** A majority (counting the leader) acknowledged a heartbeat recently. */
  healthy(now: number): boolean;
  stop(): void;
}

export const REMOTE_ACCESS = Access.REMOTE_READ | Access.REMOTE_WRITE | Access.REMOTE_ATOMIC;

export class Replica {
  readonly me: number;
  readonly n: number;
  readonly area: Memory;
  readonly table: Memory;
  readonly meta: Memory;
  readonly hb: Memory;
  private keys: MemoryKey[] = [];
  private readonly listenerCq: CompletionQueue;
  role: Role = 'follower';
  term: number;
  votedFor: number;
  /** Best guess of the current leader (-1: none). */
  leaderHint = -1;
  /** When this replica last saw a live leader (heartbeat progress) or stopped being one. */
  lastProgressNs = 0;
  leader: LeaderRun | null = null;
  /** Numbers this replica's GETs in its trace events (lookup -> get); trace only, no behaviour. */
  getSeq = 0;
  /** Called when this replica wins an election (set by the protocol). */
  onElected: ((term: number) => LeaderRun) | null = null;

  constructor(
    readonly p: Platform,
    readonly cluster: ClusterInfo,
    readonly cfg: ReplicaConfig,
  ) {
    this.me = p.rt.nodeId;
    this.n = cluster.servers.length;
    this.area = p.memory.pm(REGION.segments, cfg.areaBytes);
    this.table = p.memory.pm(REGION.table, cfg.tableSlots * 8);
    this.meta = p.memory.pm(REGION.meta, META_BYTES);
    this.hb = p.memory.dram(REGION.heartbeat, HB_BYTES);
    // Boot: a single thread, before any other — reading the durable meta needs no scheduling point.
    this.term = this.meta.peek64(META_TERM);
    this.votedFor = this.meta.peek64(META_VOTED_FOR) - 1;
    this.listenerCq = p.fabric.createCq({ capacity: 64, overrunIgnoring: true });
    this.register();
    this.lastProgressNs = p.rt.now();
  }

  get majority(): number {
    return majority(this.n);
  }

  /** Follower ACKs a commit needs (the leader is the rest of the majority). */
  get followerQuorum(): number {
    return majority(this.n) - 1;
  }

  trace(event: string, fields: Record<string, string | number | boolean | null>): void {
    this.p.rt.trace(`${this.cfg.tracePrefix}.${event}`, fields);
  }

  /** (Re)registers every region with fresh rkeys and listens with them (tagged with the term). */
  private register(): void {
    for (const k of this.keys) this.p.fabric.deregisterMemory(k);
    const f = this.p.fabric;
    this.keys = [f.registerMemory(this.area, REMOTE_ACCESS), f.registerMemory(this.table, REMOTE_ACCESS), f.registerMemory(this.meta, REMOTE_ACCESS), f.registerMemory(this.hb, REMOTE_ACCESS)];
    const privateData = encodePeerKeys({ segments: this.keys[0]!.rkey, table: this.keys[1]!.rkey, meta: this.keys[2]!.rkey, heartbeat: this.keys[3]!.rkey, term: this.term });
    f.listen(this.cfg.service, { cq: this.listenerCq, privateData, recvCapacity: 1 });
  }

  /**
   * Moves to `term` (> current, or equal when re-granting), voting for `votedFor` (-1: none):
   * revokes every older leader's access (unless re-granting), then persists (term, votedFor).
   */
  *setTerm(term: number, votedFor: number): Task<void> {
    const grows = term > this.term;
    this.term = term;
    this.votedFor = votedFor;
    if (grows && this.cfg.fencing) this.register();
    else if (grows) this.relisten();
    yield* this.meta.store64(META_TERM, term);
    yield* this.meta.store64(META_VOTED_FOR, votedFor + 1);
    yield* this.meta.persist(0, 16);
  }

  /** Without fencing the rkeys stay, but new connections still learn the term. */
  private relisten(): void {
    const privateData = encodePeerKeys({ segments: this.keys[0]!.rkey, table: this.keys[1]!.rkey, meta: this.keys[2]!.rkey, heartbeat: this.keys[3]!.rkey, term: this.term });
    this.p.fabric.listen(this.cfg.service, { cq: this.listenerCq, privateData, recvCapacity: 1 });
  }

  /** Learned of a newer term (not by voting): adopt it, stepping down if leading. */
  *adoptTerm(term: number, reason: string): Task<void> {
    if (term <= this.term) return;
    this.stepDown(reason, term);
    // Traced at the term change itself (setTerm re-registers before its first scheduling point).
    this.trace('adopt-term', { term, reason });
    yield* this.setTerm(term, -1);
  }

  /** Stops leading (or campaigning). */
  stepDown(reason: string, newTerm?: number): void {
    if (this.role === 'leader') {
      this.trace('step-down', { term: this.term, reason });
      const l = this.leader;
      this.leader = null;
      l?.stop();
    }
    if (this.role !== 'follower') this.lastProgressNs = this.p.rt.now();
    this.role = 'follower';
    if (newTerm !== undefined && newTerm > this.term) this.leaderHint = -1;
  }

  becomeLeader(): void {
    this.role = 'leader';
    this.leaderHint = this.me;
    this.trace('leader', { term: this.term });
    this.leader = this.onElected === null ? null : this.onElected(this.term);
  }

  /** The current leader machinery if this replica leads in `term`. */
  leading(term: number): boolean {
    return this.role === 'leader' && this.term === term;
  }
}
