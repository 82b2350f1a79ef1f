/**
 * The native benchmarks run end to end with tiny iteration counts: fi_pingpong as two processes,
 * the adapter against an echo process (two kvlab nodes in two processes), the C baselines built
 * at bench time. Figures are not checked here (the machine may be busy); shapes and sanity are.
 */
import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { benchNativeMessage, benchNativePmem, benchNativeRma } from '../../native/bench/index.js';
import { describeNative } from './helpers.js';

function has(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const hasPingpong = has('fi_pingpong', ['-h']) || has('sh', ['-c', 'command -v fi_pingpong']);
const hasCc = has('sh', ['-c', `command -v ${process.env['CC'] ?? 'cc'}`]);

describeNative('native benchmarks (smoke)', () => {
  it.skipIf(!hasPingpong)('native-message: fi_pingpong and the adapter against an echo process', async () => {
    const r = await benchNativeMessage({ sizes: [64], iterations: 300, runs: 1, modes: ['process'], spinNs: 1_000_000 });
    expect(r.bench).toBe('native-message');
    expect(r.sizes[0]!.fiPingpongUsecPerXfer).toBeGreaterThan(0);
    expect(r.sizes[0]!.addon[0]!.usecPerXfer).toBeGreaterThan(0);
    expect(r.ratio).toBeGreaterThan(0);
    expect(r.commands[0]).toMatch(/^fi_pingpong -p \S+ -e rdm/);
  });

  it.skipIf(!hasCc)('native-rma: the adapter and the C loop, each against a target process', async () => {
    const r = await benchNativeRma({ sizes: [64], iterations: 300, runs: 1, spinNs: 1_000_000 });
    expect(r.sizes[0]!.addonUsecPerWrite).toBeGreaterThan(0);
    expect(r.notes).toEqual([]);
    expect(r.sizes[0]!.cUsecPerWrite).toBeGreaterThan(0);
  });

  it.skipIf(!hasCc)('native-pmem: the persist path and the C pmem_memcpy_persist loop on the same file', async () => {
    const r = await benchNativePmem({ sizes: [64, 4096], iterations: 2000, runs: 1, msync: false });
    expect(r.rows.map((x) => [x.size, x.mode])).toEqual([
      [64, 'flush'],
      [4096, 'flush'],
    ]);
    for (const x of r.rows) {
      expect(x.cNsPerOp).toBeGreaterThan(0);
      expect(x.addonNsPerOp).toBeGreaterThan(0);
      expect(x.coroutineNsPerOp).toBeGreaterThan(0);
    }
  });
});
