/**
 * Two OS processes: this test process and a kvlab node in a child process (native/bench/echo-child.ts).
 * WRITE and SEND/RECV across processes; the child is killed with SIGKILL (a crash) — the next work
 * request fails with retry-exceeded — and a new incarnation of the node (same data directory, new
 * address, next boot) is reached by a fresh connection.
 */
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { Completion, CompletionQueue, Connection, Platform, Task } from '../../src/platform/index.js';
import { NativeNode } from '../../native/adapter/index.js';
import { fromHex } from '../../native/adapter/wire.js';
import { nodeEntry, startUntil, stopChild } from '../../native/bench/util.js';
import { PROVIDER, cleanupDirs, describeNative, run, td, te, tempDir } from './helpers.js';

async function startEcho(dir: string): Promise<{ child: ChildProcess; name: Uint8Array }> {
  const e = nodeEntry('echo-child');
  const { child, match } = await startUntil(e.cmd, [...e.args, PROVIDER, dir], /READY ([0-9a-f]+)/);
  return { child, name: fromHex(match[1]!) };
}

function* next(cq: CompletionQueue): Task<Completion> {
  const c = yield* cq.next(20e9);
  if (c === null) throw new Error('no completion within 20 s');
  return c;
}

describeNative('a kvlab node in another process', () => {
  const children: ChildProcess[] = [];
  let node: NativeNode | null = null;

  afterAll(async () => {
    node?.shutdown();
    for (const c of children) await stopChild(c);
    cleanupDirs();
  });

  it('WRITE and SEND/RECV across processes; SIGKILL → retry-exceeded; the next incarnation is reachable', async () => {
    const dir = tempDir('proc');
    let peerName: Uint8Array;
    const first = await startEcho(join(dir, 'echo'));
    children.push(first.child);
    peerName = first.name;
    node = new NativeNode({ nodeId: 0, dataDir: join(dir, 'me'), provider: PROVIDER, quiet: true, peers: (n) => (n === 1 ? { name: peerName } : undefined) });
    const p: Platform = node.platform;
    const cq = p.fabric.createCq({ capacity: 64 });
    const recvCq = p.fabric.createCq({ capacity: 64 });
    const buf = p.memory.dram('buf', 4096);

    const exchange = (conn: Connection, text: string) =>
      run(p, function* (): Task<string> {
        const rkey = new DataView(conn.privateData.buffer, conn.privateData.byteOffset).getUint32(0, true);
        yield* conn.qp.write(te.encode(text), { rkey, offset: 0 }, { wrId: 1 });
        const w = yield* next(cq);
        if (w.status !== 'success') throw new Error(`write: ${w.status}`);
        yield* conn.qp.postRecv({ mem: buf, offset: 0, length: 4096 }, 2);
        yield* conn.qp.send(te.encode(text), { wrId: 3 });
        const s = yield* next(cq);
        if (s.status !== 'success') throw new Error(`send: ${s.status}`);
        const r = yield* next(recvCq);
        return td.decode(buf.peek(0, r.byteLen));
      });

    const conn = await run(p, () => p.fabric.connect(1, 'echo', { cq, recvCq }, 10e9));
    expect(conn).not.toBeNull();
    expect(await exchange(conn!, 'across processes')).toBe('across processes');

    first.child.kill('SIGKILL');
    await new Promise<void>((r) => first.child.once('exit', () => r()));
    const rkey = new DataView(conn!.privateData.buffer, conn!.privateData.byteOffset).getUint32(0, true);
    const failed = await run(p, function* (): Task<string[]> {
      yield* conn!.qp.write(te.encode('lost'), { rkey, offset: 0 }, { wrId: 4 });
      const a = (yield* next(cq)).status;
      // A fresh QP to the dead node, with an rkey it never had: still "the peer is gone".
      const c2 = yield* p.fabric.connect(1, 'echo', { cq }, 1e6);
      return [a, c2 === null ? 'no connection' : 'connected'];
    });
    expect(failed).toEqual(['retry-exceeded', 'no connection']);
    expect(conn!.qp.state).toBe('error');

    // The node comes back: same directory (next boot), new address.
    const second = await startEcho(join(dir, 'echo'));
    children.push(second.child);
    peerName = second.name;
    node.driver.forgetPeer(1);
    const again = await run(p, () => p.fabric.connect(1, 'echo', { cq, recvCq }, 10e9));
    expect(again).not.toBeNull();
    expect(await exchange(again!, 'second incarnation')).toBe('second incarnation');
  });
});
