import { show } from './kv-model.js';
import type { Op } from './ops.js';

/**
 * Text for one operation in reports: `p3 put "a" ok`, `p1 get → "a" ok`, `p2 cas "a" → "b" info`.
 * An invoke that never completed reads `pending`.
 */
export function describeOp(op: Op): string {
  const status = op.completeIndex === null ? 'pending' : op.status;
  return `p${op.process} ${describeCall(op)} ${status}`;
}

/** The call alone, as the model sees it: `put "a"`, `get → "a"`, `cas absent → "b"`. */
export function describeCall(op: Op): string {
  switch (op.f) {
    case 'get':
      return op.status === 'ok' ? `get → ${show(op.output ?? null)}` : 'get';
    case 'put':
    case 'append':
      return `${op.f} ${show(op.input as string)}`;
    case 'cas': {
      const [expected, next] = op.input as [string | null, string];
      return `cas ${show(expected)} → ${show(next)}`;
    }
  }
}

/** The operation's value as a JSONL completion would carry it: the value read for a get. */
export function opValue(op: Op): unknown {
  return op.f === 'get' ? (op.output ?? null) : op.input;
}
