/**
 * Crash testing a native cluster (`kvlab crashtest`): a fresh local cluster (one process per
 * replica, ports from `basePort`), a load generator in this process, and a fault loop that
 * SIGKILLs a replica — the leader on odd cycles, a follower on even ones (and, optionally, every
 * k-th cycle all of them: a whole-cluster crash) — restarts it from its
 * data directory (next boot: PM files as the kill left them), and waits until the cluster serves
 * again before the next cycle. At the end the workload stops, every written key is read back, and
 * the whole history is checked: linearizable, and no acknowledged write lost.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkloadConfig } from '../../src/workload/config.js';
import type { PersistMode } from '../adapter/memory.js';
import { localClusterFile, readClusterConfig, writeClusterFile } from './config.js';
import { type LoadResult, runLoad } from './load.js';
import { InputError } from '../../src/kv/input-error.js';
import { currentLeader, portFree, readStatus, replicaPid, replicaUp, sleepMs, startReplica, stopReplica, waitFor } from './procs.js';

export interface CrashtestOptions {
  cycles: number;
  workload: WorkloadConfig;
  threads: number;
  basePort: number;
  /** Load between a recovery and the next kill (ms). */
  intervalMs: number;
  /** How long a killed replica stays down (ms). */
  downMs: number;
  /** Every this many cycles, SIGKILL all replicas at once (a whole-cluster crash: state must come back from the PM files). 0 = never. */
  wholeClusterEvery?: number;
  /** Keep the cluster directory (default: removed when the run is clean). */
  dir?: string;
  keep?: boolean;
  protocolOptions?: Record<string, unknown>;
  persist?: PersistMode;
  log?: (line: string) => void;
}

export interface CrashCycle {
  cycle: number;
  /** The replica killed (-1: all of them). */
  victim: number;
  victimRole: string;
  bootBefore: number | null;
  bootAfter: number | null;
  killedAtS: number;
  leaderAfter: number;
  /** From the restart until the cluster acknowledged operations again and the replica was up. */
  recoveredAfterS: number;
  ok: boolean;
}

export interface CrashtestResult {
  cycles: CrashCycle[];
  completedCycles: number;
  load: LoadResult;
  dir: string;
  result: 'ok' | 'violation';
  problems: string[];
}

export async function runCrashtest(o: CrashtestOptions): Promise<CrashtestResult> {
  const log = o.log ?? (() => undefined);
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'kvlab-crashtest-'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'cluster.json');
  writeClusterFile(file, localClusterFile({ servers: 3, clients: 1, basePort: o.basePort, options: o.protocolOptions ?? {}, persist: o.persist ?? 'auto' }));
  const cfg = readClusterConfig(file);
  for (const a of [...cfg.servers, ...cfg.clients]) {
    if (!(await portFree(a.host, a.port))) {
      if (o.dir === undefined) rmSync(dir, { recursive: true, force: true });
      throw new InputError('argv', '--base-port', `${a.host}:${a.port} is in use (another cluster or crashtest there?); pick another --base-port`);
    }
  }
  const problems: string[] = [];
  const cycles: CrashCycle[] = [];
  let clean = false;
  for (let i = 0; i < 3; i++) startReplica(cfg, dir, i, { detached: false });
  try {
    if (!(await waitFor(() => [0, 1, 2].every((i) => replicaUp(cfg, dir, i)) && currentLeader(cfg, dir) >= 0, 30_000))) {
      throw new Error(`the cluster did not come up with a leader within 30 s (logs in ${join(dir, 'logs')})`);
    }
    log(`cluster up in ${dir} (ports ${o.basePort}..${o.basePort + 2}); leader node ${currentLeader(cfg, dir)}`);
    const counters = { ok: 0, fail: 0, info: 0 };
    let stop = false;
    let runStarted = false;
    let aborted = false;
    let t0 = 0;
    const faults = (async () => {
      await waitFor(() => runStarted || aborted, 600_000);
      if (aborted) return;
      t0 = Date.now();
      let followerKills = 0;
      for (let c = 1; c <= o.cycles && problems.length === 0 && !aborted; c++) {
        await sleepMs(o.intervalMs);
        const leader = currentLeader(cfg, dir);
        const whole = (o.wholeClusterEvery ?? 0) > 0 && c % o.wholeClusterEvery! === 0;
        let victims: number[];
        if (whole) victims = [0, 1, 2];
        else if (c % 2 === 1 && leader >= 0) victims = [leader];
        else {
          const followers = [0, 1, 2].filter((i) => i !== leader);
          victims = [followers[followerKills++ % followers.length]!];
        }
        const victim = whole ? -1 : victims[0]!;
        const before = victims.map((v) => readStatus(cfg, v));
        const role = whole ? 'all' : victim === leader ? 'leader' : (before[0]?.role ?? '?');
        for (const v of victims) {
          const pid = replicaPid(dir, v);
          if (pid !== null) process.kill(pid, 'SIGKILL');
        }
        const killedAt = (Date.now() - t0) / 1000;
        await waitFor(() => victims.every((v) => replicaPid(dir, v) === null), 5000);
        await sleepMs(o.downMs);
        const tRestart = Date.now();
        for (const v of victims) startReplica(cfg, dir, v, { detached: false });
        const okBefore = counters.ok;
        const recovered = await waitFor(() => victims.every((v) => replicaUp(cfg, dir, v)) && currentLeader(cfg, dir) >= 0 && counters.ok > okBefore + 50, 60_000);
        const after = victims.map((v) => readStatus(cfg, v));
        const cyc: CrashCycle = {
          cycle: c,
          victim,
          victimRole: role,
          bootBefore: before[0]?.boot ?? null,
          bootAfter: after[0]?.boot ?? null,
          killedAtS: Math.round(killedAt * 10) / 10,
          leaderAfter: currentLeader(cfg, dir),
          recoveredAfterS: Math.round((Date.now() - tRestart) / 100) / 10,
          ok: recovered,
        };
        cycles.push(cyc);
        log(`cycle ${c}/${o.cycles}: SIGKILL ${whole ? 'all replicas' : `node ${victim} (${role}, boot ${cyc.bootBefore})`} at ${cyc.killedAtS} s; restarted${whole ? '' : ` as boot ${cyc.bootAfter}`}; leader node ${cyc.leaderAfter}; serving again ${cyc.recoveredAfterS} s after the restart; ${counters.ok} ok / ${counters.info} info so far`);
        if (!recovered) problems.push(`cycle ${c}: the cluster did not serve again within 60 s of restarting ${whole ? 'all replicas' : `node ${victim}`}`);
      }
      await sleepMs(o.intervalMs);
      stop = true;
    })();
    let load: LoadResult;
    try {
      load = await runLoad(cfg, {
        workload: o.workload,
        threads: o.threads,
        durationNs: 24 * 3600e9,
        stop: () => stop,
        counters,
        onRunStart: () => {
          runStarted = true;
        },
        finalReads: true,
      });
    } catch (e) {
      aborted = true;
      await faults;
      throw e;
    }
    await faults;
    for (const v of load.violations) problems.push(`${v.kind}: ${v.message}`);
    const result: CrashtestResult = { cycles, completedCycles: cycles.filter((c) => c.ok).length, load, dir, result: problems.length === 0 ? 'ok' : 'violation', problems };
    clean = problems.length === 0;
    return result;
  } finally {
    for (let i = 0; i < 3; i++) await stopReplica(dir, i, 2000);
    // Kept (with the logs and PM files) unless the run was clean.
    if (o.keep !== true && o.dir === undefined && clean) rmSync(dir, { recursive: true, force: true });
  }
}
