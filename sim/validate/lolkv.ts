import { type TlaValue, set, tla, tlaSeqDef, tuple } from './tla.js';
import type { TraceValue } from '../../src/platform/index.js';
import type { RecordLike, TraceEvent, TraceStep, ValidationTrace } from './types.js';

/**
 * LoLKV trace validation: turns a run's recorded events into the steps of spec/trace/LoLKVTrace.tla
 * (the mapping is documented in spec/README.md, "Trace validation"). Pure: no I/O.
 *
 *  lolkv.elect-start {term}              raise(term-1) if needed, Timeout
 *  lolkv.vote {term, candidate, granted} Vote (granted only; a grant to a candidate that moved on
 *                                        raises the voter's term; a re-grant is a no-op)
 *  lolkv.leader {term}                   BecomeLeader
 *  lolkv.step-down {term, reason}        StepDown (a newer term exists) or Resign (lost majority)
 *  lolkv.adopt-term {term, reason}       RaiseTerm: a newer term learned without voting
 *  lolkv.sync {term, sources}            Sync from the sources it READ (SyncFrom)
 *  lolkv.catchup {node}                  Unlink (if still linked), Catchup; in-flight PUTs that commit
 *                                        later count the new follower (Retarget + Replicate)
 *  lolkv.replicate {key, term, inc, ...} StartPut; its WRITEs land (Replicate) on every follower that
 *                                        accepts them if the PUT commits later; on any subset if it
 *                                        does not and a later read could tell; nowhere otherwise
 *  lolkv.commit                          a majority (leader included) holds the object
 *  lolkv.apply {applied, replaced}       Apply, installing iff applied
 *  lolkv.get {key, term, inc}            Get, returning that incarnation (null: absent)
 *  fault.crash / fault.restart (servers) Crash / Restart
 *  dropped: lolkv.torn (state sync's diagnostics), lolkv.gc-free (GC relocations emit no event, so
 *  the spec keeps the originals: same version), refused votes (no state change), everything else.
 */

export interface LolkvTraceOptions {
  /** Server node ids (0..n-1). */
  servers: readonly number[];
  /** Validate only the first N protocol events (a prefix of the run); default: all. */
  maxEvents?: number;
  /** Size of the incarnation array (protocol option `incarnations`, default 1024). */
  incarnations?: number;
  /** Event kinds' prefix (the Mu baseline traces the same events as `mu.`). */
  prefix?: string;
  /** TLC stops (inconclusive) after this many seconds or distinct states. */
  budget?: { seconds: number; states: number };
  /** Uncommitted WRITEs that a later read could reveal land on any subset of their followers (default: none or all). */
  fullLanding?: boolean;
  /** Protocol option readCheckTimeoutNs (default 200 µs): bounds how long before its event a GET looked up. */
  readCheckTimeoutNs?: number;
}

/** A WRITE at an object's offset no larger than this is the object's (a PUT's); larger ones, and
 * WRITEs elsewhere in the segment area, are a catch-up's bulk copy. */
const MAX_OBJECT_WRITE_BYTES = 1024;

/** A PUT's path from its incarnation (faa) to its replicate event (allocation, local write, persist). */
const PUT_START_NS = 50_000;

/** READs above this size are state sync's (segment chunks); the read check READs one 8-byte word. */
const SMALL_READ_BYTES = 64;

/** Slack for the GET's table lookup itself (probing, reading the object) before its read check. */
const LOOKUP_SLACK_NS = 20_000;

const MODELLED = new Set(['elect-start', 'vote', 'leader', 'step-down', 'adopt-term', 'sync', 'catchup', 'replicate', 'commit', 'apply', 'get']);

type Ver = [number, number];
const newer = (a: Ver, b: Ver): boolean => a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);
const opId = (node: number, term: number, key: string, inc: number) => `${node}|${term}|${key}|${inc}`;

function num(e: TraceEvent, f: string): number {
  const v = e.fields[f];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new Error(`${e.kind} at ${e.t}: field ${f} is not an integer (${JSON.stringify(v)})`);
  return v;
}
function str(e: TraceEvent, f: string): string {
  const v = e.fields[f];
  if (typeof v !== 'string') throw new Error(`${e.kind} at ${e.t}: field ${f} is not a string (${JSON.stringify(v)})`);
  return v;
}

/** FNV-1a as src/protocols/lolkv/layout.ts keyHash (incarnation counters are indexed by it). */
function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

