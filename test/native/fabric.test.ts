/**
 * The native fabric over a real libfabric provider on loopback (tcp;ofi_rxm unless
 * KVLAB_FI_PROVIDER says otherwise): RC WRITE / READ / CAS / SEND / RECV, multi-packet and plain
 * shared receive queues, remote-access errors, deregistration, UD, connection management, peer
 * failure, CQ overrun, and the RPC emulation of atomics.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Access, type Completion, type CompletionQueue, type MemoryKey, type Platform, type QueuePair, type Task } from '../../src/platform/index.js';
import type { LocalCluster } from '../../native/adapter/index.js';
import { PROVIDER, cleanupDirs, cluster, describeNative, hasProvider, panics, run, td, te } from './helpers.js';

function* drain(cq: CompletionQueue, n: number, timeoutNs = 5e9): Task<Completion[]> {
  const out: Completion[] = [];
  while (out.length < n) {
    const c = yield* cq.next(timeoutNs);
    if (c === null) break;
    out.push(c);
  }
  return out;
}

describeNative(`native fabric on ${PROVIDER}`, () => {
  let c: LocalCluster;
  let p0: Platform;
  let p1: Platform;
  let p2: Platform;
  let target: ReturnType<Platform['memory']['dram']>;
  let key: MemoryKey;
  let roKey: MemoryKey;
  let cq0: CompletionQueue;
  let qp: QueuePair;
  let passive: QueuePair;
  let passiveRecv: CompletionQueue;
  let passiveCq: CompletionQueue;

  beforeAll(async () => {
    c = cluster(3);
    [p0, p1, p2] = c.nodes.map((n) => n.platform) as [Platform, Platform, Platform];
    target = p1.memory.dram('target', 1 << 16);
    key = p1.fabric.registerMemory(target, Access.ALL);
    roKey = p1.fabric.registerMemory(p1.memory.dram('ro', 4096), Access.REMOTE_READ);
    passiveRecv = p1.fabric.createCq({ capacity: 256 });
    passiveCq = p1.fabric.createCq({ capacity: 256 });
    const l = p1.fabric.listen('rc', { cq: passiveCq, recvCq: passiveRecv, privateData: te.encode(`rkey=${key.rkey}`) });
    cq0 = p0.fabric.createCq({ capacity: 256 });
    const conn = await run(p0, () => p0.fabric.connect(1, 'rc', { cq: cq0 }));
    expect(conn).not.toBeNull();
    expect(td.decode(conn!.privateData)).toBe(`rkey=${key.rkey}`);
    qp = conn!.qp;
    const acc = await run(p1, () => l.accept(1e9));
    expect(acc).not.toBeNull();
    passive = acc!;
    expect(passive.remote).toBe(0);
  });

  afterAll(() => {
    c?.shutdown();
    cleanupDirs();
    expect(panics).toEqual([]);
  });

  it('reports the provider in use', () => {
    const info = c.nodes[0]!.info;
    if (PROVIDER === 'tcp') {
      expect(info.provider).toBe('tcp;ofi_rxm');
      // tcp: placement is confirmed by flush READs, not FI_DELIVERY_COMPLETE (docs/native.md).
      expect(info.deliveryComplete).toBe(process.env['KVLAB_FI_COMPLETION'] === 'delivery');
    }
    expect(info.address.length).toBeGreaterThan(0);
  });

  it('a WRITE completion means the bytes are at the target (as an RC ACK does)', async () => {
    const bad = await run(p0, function* () {
      let early = 0;
      for (let i = 0; i < 300; i++) {
        const v = new Uint8Array(64).fill(1 + (i % 250));
        yield* qp.write(v, { rkey: key.rkey, offset: 8192 }, { wrId: i });
        const c = yield* cq0.next(5e9);
        if (c?.status !== 'success') throw new Error(JSON.stringify(c));
        if (target.peek(8192, 64).some((b) => b !== 1 + (i % 250))) early++;
      }
      return early;
    });
    expect(bad).toBe(0);
  });

  it('WRITE lands in the peer memory, READ brings it back', async () => {
    const local = p0.memory.dram('rw', 4096);
    local.poke(0, te.encode('from a slice'));
    const cs = await run(p0, function* () {
      yield* qp.write(te.encode('inline bytes'), { rkey: key.rkey, offset: 100 }, { wrId: 1 });
      yield* qp.write({ mem: local, offset: 0, length: 12 }, { rkey: key.rkey, offset: 200 }, { wrId: 2 });
      yield* qp.read({ mem: local, offset: 1000, length: 12 }, { rkey: key.rkey, offset: 100 }, { wrId: 3 });
      return yield* drain(cq0, 3);
    });
    expect(cs.map((x) => [x.wrId, x.status, x.opcode, x.byteLen, x.qpId])).toEqual([
      [1, 'success', 'write', 12, qp.id],
      [2, 'success', 'write', 12, qp.id],
      [3, 'success', 'read', 12, qp.id],
    ]);
    expect(td.decode(target.peek(100, 12))).toBe('inline bytes');
    expect(td.decode(target.peek(200, 12))).toBe('from a slice');
    expect(td.decode(local.peek(1000, 12))).toBe('inline bytes');
  });

  it('a large WRITE (1 MiB, rendezvous path) arrives intact', async () => {
    const big = p1.memory.dram('big', 1 << 20);
    const bigKey = p1.fabric.registerMemory(big, Access.REMOTE_WRITE | Access.REMOTE_READ);
    const src = p0.memory.dram('bigsrc', 1 << 20);
    const bytes = new Uint8Array(1 << 20);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7 + 3) & 0xff;
    src.poke(0, bytes);
    const cs = await run(p0, function* () {
      yield* qp.write({ mem: src, offset: 0, length: 1 << 20 }, { rkey: bigKey.rkey, offset: 0 }, { wrId: 9 });
      return yield* drain(cq0, 1);
    });
    expect(cs[0]!.status).toBe('success');
    expect(Buffer.compare(Buffer.from(big.peek(0, 1 << 20)), Buffer.from(bytes))).toBe(0);
  });

  it('CAS swaps only on a match and returns the old value (in the completion and in dst)', async () => {
    target.poke64(512, 5);
    const local = p0.memory.dram('cas', 64);
    const cs = await run(p0, function* () {
      yield* qp.cas({ rkey: key.rkey, offset: 512 }, 5, 9, { wrId: 1 }, { mem: local, offset: 8, length: 8 });
      yield* qp.cas({ rkey: key.rkey, offset: 512 }, 5, 11, { wrId: 2 }, { mem: local, offset: 16, length: 8 });
      return yield* drain(cq0, 2);
    });
    expect(cs.map((x) => [x.wrId, x.status, x.opcode, x.value])).toEqual([
      [1, 'success', 'cas', 5],
      [2, 'success', 'cas', 9],
    ]);
    expect(target.peek64(512)).toBe(9);
    expect(local.peek64(8)).toBe(5);
    expect(local.peek64(16)).toBe(9);
  });

  it('SEND consumes the peer QP receive buffers in posting order, both directions', async () => {
    const rbuf = p1.memory.dram('rbuf', 4096);
    await run(p1, function* () {
      for (let i = 0; i < 4; i++) yield* passive.postRecv({ mem: rbuf, offset: i * 1024, length: 1024 }, 100 + i);
    });
    const sent = await run(p0, function* () {
      for (const m of ['alpha', 'beta', 'gamma']) yield* qp.send(te.encode(m), { wrId: 7 });
      return yield* drain(cq0, 3);
    });
    expect(sent.map((x) => [x.status, x.opcode, x.byteLen])).toEqual([
      ['success', 'send', 5],
      ['success', 'send', 4],
      ['success', 'send', 5],
    ]);
    const got = await run(p1, () => drain(passiveRecv, 3));
    expect(got.map((x) => [x.wrId, x.status, x.opcode, x.byteLen, x.srcNode, x.qpId])).toEqual([
      [100, 'success', 'recv', 5, 0, passive.id],
      [101, 'success', 'recv', 4, 0, passive.id],
      [102, 'success', 'recv', 5, 0, passive.id],
    ]);
    expect(td.decode(rbuf.peek(0, 5)) + td.decode(rbuf.peek(1024, 4)) + td.decode(rbuf.peek(2048, 5))).toBe('alphabetagamma');
    // And back: the passive side sends to the connector's own receive queue.
    const abuf = p0.memory.dram('abuf', 1024);
    await run(p0, () => qp.postRecv({ mem: abuf, offset: 0, length: 1024 }, 55));
    const back = await run(p1, function* () {
      yield* passive.send(te.encode('reply'), { wrId: 8 });
      return yield* drain(passiveCq, 1);
    });
    expect(back.map((x) => [x.wrId, x.status, x.opcode, x.qpId])).toEqual([[8, 'success', 'send', passive.id]]);
    const r = await run(p0, () => drain(cq0, 1));
    expect(r.map((x) => [x.wrId, x.opcode, x.byteLen, x.srcNode])).toEqual([[55, 'recv', 5, 1]]);
    expect(td.decode(abuf.peek(0, 5))).toBe('reply');
  });

  it('a multi-packet SRQ lands messages back to back at stride offsets and retires full buffers', async () => {
    const rcq = p1.fabric.createCq({ capacity: 256 });
    const srq = p1.fabric.createSrq({ capacity: 4, cq: rcq, multiPacket: { strideBytes: 64 } });
    expect(srq.multiPacket).toBe(true);
    const buf = p1.memory.dram('mp', 4 * 2048);
    await run(p1, function* () {
      for (let i = 0; i < 4; i++) yield* srq.postRecv({ mem: buf, offset: i * 2048, length: 2048 }, i);
    });
    expect(srq.postedCount).toBe(4);
    p1.fabric.listen('mp', { cq: p1.fabric.createCq({ capacity: 64, overrunIgnoring: true }), srq });
    const scq = p0.fabric.createCq({ capacity: 64 });
    const sizes = [10, 64, 100, 8, 300, 1, 1000, 40];
    await run(p0, function* () {
      const conn = yield* p0.fabric.connect(1, 'mp', { cq: scq });
      if (conn === null) throw new Error('connect failed');
      for (let i = 0; i < sizes.length; i++) yield* conn.qp.send(new Uint8Array(sizes[i]!).fill(65 + i), { wrId: i });
      const cs = yield* drain(scq, sizes.length);
      if (cs.some((x) => x.status !== 'success')) throw new Error(JSON.stringify(cs));
    });
    const got = await run(p1, function* () {
      const out: Completion[] = [];
      while (out.filter((x) => x.byteLen > 0).length < sizes.length) {
        const x = yield* rcq.next(5e9);
        if (x === null) break;
        out.push(x);
      }
      return out;
    });
    const msgs = got.filter((x) => x.byteLen > 0);
    expect(msgs.map((x) => x.byteLen)).toEqual(sizes);
    // Placement: stride-aligned, consecutive within a buffer, buffers used in posting order.
    // A buffer is retired once less than the largest accepted message (1024 B by default) is left.
    let expectBuf = 0;
    let expectOff = 0;
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i]!;
      if (m.wrId !== expectBuf) {
        expect(m.wrId).toBe(expectBuf + 1);
        expect(2048 - expectOff).toBeLessThan(1024);
        expectBuf = m.wrId;
        expectOff = 0;
      }
      expect(m.bufOffset).toBe(expectOff);
      expect(m.srcNode).toBe(0);
      const bytes = buf.peek(m.wrId * 2048 + m.bufOffset!, m.byteLen);
      expect(bytes.every((b) => b === 65 + i)).toBe(true);
      expectOff += Math.ceil(m.byteLen / 64) * 64;
    }
    expect(msgs.map((m) => [m.wrId, m.bufOffset])).toEqual([
      [0, 0],
      [0, 64],
      [0, 128],
      [0, 256],
      [0, 320],
      [0, 640],
      [0, 704],
      [1, 0],
    ]);
    expect(got.some((x) => x.bufferDone === true)).toBe(true);
    expect(srq.postedCount).toBeLessThan(4);
  });

  it('a plain SRQ is shared by QPs from two nodes, and names each receiving QP', async () => {
    const rcq = p1.fabric.createCq({ capacity: 64 });
    const srq = p1.fabric.createSrq({ capacity: 8, cq: rcq });
    const buf = p1.memory.dram('plain', 8 * 256);
    await run(p1, function* () {
      for (let i = 0; i < 8; i++) yield* srq.postRecv({ mem: buf, offset: i * 256, length: 256 }, i);
    });
    const l = p1.fabric.listen('plain', { cq: p1.fabric.createCq({ capacity: 64, overrunIgnoring: true }), srq });
    for (const p of [p0, p2]) {
      await run(p, function* () {
        const cq = p.fabric.createCq({ capacity: 8 });
        const conn = yield* p.fabric.connect(1, 'plain', { cq });
        if (conn === null) throw new Error('connect failed');
        yield* conn.qp.send(te.encode(`hi from ${p.rt.nodeId}`));
        yield* drain(cq, 1);
      });
    }
    const accepted = await run(p1, function* () {
      return [yield* l.accept(1e9), yield* l.accept(1e9)];
    });
    const got = await run(p1, () => drain(rcq, 2));
    expect(got.map((x) => [x.wrId, x.srcNode, x.byteLen])).toEqual([
      [0, 0, 9],
      [1, 2, 9],
    ]);
    expect(got.map((x) => x.qpId)).toEqual(accepted.map((q) => q!.id));
    expect(td.decode(buf.peek(256, 9))).toBe('hi from 2');
  });

  it('a WRITE followed by a SEND is seen in that order by the receiver', async () => {
    const rcq = p1.fabric.createCq({ capacity: 256 });
    const srq = p1.fabric.createSrq({ capacity: 8, cq: rcq, multiPacket: { strideBytes: 64 } });
    const buf = p1.memory.dram('order', 8 * 4096);
    const data = p1.memory.dram('order-data', 4096);
    const dkey = p1.fabric.registerMemory(data, Access.REMOTE_WRITE);
    await run(p1, function* () {
      for (let i = 0; i < 8; i++) yield* srq.postRecv({ mem: buf, offset: i * 4096, length: 4096 }, i);
    });
    p1.fabric.listen('order', { cq: p1.fabric.createCq({ capacity: 64, overrunIgnoring: true }), srq });
    const rounds = 40;
    const seen: number[] = [];
    const receiver = run(p1, function* () {
      let n = 0;
      while (n < rounds) {
        const x = yield* rcq.next(5e9);
        if (x === null) break;
        if (x.bufferDone === true) yield* srq.postRecv({ mem: buf, offset: x.wrId * 4096, length: 4096 }, x.wrId);
        if (x.byteLen === 0) continue;
        const round = new DataView(buf.peek(x.wrId * 4096 + x.bufOffset!, 8).buffer).getUint32(0, true);
        seen.push(data.peek64(round * 8) === round + 1 ? 1 : 0);
        n++;
      }
    });
    await run(p0, function* () {
      const cq = p0.fabric.createCq({ capacity: 256, overrunIgnoring: true });
      const conn = yield* p0.fabric.connect(1, 'order', { cq });
      if (conn === null) throw new Error('connect failed');
      const w = new Uint8Array(8);
      const dv = new DataView(w.buffer);
      for (let r = 0; r < rounds; r++) {
        dv.setUint32(0, r + 1, true);
        yield* conn.qp.write(w.slice(), { rkey: dkey.rkey, offset: r * 8 }, { signaled: false });
        dv.setUint32(0, r, true);
        yield* conn.qp.send(w.slice(), { signaled: false });
      }
    });
    await receiver;
    expect(seen.length).toBe(rounds);
    expect(seen.every((x) => x === 1)).toBe(true);
  });

  it('unsignaled work requests complete silently; completions come in posting order', async () => {
    const cs = await run(p0, function* () {
      for (let i = 0; i < 20; i++) {
        if (i % 3 === 0) yield* qp.read({ mem: p0.memory.dram(`r${i}`, 8), offset: 0, length: 8 }, { rkey: key.rkey, offset: 8 * i }, { wrId: i });
        else yield* qp.write(new Uint8Array(8).fill(i), { rkey: key.rkey, offset: 4096 + 8 * i }, { wrId: i, signaled: i % 2 === 0 });
      }
      return yield* drain(cq0, 20 - 7, 2e9);
    });
    const expected = [...Array(20).keys()].filter((i) => i % 3 === 0 || i % 2 === 0);
    expect(cs.map((x) => x.wrId)).toEqual(expected);
    expect(cs.every((x) => x.status === 'success')).toBe(true);
  });

  it('a bad rkey, a missing right or an out-of-bounds access is remote-access-error and moves only that QP to error', async () => {
    for (const [name, remote, op] of [
      ['bad rkey', { rkey: 0xdead, offset: 0 }, 'write'],
      ['no write right', { rkey: roKey.rkey, offset: 0 }, 'write'],
      ['out of bounds', { rkey: key.rkey, offset: (1 << 16) - 4 }, 'write'],
      ['unaligned cas', { rkey: key.rkey, offset: 4 }, 'cas'],
    ] as const) {
      const cq = p0.fabric.createCq({ capacity: 8 });
      const conn = await run(p0, () => p0.fabric.connect(1, 'rc', { cq }));
      const q = conn!.qp;
      const cs = await run(p0, function* () {
        if (op === 'write') yield* q.write(new Uint8Array(8), remote, { wrId: 1 });
        else yield* q.cas(remote, 0, 1, { wrId: 1 });
        yield* q.write(new Uint8Array(8), { rkey: key.rkey, offset: 0 }, { wrId: 2 });
        return yield* drain(cq, 2);
      });
      expect([name, cs.map((x) => [x.wrId, x.status])]).toEqual([
        name,
        [
          [1, 'remote-access-error'],
          [2, 'flushed'],
        ],
      ]);
      expect(q.state).toBe('error');
    }
    // The shared QP is unaffected.
    const ok = await run(p0, function* () {
      yield* qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 0 }, { wrId: 3 });
      return yield* drain(cq0, 1);
    });
    expect(ok[0]!.status).toBe('success');
    expect(qp.state).toBe('ready');
  });

  it('deregisterMemory revokes remote access', async () => {
    const m = p1.memory.dram('revoke', 4096);
    const k = p1.fabric.registerMemory(m, Access.ALL);
    const cq = p0.fabric.createCq({ capacity: 8 });
    const conn = await run(p0, () => p0.fabric.connect(1, 'rc', { cq }));
    const q = conn!.qp;
    const first = await run(p0, function* () {
      yield* q.write(te.encode('before'), { rkey: k.rkey, offset: 0 }, { wrId: 1 });
      return yield* drain(cq, 1);
    });
    expect(first[0]!.status).toBe('success');
    p1.fabric.deregisterMemory(k);
    await new Promise((r) => setTimeout(r, 50));
    const after = await run(p0, function* () {
      yield* q.write(te.encode('after!'), { rkey: k.rkey, offset: 0 }, { wrId: 2 });
      return yield* drain(cq, 1);
    });
    expect(after[0]!.status).toBe('remote-access-error');
    expect(td.decode(m.peek(0, 6))).toBe('before');
  });

  it('connect fails (null) without a listener, and to a node that is down', async () => {
    const cq = p0.fabric.createCq({ capacity: 8 });
    expect(await run(p0, () => p0.fabric.connect(2, 'nobody-listens', { cq }))).toBeNull();
    const d = cluster(2);
    const [a] = d.nodes;
    d.nodes[1]!.shutdown();
    const t0 = Date.now();
    expect(await run(a!.platform, () => a!.platform.fabric.connect(1, 'x', { cq: a!.platform.fabric.createCq({ capacity: 1 }) }, 1e6))).toBeNull();
    expect(Date.now() - t0).toBeLessThan(3000);
    d.shutdown();
  });

  it('UD: datagrams carry their source address; a reply reaches it', async () => {
    const srecv = p2.fabric.createCq({ capacity: 16 });
    const server = p2.fabric.createUd({ port: 100, cq: p2.fabric.createCq({ capacity: 16, overrunIgnoring: true }), recvCq: srecv });
    const sbuf = p2.memory.dram('udsrv', 4 * 4096);
    await run(p2, function* () {
      for (let i = 0; i < 4; i++) yield* server.postRecv({ mem: sbuf, offset: i * 4096, length: 4096 }, i);
    });
    const ccq = p0.fabric.createCq({ capacity: 16 });
    const crecv = p0.fabric.createCq({ capacity: 16 });
    const client = p0.fabric.createUd({ cq: ccq, recvCq: crecv });
    const cbuf = p0.memory.dram('udcli', 4096);
    await run(p0, () => client.postRecv({ mem: cbuf, offset: 0, length: 4096 }, 9));
    await run(p0, function* () {
      yield* client.send({ node: 2, port: 100 }, te.encode('ping'), { wrId: 1 });
      const sc = yield* ccq.next(5e9);
      if (sc?.status !== 'success' || sc.opcode !== 'ud-send') throw new Error(JSON.stringify(sc));
    });
    const req = await run(p2, function* () {
      const r = yield* srecv.next(5e9);
      if (r === null) throw new Error('no datagram');
      yield* server.send(r.udSrc!, te.encode('pong'));
      return r;
    });
    expect([req.opcode, req.byteLen, req.srcNode, req.udSrc]).toEqual(['ud-recv', 4, 0, client.address]);
    expect(td.decode(sbuf.peek(req.wrId * 4096, 4))).toBe('ping');
    const rep = await run(p0, () => crecv.next(5e9));
    expect([rep?.opcode, rep?.wrId, rep?.udSrc]).toEqual(['ud-recv', 9, { node: 2, port: 100 }]);
    expect(td.decode(cbuf.peek(0, 4))).toBe('pong');
    // Too long for the MTU: local-length-error.
    const tooLong = await run(p0, function* () {
      yield* client.send({ node: 2, port: 100 }, new Uint8Array(client.mtuBytes + 1), { wrId: 2 });
      return yield* ccq.next(1e9);
    });
    expect(tooLong?.status).toBe('local-length-error');
  });

  it('a peer that shuts down fails later work requests with retry-exceeded', async () => {
    const d = cluster(2);
    const [a, b] = d.nodes as [typeof d.nodes[0] & object, typeof d.nodes[0] & object];
    const pb = b.platform;
    const m = pb.memory.dram('m', 4096);
    const k = pb.fabric.registerMemory(m, Access.ALL);
    pb.fabric.listen('s', { cq: pb.fabric.createCq({ capacity: 8, overrunIgnoring: true }) });
    const pa = a.platform;
    const cq = pa.fabric.createCq({ capacity: 8 });
    const conn = await run(pa, () => pa.fabric.connect(1, 's', { cq }));
    const ok = await run(pa, function* () {
      yield* conn!.qp.write(new Uint8Array(8), { rkey: k.rkey, offset: 0 }, { wrId: 1 });
      return yield* drain(cq, 1);
    });
    expect(ok[0]!.status).toBe('success');
    b.shutdown();
    const cs = await run(pa, function* () {
      yield* conn!.qp.write(new Uint8Array(8), { rkey: k.rkey, offset: 0 }, { wrId: 2 });
      yield* conn!.qp.write(new Uint8Array(8), { rkey: k.rkey, offset: 8 }, { wrId: 3 });
      return yield* drain(cq, 2, 10e9);
    });
    expect(cs.map((x) => [x.wrId, x.status])).toEqual([
      [2, 'retry-exceeded'],
      [3, 'flushed'],
    ]);
    expect(conn!.qp.state).toBe('error');
    d.shutdown();
  });

  it('an ordinary CQ that overflows moves its QPs to error; an overrun-ignoring CQ overwrites', async () => {
    const small = p0.fabric.createCq({ capacity: 2 });
    const ring = p0.fabric.createCq({ capacity: 2, overrunIgnoring: true });
    const c1 = await run(p0, () => p0.fabric.connect(1, 'rc', { cq: small }));
    const c2 = await run(p0, () => p0.fabric.connect(1, 'rc', { cq: ring }));
    await run(p0, function* () {
      for (let i = 0; i < 4; i++) yield* c1!.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 0 }, { wrId: i });
      for (let i = 0; i < 4; i++) yield* c2!.qp.write(new Uint8Array(8), { rkey: key.rkey, offset: 0 }, { wrId: i });
      yield* p0.rt.sleep(50e6);
    });
    expect(c1!.qp.state).toBe('error');
    expect(ring.overwritten).toBe(2);
    expect(c2!.qp.state).toBe('ready');
    const left = await run(p0, () => ring.poll());
    expect(left.map((x) => x.wrId)).toEqual([2, 3]);
  });

  it('close() on one side makes the other side fail its next work request', async () => {
    const cq = p0.fabric.createCq({ capacity: 8 });
    const l = p1.fabric.listen('closing', { cq: p1.fabric.createCq({ capacity: 8 }) });
    const conn = await run(p0, () => p0.fabric.connect(1, 'closing', { cq }));
    const other = await run(p1, () => l.accept(1e9));
    const pcq = (other as unknown as { cq: CompletionQueue }).cq;
    conn!.qp.close();
    expect(conn!.qp.state).toBe('error');
    await new Promise((r) => setTimeout(r, 50));
    const cs = await run(p1, function* () {
      yield* other!.write(new Uint8Array(8), { rkey: 1, offset: 0 }, { wrId: 4 });
      return yield* drain(pcq, 1);
    });
    expect(cs[0]!.status).toBe('retry-exceeded');
  });
});

describeNative(`emulated atomics (RPC) on ${PROVIDER}`, () => {
  let c: LocalCluster;
  afterAll(() => {
    c?.shutdown();
    cleanupDirs();
  });

  it('CAS through the RPC emulation: swaps, fails, and refuses a missing right', async () => {
    c = cluster(2, { atomics: 'rpc' });
    const [p0, p1] = c.nodes.map((n) => n.platform) as [Platform, Platform];
    expect(c.nodes[0]!.info.atomics).toBe('rpc');
    const m = p1.memory.dram('w', 4096);
    const k = p1.fabric.registerMemory(m, Access.ALL);
    const noAtomic = p1.fabric.registerMemory(p1.memory.dram('na', 64), Access.REMOTE_READ | Access.REMOTE_WRITE);
    void noAtomic;
    p1.fabric.listen('s', { cq: p1.fabric.createCq({ capacity: 8, overrunIgnoring: true }) });
    m.poke64(64, 41);
    const cq = p0.fabric.createCq({ capacity: 16 });
    const cs = await run(p0, function* () {
      const conn = yield* p0.fabric.connect(1, 's', { cq });
      if (conn === null) throw new Error('connect');
      for (let i = 0; i < 10; i++) yield* conn.qp.cas({ rkey: k.rkey, offset: 64 }, 41 + i, 42 + i, { wrId: i });
      yield* conn.qp.cas({ rkey: k.rkey, offset: 64 }, 0, 1, { wrId: 10 });
      yield* conn.qp.write(te.encode('after'), { rkey: k.rkey, offset: 128 }, { wrId: 11 });
      return yield* drain(cq, 12);
    });
    expect(cs.map((x) => x.value)).toEqual([41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, undefined]);
    expect(m.peek64(64)).toBe(51);
    expect(td.decode(m.peek(128, 5))).toBe('after');
    expect(c.nodes[1]!.driver.nic.stats().rpcServed).toBe(11);
  });
});

describeNative('the sockets provider', () => {
  it.skipIf(!hasProvider('sockets') || PROVIDER === 'sockets')('WRITE, CAS and SEND work on sockets too', async () => {
    const c = cluster(2, { provider: 'sockets' });
    try {
      const [p0, p1] = c.nodes.map((n) => n.platform) as [Platform, Platform];
      expect(c.nodes[0]!.info.provider).toBe('sockets');
      const m = p1.memory.dram('w', 4096);
      const k = p1.fabric.registerMemory(m, Access.ALL);
      const rcq = p1.fabric.createCq({ capacity: 8 });
      const l = p1.fabric.listen('s', { cq: p1.fabric.createCq({ capacity: 8 }), recvCq: rcq });
      const cq = p0.fabric.createCq({ capacity: 16 });
      const conn = await run(p0, () => p0.fabric.connect(1, 's', { cq }));
      const passive = await run(p1, () => l.accept(1e9));
      await run(p1, () => passive!.postRecv({ mem: m, offset: 2048, length: 64 }, 1));
      const cs = await run(p0, function* () {
        yield* conn!.qp.write(te.encode('sock'), { rkey: k.rkey, offset: 0 }, { wrId: 1 });
        yield* conn!.qp.cas({ rkey: k.rkey, offset: 8 }, 0, 77, { wrId: 2 });
        yield* conn!.qp.send(te.encode('msg'), { wrId: 3 });
        return yield* drain(cq, 3);
      });
      expect(cs.map((x) => x.status)).toEqual(['success', 'success', 'success']);
      expect(td.decode(m.peek(0, 4))).toBe('sock');
      expect(m.peek64(8)).toBe(77);
      const r = await run(p1, () => drain(rcq, 1));
      expect(td.decode(m.peek(2048, r[0]!.byteLen))).toBe('msg');
    } finally {
      c.shutdown();
    }
  });
});
