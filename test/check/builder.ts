import type { EventType, History, HistoryEvent, OpFn } from '../../src/check/history.js';

/**
 * Terse history construction for tests: line order is real-time order unless `at` gives times.
 *   h().put(0, 'x', 'a').ok(0)          // p0 puts "a" and it completes
 *   h().get(1, 'x').ok(1, 'a')          // p1 reads "a"
 */
export class HistoryBuilder {
  readonly events: HistoryEvent[] = [];
  private readonly pending = new Map<number, HistoryEvent>();
  private timeNs: number | undefined;

  constructor(readonly init: string | null = null) {}

  /** Sets the time of the next events (ns); call before each event to make a timed history. */
  at(timeNs: number): this {
    this.timeNs = timeNs;
    return this;
  }

  invoke(process: number, f: OpFn, key: string, value: unknown): this {
    const e: HistoryEvent = { process, type: 'invoke', f, key, value };
    this.pending.set(process, e);
    return this.push(e);
  }

  get(process: number, key: string): this {
    return this.invoke(process, 'get', key, null);
  }
  put(process: number, key: string, value: string): this {
    return this.invoke(process, 'put', key, value);
  }
  append(process: number, key: string, value: string): this {
    return this.invoke(process, 'append', key, value);
  }
  cas(process: number, key: string, expected: string | null, value: string): this {
    return this.invoke(process, 'cas', key, [expected, value]);
  }

  /** Completes process's pending op; for a get ok, `read` is the value read. */
  ok(process: number, read?: string | null): this {
    return this.complete(process, 'ok', read);
  }
  fail(process: number): this {
    return this.complete(process, 'fail');
  }
  info(process: number): this {
    return this.complete(process, 'info');
  }

  build(): History {
    return { init: this.init, events: this.events.map((e) => ({ ...e })) };
  }

  private complete(process: number, type: EventType, read?: string | null): this {
    const inv = this.pending.get(process);
    if (!inv) throw new Error(`builder: no pending op for p${process}`);
    this.pending.delete(process);
    const value = inv.f === 'get' ? (type === 'ok' ? (read === undefined ? null : read) : null) : inv.value;
    return this.push({ process, type, f: inv.f, key: inv.key, value });
  }

  private push(e: HistoryEvent): this {
    if (this.timeNs !== undefined) e.time = this.timeNs;
    this.events.push(e);
    return this;
  }
}

export function h(init: string | null = null): HistoryBuilder {
  return new HistoryBuilder(init);
}

/** A history as JSONL text. */
export function toJsonl(history: History): string {
  const lines = [JSON.stringify({ init: history.init })];
  for (const e of history.events) lines.push(JSON.stringify(e));
  return `${lines.join('\n')}\n`;
}
