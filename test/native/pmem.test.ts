/**
 * PM regions on libpmem: pmem_map_file on a file in the node's directory, exposed as an external
 * ArrayBuffer; persist with pmem_persist / pmem_msync; contents survive unmapping and a restart
 * of the node (a new boot on the same directory), including bytes a peer's NIC wrote.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { Access, type Task } from '../../src/platform/index.js';
import { NativeMemory, NativeMemoryProvider, regionFileName } from '../../native/adapter/index.js';
import { addon, cleanupDirs, cluster, describeNative, run, td, te, tempDir } from './helpers.js';

describeNative('native PM (libpmem)', () => {
  afterAll(() => cleanupDirs());

  it('maps a file, persists, and finds the bytes again after unmapping and reopening', () => {
    const dir = tempDir('pm');
    const a = new NativeMemoryProvider(addon!, dir);
    const m = a.pm('log/0', 1 << 20) as NativeMemory;
    expect(m.kind).toBe('pm');
    expect(m.sizeBytes).toBe(1 << 20);
    expect(a.pm('log/0', 1 << 20)).toBe(m);
    expect(() => a.pm('log/0', 4096)).toThrow(/reopened with size 4096/);
    expect(m.peek64(0)).toBe(0);
    m.poke(4096, te.encode('durable record'));
    m.poke64(0, 123456789);
    m.persistNow(0, 8);
    m.persistNow(4096, 14);
    const file = join(dir, regionFileName('log/0'));
    expect(existsSync(file)).toBe(true);
    expect(statSync(file).size).toBe(1 << 20);
    a.close();
    expect(() => m.peek(0, 8)).toThrow(/closed/);
    const b = new NativeMemoryProvider(addon!, dir);
    const again = b.pm('log/0', 1 << 20);
    expect(again.peek64(0)).toBe(123456789);
    expect(td.decode(again.peek(4096, 14))).toBe('durable record');
    expect(() => b.pm('other', 0)).toThrow(/bad size/);
    b.close();
    const c = new NativeMemoryProvider(addon!, dir);
    expect(() => c.pm('log/0', 8192)).toThrow(/reopened with size 8192, file has 1048576/);
    c.close();
  });

  it('reports whether the mapping is real PM (pmem_is_pmem) and persists in every mode', () => {
    const dir = tempDir('pmmode');
    for (const mode of ['auto', 'flush', 'msync'] as const) {
      const p = new NativeMemoryProvider(addon!, join(dir, mode), mode);
      expect(typeof p.isRealPm).toBe('boolean');
      const m = p.pm('r', 4096) as NativeMemory;
      expect(m.isRealPm).toBe(p.isRealPm);
      m.poke(100, te.encode(mode));
      m.persistNow(100, mode.length);
      p.close();
      const q = new NativeMemoryProvider(addon!, join(dir, mode), mode);
      expect(td.decode(q.pm('r', 4096).peek(100, mode.length))).toBe(mode);
      q.close();
    }
  });

  it('DRAM regions are zeroed ArrayBuffers; persist on DRAM is a no-op scheduling point', async () => {
    const c = cluster(1);
    const p = c.nodes[0]!.platform;
    const m = p.memory.dram('d', 4096);
    expect(m.kind).toBe('dram');
    expect(m.peek(0, 4096).every((b) => b === 0)).toBe(true);
    await run(p, function* (): Task<void> {
      yield* m.write(0, te.encode('x'));
      yield* m.persist(0, 1);
    });
    c.shutdown();
  });

  it('a restarted node reopens its PM with what it persisted and what a peer WROTE into it', async () => {
    const c = cluster(2);
    const p1 = c.nodes[1]!.platform;
    const log = p1.memory.pm('log', 1 << 16);
    const key = p1.fabric.registerMemory(log, Access.ALL);
    p1.fabric.listen('pm', { cq: p1.fabric.createCq({ capacity: 8, overrunIgnoring: true }) });
    await run(p1, function* (): Task<void> {
      yield* log.write(0, te.encode('local record'));
      yield* log.persist(0, 12);
    });
    const p0 = c.nodes[0]!.platform;
    await run(p0, function* (): Task<void> {
      const cq = p0.fabric.createCq({ capacity: 4 });
      const conn = yield* p0.fabric.connect(1, 'pm', { cq });
      if (conn === null) throw new Error('connect failed');
      yield* conn.qp.write(te.encode('remote record'), { rkey: key.rkey, offset: 1024 }, { wrId: 1 });
      const w = yield* cq.next(5e9);
      if (w?.status !== 'success') throw new Error(JSON.stringify(w));
    });
    // The target persists what the NIC placed (as a protocol would after the WRITE's notice).
    await run(p1, () => log.persist(1024, 13));
    const n1 = c.restart(1);
    expect(n1.bootCount).toBe(1);
    const reopened = n1.platform.memory.pm('log', 1 << 16);
    expect(td.decode(reopened.peek(0, 12))).toBe('local record');
    expect(td.decode(reopened.peek(1024, 13))).toBe('remote record');
    c.shutdown();
  });
});
