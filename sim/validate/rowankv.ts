import { type TlaValue, set, tla, tlaSeqDef, tlaString } from './tla.js';
import type { RecordLike, TraceEvent, TraceStep, ValidationTrace } from './types.js';

/**
 * Rowan-KV trace validation: a run's records -> the steps of spec/trace/RowanKVTrace.tla (mapping
 * in spec/README.md, "Trace validation"). Pure: no I/O.
 *
 *  rowankv.cm-config {epoch, shards}   CmConfig (the CM publishes configuration `epoch`)
 *  rowankv.config {epoch}              Adopt (a server adopts it)
 *  rowankv.activate {shard}            Promote (every slot of the shard)
 *  rowankv.deactivate {shard}          Deactivate; PUTs of the shard that never commit are abandoned
 *  rowankv.append {key, shard, ver}    StartPut (in a free slot of the shard)
 *  rc.recv of the PUT's SEND           Land (the frame is in the backup's Rowan buffer)
 *  rowankv.commit                      DropTargets, Complete
 *  rowankv.catchup-done {shard, node}  CatchUpPush
 *  fault.crash / fault.restart         Crash / Restart
 *  dropped: rowankv.get (the spec has no GETs), gc-free (primary-log cleaning), blog-clean (backup-
 *  log cleaning), activate-start, catchup-start, cm-promote/handoff/reshard/joined (their effect is
 *  the cm-config that follows), recovered/backup-recovered (boot-time scans).
 *
 * A frame's SEND is matched to its PUT on the primary exactly when the worker traced it
 * (`rowankv.send {shard, ver, to, wrId}` right before posting: the next rc.send from that node to
 * `to` with that wrId carries it); otherwise — traces of older builds, activation and catch-up
 * pushes — by the heuristics below (an append is followed at once by one SEND
 * per target; a re-send goes to a target the PUT has not landed on yet; SENDs of activation and
 * catch-up pushes match no PUT -- or, if one is mistaken for a re-send, can only make a PUT look
 * landed earlier, never reject a run) and to its landing on the
 * backup (rc.recv on the receiving QP: RC delivers a QP's SENDs in order, so the k-th receive on
 * a QP is the k-th SEND posted on its peer, whose ids cm.connected pairs).
 */

export interface RowankvTraceOptions {
  servers: readonly number[];
  /** Protocol options `shards` (default 12) and `replicas` (default 3). */
  shards?: number;
  replicas?: number;
  maxEvents?: number;
  budget?: { seconds: number; states: number };
}

interface ShardCfg {
  primary: number;
  backups: number[];
  joining: number;
  handoff: number;
}

/** src/protocols/rowan/kv/config.ts initialConfig. */
function initialConfig(servers: number, shards: number, replicas: number): ShardCfg[] {
  const r = Math.min(replicas, servers);
  const out: ShardCfg[] = [];
  for (let s = 0; s < shards; s++) {
    const p = s % servers;
    const backups: number[] = [];
    for (let k = 1; k < r; k++) backups.push((p + k) % servers);
    out.push({ primary: p, backups, joining: -1, handoff: -1 });
  }
  return out;
}

/** The CM's `describe`: "p:bb+j>h" per shard, space separated (single-digit server ids). */
export function parseShardsDescription(desc: string, shards: number): ShardCfg[] {
  const parts = desc.trim().split(/\s+/);
  if (parts.length !== shards) throw new Error(`cm-config shards ${JSON.stringify(desc)}: ${parts.length} entries, expected ${shards}`);
  return parts.map((p) => {
    const m = /^(\d+):(\d*)(?:\+(\d+))?(?:>(\d+))?$/.exec(p);
    if (!m) throw new Error(`cm-config shard description ${JSON.stringify(p)} not understood`);
    return { primary: Number(m[1]), backups: [...m[2]!].map(Number), joining: m[3] === undefined ? -1 : Number(m[3]), handoff: m[4] === undefined ? -1 : Number(m[4]) };
  });
}

interface Put {
  ord: number;
  p: number;
  shard: number;
  key: string;
  ver: number;
  t: number;
  /** Where its SENDs go: the shard's backups in its primary's configuration; and a joining node (-1: none), once it is ready. */
  targets: Set<number>;
  joiner: number;
  sentTo: Set<number>;
  landedAt: Set<number>;
  done: boolean;
  /** wrId of its last SEND, and the thread (a QP id standing for it) that posted them. */
  lastWrId?: number;
  thread?: string;
}

