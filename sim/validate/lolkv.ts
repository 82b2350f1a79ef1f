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
 *  lolkv.sync {term}                     Sync
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

/** Slack for the GET's table lookup itself (probing, reading the object) before its read check. */
const LOOKUP_SLACK_NS = 20_000;

const MODELLED = new Set(['elect-start', 'vote', 'leader', 'step-down', 'sync', 'catchup', 'replicate', 'commit', 'apply', 'get']);

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
export function selectLolkvEvents(records: readonly RecordLike[], opts: LolkvTraceOptions): { events: TraceEvent[]; dropped: Record<string, number>; total: number; truncated: number; notes: string[] } {
  const prefix = `${opts.prefix ?? 'lolkv'}.`;
  const servers = new Set(opts.servers);
  const dropped: Record<string, number> = {};
  const drop = (k: string) => void (dropped[k] = (dropped[k] ?? 0) + 1);
  const kept: Pending[] = [];
  let total = 0;
  let truncated = 0;
  const max = opts.maxEvents ?? Infinity;
  for (const r of records) {
    const f = r.fields ?? {};
    if (r.kind.startsWith(prefix)) {
      const name = r.kind.slice(prefix.length);
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
      kept.push({ t: r.t, node: r.node, kind: r.kind, fields: { ...f } });
    } else if ((r.kind === 'fault.crash' || r.kind === 'fault.restart') && servers.has(r.node)) {
      if (total >= max) continue;
      kept.push({ t: r.t, node: r.node, kind: r.kind, fields: { ...f } });
    }
  }
  const notes: string[] = [];
  const sortKey = kept.map((_, j) => j as number);
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
  if (movedPuts > 0) notes.push(`${movedPuts} replicate event(s) moved up to incarnation order (faa precedes the traced local write)`);

  // 2. A GET is traced after its read check, but it read the table before (its lookup): a PUT of the
  // same key applied in between makes the returned version look stale. The read check gives up
  // after readCheckTimeoutNs, so the lookup happened at most that long (plus the lookup's own time)
  // before the event. Within that window the event moves back to just before the apply that
  // replaced the version it returned (or before the window's first apply of the key, if it returned
  // none of the window's versions). The spec then checks the returned version there.
  const windowNs = (opts.readCheckTimeoutNs ?? 200_000) + LOOKUP_SLACK_NS;
  let movedGets = 0;
  kept.forEach((g, j) => {
    if (g.kind !== `${prefix}get`) return;
    const key = g.fields['key'];
    const inc = g.fields['inc'] ?? null;
    const applies: number[] = [];
    for (let x = j - 1; x >= 0 && kept[x]!.t >= g.t - windowNs; x--) {
      const a = kept[x]!;
      if (a.kind === `${prefix}apply` && a.node === g.node && a.fields['key'] === key && a.fields['term'] === g.fields['term'] && a.fields['applied'] === true) applies.unshift(x);
    }
    if (applies.length === 0) return;
    if (fieldNum(kept[applies[applies.length - 1]!]!, 'inc') === inc) return;
    let before = applies[0]!;
    for (let m = applies.length - 2; m >= 0; m--) {
      if (fieldNum(kept[applies[m]!]!, 'inc') === inc) {
        before = applies[m + 1]!;
        break;
      }
    }
    sortKey[j] = before - 0.25 + j * 1e-12;
    movedGets++;
  });
  if (movedGets > 0) notes.push(`${movedGets} get event(s) moved back to their lookup (a PUT of the key was applied during the read check)`);

  const order = kept.map((_, j) => j).sort((x, y) => sortKey[x]! - sortKey[y]! || x - y);
  const events: TraceEvent[] = order.map((j, n) => {
    const { t, node, kind, fields } = kept[j]!;
    return { index: n + 1, t, node, kind, fields };
  });
  return { events, dropped, total, truncated, notes };
}

/** Builds the LoLKV trace steps and the LoLKVTraceData module from a run's records. */
export function buildLolkvTrace(records: readonly RecordLike[], opts: LolkvTraceOptions): ValidationTrace {
  const prefix = `${opts.prefix ?? 'lolkv'}.`;
  const { events, dropped, total, truncated, notes } = selectLolkvEvents(records, opts);
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
  const commitAt = new Map<string, number>();
  const syncIdx: number[] = [];
  const commitsByKey = new Map<string, { at: number; ver: Ver }[]>();
  const obsByKey = new Map<string, number[]>();
  for (const e of events) {
    const n = name(e);
    if (n === 'commit') {
      const id = opId(e.node, num(e, 'term'), str(e, 'key'), num(e, 'inc'));
      if (!commitAt.has(id)) commitAt.set(id, e.index);
      const l = commitsByKey.get(str(e, 'key')) ?? [];
      l.push({ at: e.index, ver: [num(e, 'term'), num(e, 'inc')] });
      commitsByKey.set(str(e, 'key'), l);
    } else if (n === 'sync') syncIdx.push(e.index);
    else if (n === 'get' || n === 'apply') {
      const l = obsByKey.get(str(e, 'key')) ?? [];
      l.push(e.index);
      obsByKey.set(str(e, 'key'), l);
    }
  }
  const relevant = (e: TraceEvent): boolean => {
    const key = str(e, 'key');
    const ver: Ver = [num(e, 'term'), num(e, 'inc')];
    let shadow = Infinity;
    for (const c of commitsByKey.get(key) ?? []) if (newer(c.ver, ver) && c.at < shadow) shadow = c.at;
    for (const q of obsByKey.get(key) ?? []) {
      if (q <= e.index || q >= shadow) continue;
      if (syncIdx.some((s) => s > e.index && s < q)) return true;
    }
    return false;
  };

  // ---- steps ----
  const steps: TraceStep[] = [];
  const leaderTerm = new Map<number, number>();
  const inflight = new Map<number, { key: string; term: number; inc: number; commit: number }[]>();
  let puts = 0;
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
      case 'sync':
        push(e.index, 'sync', { r, term: num(e, 'term') });
        break;
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
        puts++;
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
            branching++;
            push(e.index, 'landsome', { r, key: mk(key), ver: ver(term, inc) });
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
      case 'get': {
        const inc = e.fields['inc'];
        push(e.index, 'get', { r, key: mk(str(e, 'key')), term: num(e, 'term'), inc: typeof inc === 'number' ? inc : 0 });
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
  if (uncommitted > 0) notes.push(`${uncommitted} PUT(s) never committed; ${branching} of them a later read could reveal (their landing is explored)`);

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
