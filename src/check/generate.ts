import type { History, HistoryEvent, OpFn } from './history.js';

/**
 * Histories that are linearizable by construction, for the benchmark and property tests.
 *
 * A sequential store is driven by concurrent processes. Each operation goes through three steps
 * that the scheduler interleaves at random: invoke (an event), take effect (applied to the
 * store at that instant: this is its linearization point), complete (an event reporting what
 * the effect returned). An `info` operation may take effect before its info event, at a random
 * later moment, or never; a `fail` operation never takes effect (a cas whose compare fails is
 * recorded as fail). Every value written is a fresh token, so a planted bug cannot be explained
 * away by a coincidence.
 */

export interface GenerateOptions {
  /** Operations to invoke. */
  ops: number;
  processes: number;
  keys: number;
  fns?: readonly OpFn[];
  /** Probability that an operation's outcome is reported as info. */
  infoRate?: number;
  /** Probability that an operation is rejected (fail, no effect). */
  failRate?: number;
  init?: string | null;
  /** Give every event a `time` (non-decreasing, with ties). */
  timed?: boolean;
  /**
   * End with a final-read phase, as after faults heal: info operations that have not taken effect
   * by then never will, and one process reads every key once, sequentially.
   */
  finalReads?: boolean;
}

type Phase = 'idle' | 'invoked' | 'done';

interface Running {
  f: OpFn;
  key: string;
  value: string | [string | null, string] | null;
  outcome: 'ok' | 'fail' | 'info';
  output?: string | null;
  casSwapped?: boolean;
}

/** `random` returns numbers in [0, 1): pass a seeded generator (e.g. seedrandom's alea). */
export function generateHistory(opts: GenerateOptions, random: () => number): History {
  const fns = opts.fns ?? ['get', 'put', 'append', 'cas'];
  const infoRate = opts.infoRate ?? 0;
  const failRate = opts.failRate ?? 0;
  const init = opts.init ?? null;
  const int = (n: number): number => Math.min(n - 1, Math.floor(random() * n));
  const store = new Map<string, string | null>();
  const read = (key: string): string | null => (store.has(key) ? store.get(key)! : init);
  /** Values each key has held, for cas expectations that sometimes miss. */
  const seen = new Map<string, (string | null)[]>();
  const events: HistoryEvent[] = [];
  let timeNs = 0;
  let token = 0;
  const emit = (e: HistoryEvent): void => {
    if (opts.timed) {
      timeNs += int(3); // increments of 0 make ties: touching operations count as concurrent
      e.time = timeNs;
    }
    events.push(e);
  };
  const apply = (r: Running): void => {
    const cur = read(r.key);
    switch (r.f) {
      case 'get':
        r.output = cur;
        return;
      case 'put':
        store.set(r.key, r.value as string);
        break;
      case 'append':
        store.set(r.key, (cur ?? '') + (r.value as string));
        break;
      case 'cas': {
        const [expected, next] = r.value as [string | null, string];
        r.casSwapped = cur === expected;
        if (!r.casSwapped) return;
        store.set(r.key, next);
        break;
      }
    }
    const hist = seen.get(r.key) ?? [init];
    hist.push(read(r.key));
    seen.set(r.key, hist);
  };

  const phase: Phase[] = new Array<Phase>(opts.processes).fill('idle');
  const running: (Running | null)[] = new Array<Running | null>(opts.processes).fill(null);
  /** info operations that have not taken effect yet and still might. */
  const floating: Running[] = [];
  let invoked = 0;
  const busy = (): boolean => phase.some((p) => p !== 'idle');
  while (invoked < opts.ops || busy()) {
    if (floating.length > 0 && random() < 0.05) {
      const r = floating.splice(int(floating.length), 1)[0]!;
      if (random() < 0.5) apply(r);
      continue;
    }
    const p = int(opts.processes);
    switch (phase[p]) {
      case 'idle': {
        if (invoked >= opts.ops) break;
        const f = fns[int(fns.length)]!;
        const key = `k${int(opts.keys)}`;
        let value: Running['value'] = null;
        if (f === 'put' || f === 'append') value = `${f === 'put' ? 'v' : '+'}${token++}`;
        if (f === 'cas') {
          const hist = seen.get(key) ?? [init];
          const expected = random() < 0.7 ? read(key) : hist[int(hist.length)]!;
          value = [expected, `c${token++}`];
        }
        const u = random();
        const outcome = u < infoRate ? 'info' : u < infoRate + failRate ? 'fail' : 'ok';
        running[p] = { f, key, value, outcome };
        phase[p] = 'invoked';
        invoked++;
        emit({ process: p, type: 'invoke', f, key, value: f === 'get' ? null : value });
        break;
      }
      case 'invoked': {
        const r = running[p]!;
        if (r.outcome === 'ok') apply(r);
        else if (r.outcome === 'info') {
          const u = random();
          if (u < 0.4) apply(r);
          else if (u < 0.8) floating.push(r);
        }
        phase[p] = 'done';
        break;
      }
      case 'done': {
        const r = running[p]!;
        let type = r.outcome;
        if (r.f === 'cas' && type === 'ok' && !r.casSwapped) type = 'fail';
        const value = r.f === 'get' ? (type === 'ok' ? r.output! : null) : r.value;
        emit({ process: p, type, f: r.f, key: r.key, value });
        phase[p] = 'idle';
        running[p] = null;
        break;
      }
    }
  }
  if (opts.finalReads) {
    const reader = opts.processes;
    for (let k = 0; k < opts.keys; k++) {
      const key = `k${k}`;
      emit({ process: reader, type: 'invoke', f: 'get', key, value: null });
      emit({ process: reader, type: 'ok', f: 'get', key, value: read(key) });
    }
  }
  return { init, events };
}
