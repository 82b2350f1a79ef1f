import type { CompletionQueue, Memory, Platform, Task, UdAddress, UdEndpoint } from '../../platform/index.js';

/**
 * A UD endpoint with a ring of posted receive buffers, for small one-way messages (the election's
 * vote requests and replies). Each received buffer is reposted at once.
 */
export class Mailbox {
  readonly ud: UdEndpoint;
  private readonly recvCq: CompletionQueue;
  private readonly mem: Memory;
  private primed = false;

  constructor(
    p: Platform,
    name: string,
    port: number,
    private readonly slots = 32,
    private readonly slotBytes = 256,
  ) {
    this.mem = p.memory.dram(`${name}.rx`, slots * slotBytes);
    const sendCq = p.fabric.createCq({ capacity: 64, overrunIgnoring: true });
    this.recvCq = p.fabric.createCq({ capacity: slots + 8, overrunIgnoring: true });
    this.ud = p.fabric.createUd({ port, cq: sendCq, recvCq: this.recvCq, recvCapacity: slots });
  }

  *prime(): Task<void> {
    if (this.primed) return;
    this.primed = true;
    for (let i = 0; i < this.slots; i++) yield* this.ud.postRecv({ mem: this.mem, offset: i * this.slotBytes, length: this.slotBytes }, i);
  }

  *send(dst: UdAddress, bytes: Uint8Array): Task<void> {
    yield* this.ud.send(dst, bytes, { signaled: false });
  }

  /** The next message, or null after `timeoutNs`. */
  *receive(timeoutNs: number): Task<Uint8Array | null> {
    yield* this.prime();
    for (;;) {
      const c = yield* this.recvCq.next(timeoutNs);
      if (c === null) return null;
      if (c.status !== 'success') {
        if (c.status === 'local-length-error') yield* this.repost(c.wrId);
        continue;
      }
      const bytes = this.mem.peek(c.wrId * this.slotBytes, c.byteLen);
      yield* this.repost(c.wrId);
      return bytes;
    }
  }

  private *repost(i: number): Task<void> {
    yield* this.ud.postRecv({ mem: this.mem, offset: i * this.slotBytes, length: this.slotBytes }, i);
  }
}