interface Pending {
  t: number;
  node: number;
  kind: string;
  fields: Record<string, TraceValue>;
}

/** The events the LoLKV trace spec consumes, in order (1-based indexes), and what was dropped. */
/** Where a PUT's WRITEs are known to have landed (a successful completion) or not (an error). */
export interface LandingEvidence {
  posted: Set<number>;
  landed: Set<number>;
  failed: Set<number>;
}

export function selectLolkvEvents(
  records: readonly RecordLike[],
  opts: LolkvTraceOptions,
): { events: TraceEvent[]; dropped: Record<string, number>; total: number; truncated: number; notes: string[]; landing: Map<string, LandingEvidence> } {
  const prefix = `${opts.prefix ?? 'lolkv'}.`;
  const servers = new Set(opts.servers);
  const dropped: Record<string, number> = {};
  const drop = (k: string) => void (dropped[k] = (dropped[k] ?? 0) + 1);
  const kept: Pending[] = [];
  let total = 0;
  let truncated = 0;
  const max = opts.maxEvents ?? Infinity;
  const leading = new Map<number, number>(); // replica -> term it was elected leader in
  // The object WRITEs of PUTs: a signaled rc.write from the leader to the object's offset on a
  // follower, after the PUT's replicate event; its completion says whether it landed.
  const landing = new Map<string, LandingEvidence>();
  const lastPutAt = new Map<string, string>(); // "leader|off" -> PUT id
  const writeOf = new Map<string, { put: string; to: number }>(); // "leader:qp:wrId" -> WRITE
  // Other WRITEs into a follower's segment area (a catch-up's bulk copy): when one succeeds, the
  // leader's objects in that range are on the follower, even if the catch-up never finishes.
  const regionName = new Map<string, string>(); // "node:rkey" -> region name
  const bulkOf = new Map<string, { leader: number; to: number; from: number; bytes: number }>();
  // QPs in error ("node:qp"): a WRITE posted on one is flushed without leaving the NIC.
  const qpInError = new Set<string>();
  // A GET reads the table at its lookup (lolkv.lookup, traced right after it); lolkv.get (same
  // node and id) follows once its read check passed. A lookup whose get follows is kept, at the
  // position it had among the kept events (the value is checked there); the get (the read check
  // and the spec's Get) stays where it was traced, or just before a replica left the term after
  // the lookup (below).
  const lookupAt = new Map<string, { pos: number; t: number; fields: Record<string, TraceValue> }>(); // "node|id" -> the lookup
  const getAt = new Map<number, { pos: number; seq: number }>(); // kept index of a get -> its lookup
  const lookupEvents: { pos: number; seq: number; ev: Pending }[] = [];
  let lookups = 0;
  for (const r of records) {
    const f = r.fields ?? {};
    if (r.kind.startsWith(prefix)) {
      const name = r.kind.slice(prefix.length);
      if (name === 'lookup') {
        lookupAt.set(`${r.node}|${f['id']}`, { pos: kept.length, t: r.t, fields: { ...f } });
        continue;
      }
      if (!MODELLED.has(name)) {
        drop(r.kind);
        continue;
      }
      if (name === 'vote' && f['granted'] !== true) {
        drop(`${r.kind} (refused)`);
        continue;
      }
      total++;
      if (total > max) {
        truncated++;
        continue;
      }
      if (name === 'get' && f['id'] !== undefined) {
        const lk = lookupAt.get(`${r.node}|${f['id']}`);
        if (lk === undefined) throw new Error(`${r.kind} at ${r.t} (node ${r.node}, id ${f['id']}): no lolkv.lookup with that id before it`);
        lookupAt.delete(`${r.node}|${f['id']}`);
        const seq = lookups++;
        getAt.set(kept.length, { pos: lk.pos, seq });
        lookupEvents.push({ pos: lk.pos, seq, ev: { t: lk.t, node: r.node, kind: `${prefix}lookup`, fields: lk.fields } });
      }
      kept.push({ t: r.t, node: r.node, kind: r.kind, fields: { ...f } });
      if (name === 'leader') leading.set(r.node, f['term'] as number);
      if (name === 'replicate') {
        const id = opId(r.node, f['term'] as number, String(f['key']), f['inc'] as number);
        lastPutAt.set(`${r.node}|${f['off']}`, id);
        landing.set(id, { posted: new Set(), landed: new Set(), failed: new Set() });
      }
    } else if ((r.kind === 'fault.crash' || r.kind === 'fault.restart') && servers.has(r.node)) {
      if (total >= max) continue;
      if (r.kind === 'fault.crash') leading.delete(r.node);
      kept.push({ t: r.t, node: r.node, kind: r.kind, fields: { ...f } });
    } else if (r.kind === 'rc.error') {
      qpInError.add(`${r.node}:${f['qp']}`);
    } else if (r.kind === 'mr.register' && typeof f['rkey'] === 'number') {
      regionName.set(`${r.node}:${f['rkey']}`, String(f['name']));
    } else if (r.kind === 'rc.write' && f['signaled'] === true && typeof f['to'] === 'number') {
      const put = (f['bytes'] as number) <= MAX_OBJECT_WRITE_BYTES ? lastPutAt.get(`${r.node}|${f['off']}`) : undefined;
      if (put === undefined) {
        if (servers.has(r.node) && servers.has(f['to']) && regionName.get(`${f['to']}:${f['rkey']}`) === `${prefix}segments`) {
          bulkOf.set(`${r.node}:${f['qp']}:${f['wrId']}`, { leader: r.node, to: f['to'], from: f['off'] as number, bytes: f['bytes'] as number });
        }
      } else {
        writeOf.set(`${r.node}:${f['qp']}:${f['wrId']}`, { put, to: f['to'] });
        landing.get(put)!.posted.add(f['to']);
        // posted on a QP already in error: flushed at once, never sent
        if (qpInError.has(`${r.node}:${f['qp']}`)) landing.get(put)!.failed.add(f['to']);
      }
    } else if (r.kind === 'rc.complete' && f['op'] === 'write') {
      const b = bulkOf.get(`${r.node}:${f['qp']}:${f['wrId']}`);
      const term = leading.get(r.node);
      if (b !== undefined && f['status'] === 'success' && term !== undefined && total < max) {
        kept.push({ t: r.t, node: b.to, kind: `${prefix}copy`, fields: { leader: b.leader, term, from: b.from, to: b.from + b.bytes } });
      }
      const w = writeOf.get(`${r.node}:${f['qp']}:${f['wrId']}`);
      if (w !== undefined) {
        const ev = landing.get(w.put)!;
        // success: landed. remote-access-error (a NAK: revoked keys): not placed. retry-exceeded
        // (the data may have been placed before a partition cut the ACK) and flushed (the QP
        // moved to error -- local NIC failure, an earlier WR's error -- while this WRITE may
        // already have been sent and placed; seen: lolkv-swarm seed 7) are unknown, unless it
        // was posted on a QP already in error (above).
        if (f['status'] === 'success') ev.landed.add(w.to);
        else if (f['status'] === 'remote-access-error') ev.failed.add(w.to);
      }
    } else if (r.kind === 'rc.read' && servers.has(r.node) && typeof f['to'] === 'number' && servers.has(f['to']) && (f['bytes'] as number) > SMALL_READ_BYTES) {
      // State sync READs the segment area of every replica fenced for the leader's term (the
      // only large READs LoLKV posts): the source had learned the term (maybe from a heartbeat,
      // without an event). A derived event raises its term there (if it is not known yet).
      const term = leading.get(r.node);
      if (term === undefined || total >= max) continue;
      kept.push({ t: r.t, node: f['to'], kind: `${prefix}sync-source`, fields: { leader: r.node, term } });
    }
  }
  const notes: string[] = [];
  const originalCount = kept.length;
  for (const l of lookupEvents) kept.push(l.ev);
  const sortKey = kept.map((_, j) => (j < originalCount ? j : lookupEvents[j - originalCount]!.pos - 0.5 + lookupEvents[j - originalCount]!.seq * 1e-12));
  const fieldNum = (e: Pending, k: string) => e.fields[k] as number;

  // 1. A PUT takes its incarnation (faa) before its local write, so two workers' replicate events
  // for one key can appear out of incarnation order. StartPut is atomic in the spec (incarnation
  // and allocation together): a replicate event moves up to just before the first replicate event
  // of the same leader, term and key with a larger incarnation (whose faa came after its own).
  const groups = new Map<string, number[]>();
  kept.forEach((e, j) => {
    if (e.kind !== `${prefix}replicate`) return;
    const g = `${e.node}|${e.fields['term']}|${e.fields['key']}`;
    let l = groups.get(g);
    if (l === undefined) groups.set(g, (l = []));
    l.push(j);
  });
  let movedPuts = 0;
  for (const l of groups.values()) {
    for (let a = 0; a < l.length; a++) {
      const ja = l[a]!;
      const inc = fieldNum(kept[ja]!, 'inc');
      const jb = l.slice(0, a).find((j) => fieldNum(kept[j]!, 'inc') > inc);
      if (jb !== undefined) {
        sortKey[ja] = jb - 0.5 + inc * 1e-9;
        movedPuts++;
      }
    }
  }
  // A PUT that took its incarnation while its leader served can trace its replicate event after
  // the leader stepped down (the local write and persist in between yield): the event moves up to
  // just before that step-down (within PUT_START_NS).
  kept.forEach((e, j) => {
    if (e.kind !== `${prefix}replicate`) return;
    for (let x = j - 1; x >= 0 && kept[x]!.t >= e.t - PUT_START_NS; x--) {
      const d = kept[x]!;
      if (d.kind === `${prefix}step-down` && d.node === e.node && d.fields['term'] === e.fields['term']) {
        sortKey[j] = Math.min(sortKey[j]!, x - 0.5 + fieldNum(e, 'inc') * 1e-9);
        movedPuts++;
        break;
      }
    }
  });
  if (movedPuts > 0) notes.push(`${movedPuts} replicate event(s) moved up to their incarnation (faa precedes the traced local write)`);

  // 2. A GET is traced after its read check, but it read the table before (its lookup) and the
  // read check READ the followers' terms before the event, too. The read check gives up after
  // readCheckTimeoutNs, so both happened at most that long (plus the lookup's own time) before the
  // event. Within that window the event moves back (the spec's Get is one atomic step):
  //  - to just before the apply that replaced the version it returned (or before the window's first
  //    apply of the key, if it returned none of the window's versions): a PUT applied meanwhile;
  //  - and to just before the first event in its interval that takes a replica out of the leader's
  //    term (a crash, a vote, an election, a sync READ or catch-up for another leader): the read
  //    check READ that replica before.
  // The spec then checks, there, the returned version and that a majority is in the leader's term.
  const windowNs = (opts.readCheckTimeoutNs ?? 200_000) + LOOKUP_SLACK_NS;
  let movedGets = 0;
  const fences = (e: Pending, leader: number): boolean =>
    e.node !== leader &&
    (e.kind === 'fault.crash' || e.kind === `${prefix}vote` || e.kind === `${prefix}elect-start` || e.kind === `${prefix}sync-source` || e.kind === `${prefix}catchup`);
  kept.forEach((g, j) => {
    if (g.kind !== `${prefix}get`) return;
    const lk = getAt.get(j);
    if (lk !== undefined) {
      // traced lookup: its value is checked there. The read check READ each follower it counted
      // between the lookup and this event; the spec's Get checks a majority in the term at one
      // instant: here, or just before the first event after the lookup that takes another
      // replica out of the term (a crash; a term above the GET's) -- the read check READ it before.
      const term = g.fields['term'] as number;
      for (let x = lk.pos; x < j; x++) {
        const e = kept[x]!;
        const t = e.fields['term'];
        const out = e.node !== g.node && (e.kind === 'fault.crash' || (typeof t === 'number' && t > term && e.kind !== `${prefix}leader`) || (e.kind === `${prefix}catchup`));
        if (out) {
          sortKey[j] = x - 0.25 + j * 1e-12;
          movedGets++;
          break;
        }
      }
      return;
    }
    // no lolkv.lookup (a run recorded before the event existed): the window heuristic below
    const key = g.fields['key'];
    const inc = g.fields['inc'] ?? null;
    // the window: back to the lookup's earliest time, never before the leader's own election or
    // state sync (it served only after those)
    let lo = j - 1;
    while (lo >= 0 && kept[lo]!.t >= g.t - windowNs) {
      const e = kept[lo]!;
      if (e.node === g.node && (e.kind === `${prefix}leader` || e.kind === `${prefix}sync`)) break;
      lo--;
    }
    const applies: number[] = [];
    for (let x = lo + 1; x < j; x++) {
      const a = kept[x]!;
      if (a.kind === `${prefix}apply` && a.node === g.node && a.fields['key'] === key && a.fields['term'] === g.fields['term'] && a.fields['applied'] === true) applies.push(x);
    }
    let hi = j;
    if (applies.length > 0 && fieldNum(kept[applies[applies.length - 1]!]!, 'inc') === inc) lo = applies[applies.length - 1]!;
    else if (applies.length > 0) {
      hi = applies[0]!;
      for (let m = applies.length - 2; m >= 0; m--) {
        if (fieldNum(kept[applies[m]!]!, 'inc') === inc) {
          lo = applies[m]!;
          hi = applies[m + 1]!;
          break;
        }
      }
    }
    let target = hi;
    for (let x = lo + 1; x < hi; x++) {
      if (fences(kept[x]!, g.node)) {
        target = x;
        break;
      }
    }
    if (target < j) {
      sortKey[j] = target - 0.25 + j * 1e-12;
      movedGets++;
    }
  });
  if (getAt.size > 0) notes.push(`${getAt.size} get(s): the value checked at the lookup (lolkv.lookup), the read check at the get event${movedGets > 0 ? `; ${movedGets} moved back before a replica left the term after the lookup` : ''}`);
  else if (movedGets > 0) notes.push(`${movedGets} get event(s) moved back to their lookup and read check (a PUT of the key applied, or a replica leaving the term, meanwhile)`);

  // 3. State sync READs its sources, then writes what it adopted and rebuilds its table before it
  // traces lolkv.sync. The spec's Sync reads every source at one instant: the event moves back to
  // just after the last source READ of its leader and term (a source may crash in between: it was
  // read while it was up and fenced).
  let movedSyncs = 0;
  kept.forEach((e, j) => {
    if (e.kind !== `${prefix}sync`) return;
    for (let x = j - 1; x >= 0; x--) {
      const r = kept[x]!;
      if (r.kind === `${prefix}leader` && r.node === e.node) break;
      if (r.kind === `${prefix}sync-source` && r.fields['leader'] === e.node && r.fields['term'] === e.fields['term']) {
        if (x < j - 1) {
          sortKey[j] = x + 0.5;
          movedSyncs++;
        }
        break;
      }
    }
  });
  if (movedSyncs > 0) notes.push(`${movedSyncs} sync event(s) moved back to their last source READ`);

  const order = kept.map((_, j) => j).sort((x, y) => sortKey[x]! - sortKey[y]! || x - y);
  const ordered = order.map((j) => kept[j]!);

  // 4. lolkv.replicate is traced after the PUT's local write and persist: a leader that crashes in
  // between leaves an object no event announced, which a later state sync can adopt and a GET
  // return. A GET returning an incarnation of its key that no PUT explains is explained by such a
  // PUT: the next incarnation of the key at the last leader (of a term up to the GET's) that
  // crashed after its last PUT of the key; it is inserted just before that crash, landing nowhere
  // (its WRITEs are posted after the event).
  let phantoms = 0;
  for (let j = 0; j < ordered.length; j++) {
    const g = ordered[j]!;
    if ((g.kind !== `${prefix}get` && g.kind !== `${prefix}lookup`) || typeof g.fields['inc'] !== 'number') continue;
    const key = g.fields['key'];
    const inc = g.fields['inc'];
    const term = fieldNum(g, 'term');
    const puts = ordered.slice(0, j).filter((e) => e.kind === `${prefix}replicate` && e.fields['key'] === key && fieldNum(e, 'term') <= term);
    if (puts.some((e) => e.fields['inc'] === inc)) continue;
    for (let t = term; t >= 1; t--) {
      const mine = puts.filter((e) => fieldNum(e, 'term') === t);
      const last = mine[mine.length - 1];
      if (last === undefined || Math.max(...mine.map((e) => fieldNum(e, 'inc'))) !== inc - 1) continue;
      const at = ordered.findIndex((e, x) => x > ordered.indexOf(last) && x < j && e.kind === 'fault.crash' && e.node === last.node);
      if (at < 0) continue;
      ordered.splice(at, 0, { t: ordered[at]!.t, node: last.node, kind: `${prefix}replicate`, fields: { key, term: t, inc, seg: -1, off: -1, inferred: true } });
      phantoms++;
      j++;
      break;
    }
  }
  if (phantoms > 0) notes.push(`${phantoms} PUT(s) inferred: a GET returned a version no replicate event announced (its leader crashed between the local write and the event)`);

  const events: TraceEvent[] = ordered.map((e, n) => ({ index: n + 1, t: e.t, node: e.node, kind: e.kind, fields: e.fields }));
  return { events, dropped, total, truncated, notes, landing };
}

