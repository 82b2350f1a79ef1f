/**
 * The native cluster commands end to end: `kvlab cluster up` (three `serve` processes on
 * loopback), `status`, `load` (YCSB-A, history checked), `crashtest` (SIGKILL + restart of the
 * leader and a follower under load), `down`; and their bad-input paths (one line, exit 2).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import type { Io } from '../../cli/io.js';
import { cleanupDirs, describeNative, tempDir } from './helpers.js';

function capture(): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, isTty: false, stdout: (s) => void out.push(s), stderr: (s) => void err.push(s) };
}

async function kvlab(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = capture();
  const code = await main(args, io);
  return { code, out: io.out.join('\n'), err: io.err.join('\n') };
}

const base = 21000 + 100 * Math.floor(Math.random() * 80);

describeNative('kvlab serve / cluster / load / crashtest', () => {
  const dir = tempDir('cli');
  afterAll(async () => {
    await kvlab('cluster', 'down', '--dir', dir);
    cleanupDirs();
  });

  it('bad input: one line naming the problem, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['serve'], /--config: missing/],
      [['serve', '--config', join(dir, 'nope.json'), '--node', '0'], /nope\.json: cannot read \(ENOENT\)/],
      [['load', '--dir', join(dir, 'empty')], /holds no cluster/],
      [['load', '--config', join(dir, 'bad.json')], /bad\.json: servers\[1\]\.port: expected a port/],
      [['crashtest', '--workload', 'Z'], /--workload: expected A, B, C, D, E, F or mixed/],
      [['cluster', 'sideways'], /unknown subcommand/],
    ];
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ servers: [{ port: 1 }, { port: 'x' }] }));
    for (const [args, re] of cases) {
      const r = await kvlab(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.split('\n')).toHaveLength(1);
      expect(r.err).toMatch(re);
    }
  });

  it('a replica address already in use: one line, exit 2', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as AddressInfo).port;
    const f = join(dir, 'busy.json');
    writeFileSync(f, JSON.stringify({ servers: [{ port }], clients: [] }));
    try {
      const r = await kvlab('serve', '--config', f, '--node', '0');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(new RegExp(`busy\\.json: servers\\[0\\]: 127\\.0\\.0\\.1:${port} is in use`));
    } finally {
      srv.close();
    }
  });

  it('a missing addon is one line naming it, exit 2', () => {
    const require = createRequire(import.meta.url);
    const viteNode = join(dirname(require.resolve('vite-node/package.json')), 'vite-node.mjs');
    const script = join(dir, 'run-cli.ts');
    writeFileSync(script, `import { main } from ${JSON.stringify(join(__dirname, '..', '..', 'cli', 'main.ts'))};\nprocess.exitCode = await main(process.argv.slice(2));\n`);
    let code = 0;
    let err = '';
    try {
      execFileSync(process.execPath, [viteNode, script, '--', 'cluster', 'up', '--dir', join(dir, 'noaddon')], { env: { ...process.env, KVLAB_NATIVE_ADDON: join(dir, 'missing.node') }, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const x = e as { status: number; stderr: Buffer };
      code = x.status;
      err = x.stderr.toString();
    }
    expect(code).toBe(2);
    expect(err.trim().split('\n').filter((l) => l.startsWith('kvlab'))).toEqual([expect.stringMatching(/^kvlab: native addon: the native addon is not built \(looked for .*missing\.node\)/)]);
  }, 60_000);

  it('cluster up → status → load (YCSB-A, linearizable) → down', async () => {
    const up = await kvlab('cluster', 'up', '--dir', dir, '--base-port', String(base));
    expect(up.code, up.err).toBe(0);
    expect(up.out).toMatch(/leader/);
    const st = await kvlab('cluster', 'status', '--dir', dir, '--json');
    const replicas = (JSON.parse(st.out) as { replicas: { up: boolean; role: string }[] }).replicas;
    expect(replicas.map((r) => r.up)).toEqual([true, true, true]);
    expect(replicas.filter((r) => r.role === 'leader')).toHaveLength(1);
    const load = await kvlab('load', '--dir', dir, '--duration', '3', '--keys', '200', '--threads', '4', '--json');
    expect(load.code, load.out).toBe(0);
    const r = JSON.parse(load.out) as { result: string; run: { ok: number; throughputOpsPerSec: number; latencyUs: { p50: number; p99: number } }; check: { linearizable: boolean; lostWrites: number } };
    expect(r.result).toBe('ok');
    expect(r.check).toMatchObject({ linearizable: true, lostWrites: 0 });
    expect(r.run.ok).toBeGreaterThan(50);
    expect(r.run.latencyUs.p99).toBeGreaterThanOrEqual(r.run.latencyUs.p50);
    // A second run against the same cluster: fresh client ids (the servers deduplicate by them).
    const again = await kvlab('load', '--dir', dir, '--duration', '1', '--keys', '50', '--threads', '2', '--json');
    expect(again.code, again.out).toBe(0);
    const down = await kvlab('cluster', 'down', '--dir', dir);
    expect(down.out).toMatch(/stopped replicas 0, 1, 2/);
    const st2 = await kvlab('cluster', 'status', '--dir', dir, '--json');
    expect((JSON.parse(st2.out) as { replicas: { up: boolean }[] }).replicas.every((x) => !x.up)).toBe(true);
    // Nobody answers: one line, exit 3 (not a hang through the load phase).
    const none = await kvlab('load', '--dir', dir, '--duration', '1', '--wait', '1');
    expect(none.code).toBe(3);
    expect(none.err.split('\n').at(-1)).toMatch(/^kvlab load: no replica of .* answered within 1 s/);
  }, 120_000);

  it('crashtest: the leader and a follower SIGKILLed and restarted under load; history clean', async () => {
    const r = await kvlab('crashtest', '--cycles', '2', '--base-port', String(base + 10), '--interval-ms', '700', '--down-ms', '200', '--keys', '200', '--threads', '4', '--json');
    expect(r.code, r.out + r.err).toBe(0);
    const j = JSON.parse(r.out) as { result: string; completedCycles: number; cycles: { victimRole: string; bootAfter: number; bootBefore: number }[]; load: { check: { linearizable: boolean; durabilityChecked: boolean; lostWrites: number } } };
    expect(j.result).toBe('ok');
    expect(j.completedCycles).toBe(2);
    expect(j.cycles[0]!.victimRole).toBe('leader');
    for (const c of j.cycles) expect(c.bootAfter).toBe(c.bootBefore + 1);
    expect(j.load.check).toEqual({ linearizable: true, durabilityChecked: true, lostWrites: 0, checkSeconds: expect.any(Number) });
  }, 180_000);
});