/** A PUT's SENDs (first ones and re-sends after a reconnect) are looked for this long after it. */
const SEND_WINDOW_NS = 5_000_000;
/** A worker posts its PUT's first SEND this soon after tracing the append (no reconnect needed). */
const IMMEDIATE_NS = 300;

interface Kept {
  t: number;
  node: number;
  kind: string;
  fields: Record<string, string | number | boolean | null>;
  put?: Put;
}

export function buildRowankvTrace(records: readonly RecordLike[], opts: RowankvTraceOptions): ValidationTrace {
  const servers = new Set(opts.servers);
  const nShards = opts.shards ?? 12;
  const cfgs: ShardCfg[][] = [[], initialConfig(opts.servers.length, nShards, opts.replicas ?? 3)];
  const dropped: Record<string, number> = {};
  const drop = (k: string) => void (dropped[k] = (dropped[k] ?? 0) + 1);
  const kept: Kept[] = [];
  const max = opts.maxEvents ?? Infinity;
  let total = 0;
  let truncated = 0;
  const puts: Put[] = [];
  const byVer = new Map<string, Put>();
  const pending = new Map<number, Put[]>(); // primary -> PUTs not committed, in append order
  const peerOf = new Map<string, string>(); // receiver "node:qp" -> sender "node:qp"
  const sendQueue = new Map<string, { put: Put | null }[]>();
  const adopted = new Map<number, number>(); // server -> configuration epoch it has adopted
  const qpThread = new Map<string, string>(); // "node:qp" -> the thread (first QP seen of it) posting on it
  const notes: string[] = [];
  let unmatchedSends = 0;
  /** Per `node:to`: PUTs whose SEND the worker announced (rowankv.send) and has not posted yet. */
  const sendMarks = new Map<string, { put: Put; wrId: number; t: number }[]>();
  let unmatchedRecvs = 0;

  const keep = (r: RecordLike, put?: Put, fields?: Kept['fields']) => {
    total++;
    if (total > max) {
      truncated++;
      return;
    }
    kept.push({ t: r.t, node: r.node, kind: r.kind, fields: fields ?? ({ ...(r.fields ?? {}) } as Kept['fields']), ...(put ? { put } : {}) });
  };

  for (const r of records) {
    const f = r.fields ?? {};
    switch (r.kind) {
      case 'cm.connected':
        if (typeof f['to'] === 'number' && typeof f['qp'] === 'number' && typeof f['peerQp'] === 'number') peerOf.set(`${f['to']}:${f['peerQp']}`, `${r.node}:${f['qp']}`);
        continue;
      case 'rowankv.send': {
        // Which PUT the worker's next post to `to` with this wrId carries (see the header).
        const put = byVer.get(`${r.node}|${f['shard']}|${f['ver']}`);
        if (put === undefined) continue;
        const k = `${r.node}:${f['to']}`;
        let marks = sendMarks.get(k);
        if (marks === undefined) sendMarks.set(k, (marks = []));
        marks.push({ put, wrId: f['wrId'] as number, t: r.t });
        while (marks.length > 0 && r.t - marks[0]!.t > SEND_WINDOW_NS) marks.shift();
        continue;
      }
      case 'rc.send': {
        if (!servers.has(r.node)) continue;
        const to = f['to'] as number;
        const wrId = f['wrId'] as number;
        const qpKey = `${r.node}:${f['qp']}`;
        const marks = sendMarks.get(`${r.node}:${to}`);
        // The latest announcement with this wrId: an older one is a post that never left (no
        // connection then), and worker threads number their posts separately.
        let mark = -1;
        if (marks !== undefined) for (let i = marks.length - 1; i >= 0 && mark < 0; i--) if (marks[i]!.wrId === wrId) mark = i;
        if (mark >= 0) {
          const exact = marks!.splice(mark, 1)[0]!.put;
          exact.sentTo.add(to);
          exact.lastWrId = wrId;
          const t = exact.thread ?? qpThread.get(qpKey) ?? qpKey;
          exact.thread = t;
          qpThread.set(qpKey, t);
          let q = sendQueue.get(qpKey);
          if (q === undefined) sendQueue.set(qpKey, (q = []));
          q.push({ put: exact });
          continue;
        }
        const l = (pending.get(r.node) ?? []).filter((x) => (x.targets.has(to) || x.joiner === to) && !x.landedAt.has(to) && r.t - x.t <= SEND_WINDOW_NS);
        // Which PUT a SEND carries. A worker numbers its posts 1, 2, 3, ... and posts a PUT's SENDs
        // one target after the other, each on its own QP to that target, right after tracing the
        // append (unless it must reconnect first). In order of preference:
        //  1. the PUT whose last SEND had wrId - 1 and that has not sent to `to` (the same burst;
        //     workers count separately, so prefer one with `to` among its backups);
        //  2. a PUT with no SEND yet, appended just before (the worker posts right after tracing);
        //  3. a PUT this QP's thread has posted for (a QP belongs to one thread);
        //  4. the oldest PUT with no SEND to `to` yet (`to` a backup before a joining node);
        //  5. the oldest PUT still waiting for `to` (a re-send after a reconnect, on a new QP).
        const fresh = l.filter((x) => !x.sentTo.has(to));
        const thread = qpThread.get(qpKey);
        const justAppended = fresh.filter((x) => x.sentTo.size === 0 && r.t - x.t <= IMMEDIATE_NS);
        const burst = fresh.filter((x) => x.lastWrId === wrId - 1);
        const put: Put | null =
          burst.find((x) => x.targets.has(to)) ??
          burst[0] ??
          justAppended[justAppended.length - 1] ??
          (thread === undefined ? undefined : fresh.find((x) => x.thread === thread)) ??
          fresh.find((x) => x.targets.has(to) && x.sentTo.size === 0) ??
          fresh.find((x) => x.targets.has(to)) ??
          fresh[0] ??
          l.find((x) => x.targets.has(to)) ??
          l[0] ??
          null;
        if (put !== null) {
          put.sentTo.add(to);
          put.lastWrId = wrId;
          // the PUT's thread: the QPs it posts on
          const t = put.thread ?? thread ?? qpKey;
          put.thread = t;
          qpThread.set(qpKey, t);
        } else unmatchedSends++;
        let q = sendQueue.get(qpKey);
        if (q === undefined) sendQueue.set(qpKey, (q = []));
        q.push({ put });
        continue;
      }
      case 'rc.recv': {
        if (!servers.has(r.node) || f['status'] !== 'success') continue;
        const sender = peerOf.get(`${r.node}:${f['qp']}`);
        const q = sender === undefined ? undefined : sendQueue.get(sender);
        const s = q?.shift();
        if (s === undefined) {
          unmatchedRecvs++;
          continue;
        }
        const put = s.put;
        if (put === null || put.landedAt.has(r.node)) continue;
        put.landedAt.add(r.node);
        keep({ t: r.t, node: r.node, kind: 'rowankv.land' }, put, { primary: put.p, key: put.key, shard: put.shard, ver: put.ver, via: 'rc.recv' });
        continue;
      }
      case 'fault.crash':
      case 'fault.restart':
        if (servers.has(r.node)) {
          if (r.kind === 'fault.crash') pending.set(r.node, []);
          else adopted.set(r.node, 1);
          keep(r);
        }
        continue;
    }
    if (!r.kind.startsWith('rowankv.')) continue;
    const name = r.kind.slice('rowankv.'.length);
    switch (name) {
      case 'append': {
        const shard = f['shard'] as number;
        const x = cfgs[adopted.get(r.node) ?? 1]?.[shard];
        const targets = new Set(x === undefined ? [] : x.backups);
        const put: Put = { ord: puts.length + 1, p: r.node, shard, key: String(f['key']), ver: f['ver'] as number, t: r.t, targets, joiner: x?.joining ?? -1, sentTo: new Set(), landedAt: new Set(), done: false };
        puts.push(put);
        byVer.set(`${r.node}|${put.shard}|${put.ver}`, put);
        const l = pending.get(r.node) ?? [];
        l.push(put);
        pending.set(r.node, l);
        keep(r, put);
        break;
      }
      case 'commit': {
        const put = byVer.get(`${r.node}|${f['shard']}|${f['ver']}`);
        if (put === undefined) throw new Error(`rowankv.commit at ${r.t} on node ${r.node}: no append of shard ${f['shard']} version ${f['ver']}`);
        put.done = true;
        pending.set(r.node, (pending.get(r.node) ?? []).filter((x) => x !== put));
        keep(r, put);
        break;
      }
      case 'cm-config': {
        const e = f['epoch'] as number;
        cfgs[e] = parseShardsDescription(String(f['shards']), nShards);
        keep(r);
        break;
      }
      case 'activate':
        // An activation in the configuration a server has before the CM's first ping (epoch 0)
        // does not make it serve (its tenure stays 0): not a takeover.
        if (f['epoch'] === 0) drop(`${r.kind} (epoch 0)`);
        else keep(r);
        break;
      case 'config':
        adopted.set(r.node, f['epoch'] as number);
        keep(r);
        break;
      case 'catchup-done':
      case 'deactivate':
        keep(r);
        break;
      default:
        drop(r.kind);
    }
  }
  if (unmatchedSends > 0) notes.push(`${unmatchedSends} SEND(s) not matched to a PUT (activation/catch-up pushes)`);
  if (unmatchedRecvs > 0) notes.push(`${unmatchedRecvs} receive(s) without a matching SEND`);

  // epochs: fill gaps (a configuration the CM published before the prefix, or never traced)
  for (let e = 2; e < cfgs.length; e++) if (cfgs[e] === undefined) cfgs[e] = cfgs[e - 1]!;
  const maxEpoch = cfgs.length - 1;
  // tenure of each shard in each configuration: the epoch its primary took it over
  const tenure: number[][] = [[], cfgs[1]!.map(() => 1)];
  for (let e = 2; e <= maxEpoch; e++) tenure[e] = cfgs[e]!.map((x, s) => (x.primary === cfgs[e - 1]![s]!.primary ? tenure[e - 1]![s]! : e));

  // PUT slots per shard: the most PUTs of one shard in flight at one primary
  const commitOrd = new Set(puts.filter((x) => x.done).map((x) => x.ord));
  const inflight = new Map<string, number>();
  let slots = 1;
  for (const k of kept) {
    if (k.kind === 'rowankv.append') {
      const id = `${k.node}|${k.put!.shard}`;
      const n = (inflight.get(id) ?? 0) + 1;
      inflight.set(id, n);
      slots = Math.max(slots, n);
    } else if (k.kind === 'rowankv.commit') {
      const id = `${k.node}|${k.put!.shard}`;
      inflight.set(id, (inflight.get(id) ?? 1) - 1);
    } else if (k.kind === 'rowankv.deactivate' || k.kind === 'fault.crash') {
      // uncommitted PUTs are abandoned there (see below)
      for (const id of [...inflight.keys()]) {
        const [node, shard] = id.split('|').map(Number);
        if (node === k.node && (k.kind === 'fault.crash' || shard === k.fields['shard'])) {
          const open = puts.filter((x) => x.p === node && x.shard === shard && !commitOrd.has(x.ord)).length;
          inflight.set(id, Math.max(0, (inflight.get(id) ?? 0) - open));
        }
      }
    }
  }
  const slotName = (s: number, j: number) => `s${s}.${j}`;
  const shs = (s: number) => set(Array.from({ length: slots }, (_, j) => slotName(s, j + 1)));

  // ---- steps ----
  const events: TraceEvent[] = kept.map((k, n) => ({ index: n + 1, t: k.t, node: k.node, kind: k.kind, fields: k.fields }));
  const steps: TraceStep[] = [];
  const push = (ev: number, a: string, f: Record<string, TlaValue>) => steps.push({ a, ev, ...f });
  const abandoned = new Set<number>();
  const appended = new Set<number>();
  let crashes = 0;
  kept.forEach((k, n) => {
    const ev = n + 1;
    const put = k.put;
    switch (k.kind) {
      case 'rowankv.append':
        appended.add(put!.ord);
        push(ev, 'put', { p: k.node, put: put!.ord, shs: shs(put!.shard) });
        break;
      case 'rowankv.land':
        push(ev, 'land', { p: put!.p, b: k.node, put: put!.ord, shs: shs(put!.shard) });
        break;
      case 'rowankv.commit':
        push(ev, 'droptargets', { p: k.node, put: put!.ord, shs: shs(put!.shard) });
        push(ev, 'complete', { p: k.node, put: put!.ord, shs: shs(put!.shard) });
        break;
      case 'rowankv.cm-config':
        push(ev, 'cmconfig', { epoch: k.fields['epoch'] as number });
        break;
      case 'rowankv.config':
        push(ev, 'adopt', { s: k.node, epoch: k.fields['epoch'] as number });
        break;
      case 'rowankv.activate':
        for (const sh of shs(k.fields['shard'] as number).set) push(ev, 'promote', { s: k.node, sh });
        break;
      case 'rowankv.deactivate': {
        const s = k.fields['shard'] as number;
        for (const x of puts) {
          if (x.p === k.node && x.shard === s && !commitOrd.has(x.ord) && !abandoned.has(x.ord) && appended.has(x.ord)) {
            abandoned.add(x.ord);
            push(ev, 'abandon', { p: k.node, put: x.ord, shs: shs(s) });
          }
        }
        for (const sh of shs(s).set) push(ev, 'deactivate', { s: k.node, sh });
        break;
      }
      case 'rowankv.catchup-done':
        for (const sh of shs(k.fields['shard'] as number).set) push(ev, 'catchup', { p: k.node, sh, j: k.fields['node'] as number });
        break;
      case 'fault.crash':
        crashes++;
        for (const x of puts) if (x.p === k.node && !commitOrd.has(x.ord)) abandoned.add(x.ord);
        push(ev, 'crash', { s: k.node });
        break;
      case 'fault.restart':
        push(ev, 'restart', { s: k.node });
        break;
      default:
        throw new Error(`unexpected event ${k.kind}`);
    }
  });

  const shardNames = Array.from({ length: nShards }, (_, s) => Array.from({ length: slots }, (_, j) => slotName(s, j + 1))).flat();
  const cfgReal = (e: number) => ({ tuple: cfgs[e]!.map((x, s) => ({ epoch: tenure[e]![s]!, primary: x.primary, backups: set(x.backups) })) });
  const lines = [
    '--------------------------- MODULE RowanKVTraceData ---------------------------',
    `\\* Generated by kvlab validate (sim/validate/rowankv.ts): ${events.length} events, ${steps.length} steps.`,
    `\\* Shard "s<shard>.<slot>": slot <slot> of real shard <shard> (${slots} PUT slot(s) per shard).`,
    'EXTENDS TLC',
    `TrServer == ${tla(set([...opts.servers].sort((a, b) => a - b)))}`,
    `TrShard == ${tla(set(shardNames))}`,
    `TrShardOf == ${shardNames.map((n) => `(${tlaString(n)} :> ${Number(/^s(\d+)\./.exec(n)![1])})`).join(' @@ ')}`,
    tlaSeqDef('TrCfgReal', Array.from({ length: maxEpoch }, (_, k) => cfgReal(k + 1))),
    `TrMaxPuts == ${puts.length}`,
    `TrMaxCrashes == ${crashes}`,
    `TrBudgetSeconds == ${opts.budget?.seconds ?? 600}`,
    `TrBudgetStates == ${opts.budget?.states ?? 2_000_000}`,
    tlaSeqDef('TrSteps', steps),
    '=============================================================================',
    '',
  ];
  const landed = puts.filter((x) => x.landedAt.size > 0).length;
  notes.push(`${puts.length} PUT(s), ${landed} with a landing matched; ${slots} PUT slot(s) per shard`);
  return {
    protocol: 'rowankv',
    specModule: 'RowanKVTrace',
    specDeps: ['RowanKV'],
    dataModule: 'RowanKVTraceData',
    dataText: lines.join('\n'),
    events,
    steps,
    totalProtocolEvents: total,
    truncatedEvents: truncated,
    maps: { shard: Object.fromEntries(shardNames.map((n) => [n, `shard ${/^s(\d+)\./.exec(n)![1]}, PUT slot ${/\.(\d+)$/.exec(n)![1]}`])) },
    dropped,
    notes,
  };
}
