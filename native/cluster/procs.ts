/**
 * Replica processes of a local cluster: start (detached, log file, pid file), find, stop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ClusterConfig } from './config.js';
import { type ServerStatus, statusFile } from './server.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * node + args that run replica `node` of `file`: `bin/kvlab.js serve` when this file is compiled
 * (dist/), else serve-entry.ts through vite-node (tests, a source checkout without a build).
 */
export function serveCommand(file: string, node: number): { cmd: string; args: string[] } {
  const bin = join(here, '..', '..', '..', 'bin', 'kvlab.js');
  if (import.meta.url.endsWith('.js') && existsSync(bin)) return { cmd: process.execPath, args: [bin, 'serve', '--config', file, '--node', String(node)] };
  const require = createRequire(import.meta.url);
  const viteNode = join(dirname(require.resolve('vite-node/package.json')), 'vite-node.mjs');
  return { cmd: process.execPath, args: [viteNode, join(here, 'serve-entry.ts'), file, String(node)] };
}

export function pidFile(stateDir: string, node: number): string {
  return join(stateDir, 'pids', `node${node}.pid`);
}

export function logFile(stateDir: string, node: number): string {
  return join(stateDir, 'logs', `node${node}.log`);
}

/** Starts replica `node` as a detached process (outlives this one), appending to its log; records its pid. */
export function startReplica(cfg: ClusterConfig, stateDir: string, node: number, opts: { detached?: boolean } = {}): ChildProcess {
  mkdirSync(join(stateDir, 'pids'), { recursive: true });
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  const out = openSync(logFile(stateDir, node), 'a');
  const { cmd, args } = serveCommand(cfg.file, node);
  const child = spawn(cmd, args, { stdio: ['ignore', out, out], detached: opts.detached ?? true, env: process.env });
  closeSync(out);
  if (opts.detached ?? true) child.unref();
  writeFileSync(pidFile(stateDir, node), `${child.pid}\n`);
  return child;
}

/** The recorded pid of replica `node` if that process is still a kvlab replica. */
export function replicaPid(stateDir: string, node: number): number | null {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile(stateDir, node), 'utf8').trim(), 10);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return isReplicaProcess(pid) ? pid : null;
}

/** Whether `pid` is alive and runs a replica (serve-entry or `kvlab serve`), so a recycled pid is never signalled. */
export function isReplicaProcess(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('serve-entry') && !cmdline.includes('\0serve\0--config')) return false;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) Z /.test(stat); // a zombie is dead
  } catch {
    return false;
  }
}

/** Sends `signal` to replica `node`; returns whether there was one. */
export function signalReplica(stateDir: string, node: number, signal: NodeJS.Signals): boolean {
  const pid = replicaPid(stateDir, node);
  if (pid === null) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function readStatus(cfg: ClusterConfig, node: number): ServerStatus | null {
  try {
    return JSON.parse(readFileSync(statusFile(cfg, node), 'utf8')) as ServerStatus;
  } catch {
    return null;
  }
}

export const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until `pred` holds (checked every 50 ms); false after `timeoutMs`. */
export async function waitFor(pred: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (pred()) return true;
    if (Date.now() > end) return false;
    await sleepMs(50);
  }
}

/** The replica that is up (its own pid in a fresh status file) and says it leads, or -1. */
export function currentLeader(cfg: ClusterConfig, stateDir: string): number {
  for (let i = 0; i < cfg.servers.length; i++) {
    const s = readStatus(cfg, i);
    if (s !== null && s.role === 'leader' && Date.now() - s.updatedMs < 1000 && replicaPid(stateDir, i) === s.pid) return i;
  }
  return -1;
}

/** Replica `node` is up with a fresh status of its current process. */
export function replicaUp(cfg: ClusterConfig, stateDir: string, node: number): boolean {
  const pid = replicaPid(stateDir, node);
  if (pid === null) return false;
  const s = readStatus(cfg, node);
  return s !== null && s.pid === pid && Date.now() - s.updatedMs < 1000;
}

/** Stops replica `node`: SIGTERM, then SIGKILL after `graceMs`. Removes its pid file. */
export async function stopReplica(stateDir: string, node: number, graceMs = 3000): Promise<boolean> {
  const pid = replicaPid(stateDir, node);
  if (pid !== null) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
    if (!(await waitFor(() => !isReplicaProcess(pid), graceMs))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
      await waitFor(() => !isReplicaProcess(pid), 2000);
    }
  }
  rmSync(pidFile(stateDir, node), { force: true });
  return pid !== null;
}

/** Whether a TCP port can be bound on `host` right now (the tcp provider listens on it). */
export function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
