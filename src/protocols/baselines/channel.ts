import { Future, type Runtime, type Task, firstOf, wait } from '../../platform/index.js';

/** A queue between threads of one node: push never blocks; take waits (with a timeout). */
export class Channel<T> {
  private readonly items: T[] = [];
  private head = 0;
  private signal: Future<void> | null = null;

  push(x: T): void {
    this.items.push(x);
    const s = this.signal;
    this.signal = null;
    s?.resolve();
  }

  *take(rt: Runtime, timeoutNs: number): Task<T | null> {
    if (this.head >= this.items.length) {
      if (this.signal === null) this.signal = new Future<void>();
      yield* wait(firstOf([this.signal, rt.timer(timeoutNs)]));
      if (this.head >= this.items.length) return null;
    } else yield 0;
    const x = this.items[this.head++]!;
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return x;
  }
}
