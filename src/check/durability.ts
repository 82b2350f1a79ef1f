import type { History } from './history.js';
import { groupByKey } from './linearizability.js';
import { toOps, type Op } from './ops.js';

/**
 * Lost acknowledged writes, judged by a history's final reads (docs/checker.md, "Durability").
 *
 * The history is expected to end with one `get` per key issued after every fault healed. Per key:
 *
 *   R  the final read: the key's `ok` get with the latest invoke. Keys without one are skipped.
 *   v  the value R returned.
 *   p  the source of v: a put or cas (new value = v) or an append whose value is a suffix of v,
 *      that did not fail and was invoked before R completed; or the initial value when v equals
 *      it (p then completed at -∞). Several candidates → the one completing last (an info or
 *      pending one completes at +∞), so that the fewest writes are reported lost. No candidate
 *      → skipped: v was never written, which is a linearizability violation, not a durability one.
 *   lost  every `ok` put / append / cas q on the key, other than p, invoked strictly after p
 *      completed and completed strictly before R was invoked. q must be ordered after p, R after
 *      q, so R should have seen q or something later — yet R still shows p's value.
 *
 * For appends the lost value is the appended suffix itself: the final value ends with p's suffix,
 * so everything q appended after it is gone. Values are assumed unique per key, as the workload
 * generators make them; repeated values can only hide losses, never invent them.
 */

export interface LostWrite {
  key: string;
  /** What q wrote: the put value, the appended suffix, or the cas's new value. */
  lostValue: string;
  /** What the final read returned (null = absent). */
  finalValue: string | null;
  /** The lost operation q. */
  op: Op;
}

export function checkDurability(history: History): LostWrite[] {
  const lost: LostWrite[] = [];
  for (const [key, ops] of groupByKey(toOps(history))) {
    let finalRead: Op | undefined;
    for (const op of ops) if (op.f === 'get' && op.status === 'ok') finalRead = op;
    if (!finalRead) continue;
    const v = finalRead.output ?? null;
    const writes = ops.filter((op) => op.f !== 'get' && op.status !== 'fail');
    let sourceEnd: number | undefined = v === history.init ? -Infinity : undefined;
    let source: Op | undefined;
    for (const w of writes) {
      if (w.start >= finalRead.end || !couldProduce(w, v)) continue;
      if (sourceEnd === undefined || w.end >= sourceEnd) {
        sourceEnd = w.end;
        source = w;
      }
    }
    if (sourceEnd === undefined) continue;
    for (const q of writes) {
      if (q === source || q.status !== 'ok') continue;
      if (q.start > sourceEnd && q.end < finalRead.start) lost.push({ key, lostValue: written(q), finalValue: v, op: q });
    }
  }
  return lost;
}

function written(op: Op): string {
  return op.f === 'cas' ? (op.input as [string | null, string])[1] : (op.input as string);
}

function couldProduce(w: Op, v: string | null): boolean {
  if (v === null) return false;
  return w.f === 'append' ? v.endsWith(written(w)) : v === written(w);
}