/** Builds the LoLKV trace steps and the LoLKVTraceData module from a run's records. */
export function buildLolkvTrace(records: readonly RecordLike[], opts: LolkvTraceOptions): ValidationTrace {
  const prefix = `${opts.prefix ?? 'lolkv'}.`;
  const { events, dropped, total, truncated, notes, landing } = selectLolkvEvents(records, opts);
  const name = (e: TraceEvent) => (e.kind.startsWith(prefix) ? e.kind.slice(prefix.length) : e.kind);

  // keys -> k1..kN in order of first appearance
  const keyMap = new Map<string, string>();
  const mk = (k: string) => {
    let m = keyMap.get(k);
    if (m === undefined) keyMap.set(k, (m = `k${keyMap.size + 1}`));
    return m;
  };
  for (const e of events) if (typeof e.fields['key'] === 'string') mk(e.fields['key']);
  const slots = opts.incarnations ?? 1024;
  const bySlot = new Map<number, string>();
  for (const k of keyMap.keys()) {
    const s = keyHash(k) % slots;
    const other = bySlot.get(s);
    if (other !== undefined) throw new Error(`keys ${JSON.stringify(other)} and ${JSON.stringify(k)} share incarnation counter ${s}: their incarnations are not per key (not supported by the trace mapping)`);
    bySlot.set(s, k);
  }

  // ---- analysis: which PUTs commit, which uncommitted PUTs a later read could reveal ----
  // A leader's table holds, per key, the newest version its state sync adopted (every version
  // committed before the sync, and maybe uncommitted ones) or it applied since. An uncommitted PUT
  // o can show at a GET or apply of its key on leader L only if L synced after o and no newer
  // version was committed before that sync or applied by L since.
  const commitAt = new Map<string, number>();
  const syncs: { at: number; node: number; term: number }[] = [];
  const commitsByKey = new Map<string, { at: number; ver: Ver }[]>();
  const obsByKey = new Map<string, { at: number; node: number; term: number; applied: Ver | null }[]>();
  for (const e of events) {
    const n = name(e);
    if (n === 'commit') {
      const id = opId(e.node, num(e, 'term'), str(e, 'key'), num(e, 'inc'));
      if (!commitAt.has(id)) commitAt.set(id, e.index);
      const l = commitsByKey.get(str(e, 'key')) ?? [];
      l.push({ at: e.index, ver: [num(e, 'term'), num(e, 'inc')] });
      commitsByKey.set(str(e, 'key'), l);
    } else if (n === 'sync') syncs.push({ at: e.index, node: e.node, term: num(e, 'term') });
    else if (n === 'lookup' || (n === 'get' && e.fields['id'] === undefined) || n === 'apply') {
      const l = obsByKey.get(str(e, 'key')) ?? [];
      l.push({ at: e.index, node: e.node, term: num(e, 'term'), applied: n === 'apply' && e.fields['applied'] === true ? [num(e, 'term'), num(e, 'inc')] : null });
      obsByKey.set(str(e, 'key'), l);
    }
  }
  const relevant = (e: TraceEvent): boolean => {
    const key = str(e, 'key');
    const ver: Ver = [num(e, 'term'), num(e, 'inc')];
    const obs = obsByKey.get(key) ?? [];
    for (const q of obs) {
      if (q.at <= e.index) continue;
      // the observing leader's last sync in its term, before q
      let sync: number | null = null;
      for (const s of syncs) if (s.node === q.node && s.term === q.term && s.at < q.at) sync = s.at;
      if (sync === null || sync < e.index) continue;
      const committedBefore = (commitsByKey.get(key) ?? []).some((c) => c.at < sync! && newer(c.ver, ver));
      const appliedSince = obs.some((a) => a.applied !== null && a.node === q.node && a.term === q.term && a.at > sync! && a.at < q.at && newer(a.applied, ver));
      if (!committedBefore && !appliedSince) return true;
    }
    return false;
  };

  // ---- steps ----
  const steps: TraceStep[] = [];
  const leaderTerm = new Map<number, number>();
  const inflight = new Map<number, { key: string; term: number; inc: number; commit: number }[]>();
  let puts = 0;
  const putOffsets: { off: number; sseg: number }[] = [];
  const lastIncOf = new Map<string, number>();
  let maxTerm = 0;
  let crashes = 0;
  let uncommitted = 0;
  let branching = 0;
  const ver = (term: number, inc: number) => tuple(term, inc);
  const push = (ev: number, a: string, f: Record<string, TlaValue>) => steps.push({ a, ev, ...f });
  for (const e of events) {
    const n = name(e);
    const r = e.node;
    if (typeof e.fields['term'] === 'number') maxTerm = Math.max(maxTerm, e.fields['term']);
    switch (n) {
      case 'elect-start': {
        const term = num(e, 'term');
        push(e.index, 'raise', { r, term: term - 1 });
        push(e.index, 'timeout', { r, term });
        break;
      }
      case 'vote':
        push(e.index, 'vote', { r, c: num(e, 'candidate'), term: num(e, 'term') });
        break;
      case 'leader':
        leaderTerm.set(r, num(e, 'term'));
        push(e.index, 'leader', { r, term: num(e, 'term') });
        break;
      case 'step-down':
        push(e.index, 'stepdown', { r, term: num(e, 'term') });
        break;
      case 'sync': {
        // the replicas it READ (lolkv.sync.sources): a majority with the leader, not necessarily
        // every replica fenced for the term (runs recorded before the field: the spec's Sync)
        const src = e.fields['sources'];
        if (typeof src === 'string') push(e.index, 'syncfrom', { r, term: num(e, 'term'), src: set(src === '' ? [] : src.split(',').map(Number)) });
        else push(e.index, 'sync', { r, term: num(e, 'term') });
        break;
      }
      case 'adopt-term':
        // a replica learned a newer term without voting (heartbeat, vote request or reply, connect)
        push(e.index, 'raise', { r, term: num(e, 'term') });
        break;
      case 'sync-source':
        push(e.index, 'raiseup', { r, term: num(e, 'term') });
        break;
      case 'copy': {
        const from = num(e, 'from');
        const to = num(e, 'to');
        const segs = putOffsets.filter((x) => x.off >= from && x.off < to).map((x) => x.sseg);
        if (segs.length === 0) break;
        push(e.index, 'raiseup', { r, term: num(e, 'term') });
        push(e.index, 'copy', { r: num(e, 'leader'), f: r, segs: set(segs) });
        break;
      }
      case 'catchup': {
        const f = num(e, 'node');
        push(e.index, 'unlink', { r, f });
        push(e.index, 'catchup', { r, f });
        const lt = leaderTerm.get(r);
        for (const o of inflight.get(r) ?? []) {
          if (o.term === lt && o.commit > e.index) push(e.index, 'retarget', { r, f, key: mk(o.key), ver: ver(o.term, o.inc) });
        }
        break;
      }
      case 'replicate': {
        const key = str(e, 'key');
        const term = num(e, 'term');
        const inc = num(e, 'inc');
        // A PUT whose allocation fails (no free segment: RETRY) has taken an incarnation without an
        // object: the incarnations of a key within a term can skip.
        const lastInc = lastIncOf.get(`${r}|${term}|${key}`) ?? 0;
        if (inc > lastInc + 1) push(e.index, 'skipinc', { r, key: mk(key), term, inc: inc - 1 });
        lastIncOf.set(`${r}|${term}|${key}`, inc);
        puts++;
        putOffsets.push({ off: num(e, 'off'), sseg: puts });
        push(e.index, 'put', { r, key: mk(key), term, inc, sseg: puts, seg: num(e, 'seg'), off: num(e, 'off') });
        const c = commitAt.get(opId(r, term, key, inc));
        if (c !== undefined && c > e.index) {
          push(e.index, 'landall', { r, key: mk(key), ver: ver(term, inc) });
          const l = inflight.get(r) ?? [];
          l.push({ key, term, inc, commit: c });
          inflight.set(r, l.filter((o) => o.commit > e.index));
        } else {
          uncommitted++;
          if (relevant(e)) {
            // what the fabric says: no WRITE posted, or flushed / refused = not landed; a successful
            // completion = landed; a transport timeout or no completion at all (its leader
            // crashed) = unknown
            const ev = landing.get(opId(r, term, key, inc)) ?? { posted: new Set<number>(), landed: new Set<number>(), failed: new Set<number>() };
            const unknown = [...ev.posted].filter((f) => !ev.landed.has(f) && !ev.failed.has(f)).sort((a, b) => a - b);
            if (unknown.length > 0) branching++;
            push(e.index, 'landsome', { r, key: mk(key), ver: ver(term, inc), lf: set([...ev.landed].sort((a, b) => a - b)), lu: set(unknown) });
            push(e.index, 'landpick', { r, key: mk(key), ver: ver(term, inc) });
          }
        }
        break;
      }
      case 'commit':
        push(e.index, 'commit', { r, key: mk(str(e, 'key')), ver: ver(num(e, 'term'), num(e, 'inc')) });
        break;
      case 'apply':
        push(e.index, 'apply', { r, key: mk(str(e, 'key')), ver: ver(num(e, 'term'), num(e, 'inc')), applied: e.fields['applied'] === true, replaced: e.fields['replaced'] === true });
        break;
      case 'lookup': {
        const inc = e.fields['inc'];
        push(e.index, 'lookup', { r, key: mk(str(e, 'key')), term: num(e, 'term'), inc: typeof inc === 'number' ? inc : 0 });
        break;
      }
      case 'get': {
        const inc = e.fields['inc'];
        // with a traced lookup the value was checked there: here the read check and Get
        push(e.index, e.fields['id'] !== undefined ? 'getrc' : 'get', { r, key: mk(str(e, 'key')), term: num(e, 'term'), inc: typeof inc === 'number' ? inc : 0 });
        break;
      }
      case 'fault.crash':
        crashes++;
        push(e.index, 'crash', { r });
        break;
      case 'fault.restart':
        push(e.index, 'restart', { r });
        break;
      default:
        throw new Error(`unexpected event ${e.kind}`);
    }
  }
  if (uncommitted > 0) notes.push(`${uncommitted} PUT(s) never committed; ${branching} of them a later read could reveal and the fabric does not say where they landed (explored)`);

  // worker slots: a spec worker stays busy from StartPut to Apply (or the replica's restart)
  const active = new Map<number, number>();
  const busy = new Map<string, number>();
  let threads = 1;
  for (const s of steps) {
    const r = s['r'] as number;
    if (s.a === 'put') {
      active.set(r, (active.get(r) ?? 0) + 1);
      busy.set(`${r}|${tla(s['key']!)}|${s['term']}|${s['inc']}`, r);
    } else if (s.a === 'apply') {
      const v = s['ver'] as { tuple: number[] };
      const id = `${r}|${tla(s['key']!)}|${v.tuple[0]}|${v.tuple[1]}`;
      if (busy.delete(id)) active.set(r, (active.get(r) ?? 1) - 1);
    } else if (s.a === 'restart') {
      active.set(r, 0);
      for (const [id, node] of busy) if (node === r) busy.delete(id);
    }
    threads = Math.max(threads, (active.get(r) ?? 0) + 1);
  }

  const replicas = [...opts.servers].sort((a, b) => a - b);
  const keys = [...keyMap.values()];
  const lines = [
    '---------------------------- MODULE LoLKVTraceData ----------------------------',
    `\\* Generated by kvlab validate (sim/validate/lolkv.ts): ${events.length} events, ${steps.length} steps.`,
    `\\* Keys: ${[...keyMap].map(([k, m]) => `${m} = ${JSON.stringify(k)}`).join(', ') || 'none'}.`,
    'EXTENDS Naturals',
    `TrReplica == ${tla(set(replicas))}`,
    `TrThread == ${tla(set(Array.from({ length: threads }, (_, j) => `t${j + 1}`)))}`,
    `TrKey == ${tla(set(keys))}`,
    `TrNSeg == ${Math.max(1, puts)}`,
    `TrMaxPuts == ${puts}`,
    `TrMaxTerm == ${maxTerm}`,
    `TrMaxCrashes == ${crashes}`,
    `TrFullLanding == ${opts.fullLanding === true ? 'TRUE' : 'FALSE'}`,
    `TrBudgetSeconds == ${opts.budget?.seconds ?? 600}`,
    `TrBudgetStates == ${opts.budget?.states ?? 2_000_000}`,
    tlaSeqDef('TrSteps', steps),
    '=============================================================================',
    '',
  ];
  return {
    protocol: 'lolkv',
    specModule: 'LoLKVTrace',
    specDeps: ['LoLKV'],
    dataModule: 'LoLKVTraceData',
    dataText: lines.join('\n'),
    events,
    steps,
    totalProtocolEvents: total,
    truncatedEvents: truncated,
    maps: { key: Object.fromEntries(keyMap), replica: Object.fromEntries(replicas.map((r) => [String(r), String(r)])) },
    dropped,
    notes,
  };
}
