/**
 * Helpers of the native benchmarks: statistics, child processes (TypeScript or compiled), and
 * compiling the small C baselines at bench time.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Future, type Platform, type Task } from '../../src/platform/index.js';
import { settle } from '../adapter/node.js';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const here = dirname(fileURLToPath(import.meta.url));

/** A file of native/bench (sources that tsc does not copy to dist/, such as the C baselines). */
export function benchSource(rel: string): string {
  for (const base of [here, join(here, '..', '..', 'native', 'bench'), join(here, '..', '..', '..', 'native', 'bench')]) {
    const p = join(base, rel);
    if (existsSync(p)) return p;
  }
  throw new Error(`native bench: cannot find ${rel} next to ${here}`);
}

/**
 * Compiles a C baseline (native/bench/c/<name>.c) into a cache directory with `cc` (gcc/clang)
 * and returns the executable. Rebuilt when the source changes.
 */
export function compileC(name: string, libs: string[]): string {
  const src = benchSource(join('c', `${name}.c`));
  const text = readFileSync(src);
  const h = createHash('sha256').update(text).update(libs.join(' ')).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), 'kvlab-native-bench');
  mkdirSync(dir, { recursive: true });
  const exe = join(dir, `${name}-${h}`);
  if (existsSync(exe)) return exe;
  const cc = process.env['CC'] ?? 'cc';
  try {
    execFileSync(cc, ['-O2', '-o', exe, src, ...libs.map((l) => `-l${l}`)], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: Buffer };
    throw new Error(`native bench: compiling ${src} with ${cc} failed: ${err.stderr?.toString() ?? String(e)}`);
  }
  return exe;
}

/**
 * Command line that runs a sibling TypeScript/JavaScript entry point of this directory in a new
 * Node process: the compiled .js when this file was compiled (dist/), else the .ts through vite-node.
 */
export function nodeEntry(base: string): { cmd: string; args: string[] } {
  const js = join(here, `${base}.js`);
  if (import.meta.url.endsWith('.js') && existsSync(js)) return { cmd: process.execPath, args: [js] };
  const ts = join(here, `${base}.ts`);
  const require = createRequire(import.meta.url);
  let viteNode: string;
  try {
    viteNode = join(dirname(require.resolve('vite-node/package.json')), 'vite-node.mjs');
  } catch {
    throw new Error(`native bench: running ${ts} needs the compiled JavaScript (npm run build) or vite-node`);
  }
  return { cmd: process.execPath, args: [viteNode, ts] };
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Starts a process and resolves with it once a stdout line matches `ready` (with the match). */
export function startUntil(cmd: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = process.env, timeoutMs = 30_000): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')}: not ready within ${timeoutMs} ms\n${out}\n${err}`));
    }, timeoutMs);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = out.match(ready);
      if (m !== null) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')} exited with ${code} before it was ready\n${out}\n${err}`));
    });
  });
}

/** Runs a process to completion and returns its stdout (rejects on a non-zero exit). */
export function runToEnd(cmd: string, args: string[], timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} timed out`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${err || out}`));
    });
  });
}

/** Stops a child started by startUntil (closes its stdin, then SIGTERM) and waits for it. */
export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve();
      return;
    }
    const t = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.stdin?.end();
    child.kill('SIGTERM');
  });
}

/** Runs `body` as a coroutine thread of `p` and resolves with its result (rejects with its error). */
export function runThread<T>(p: Platform, body: () => Task<T>, timeoutMs = 600_000): Promise<T> {
  const f = new Future<{ ok: true; v: T } | { ok: false; e: unknown }>();
  p.rt.spawn('bench', function* (): Task<void> {
    try {
      f.resolve({ ok: true, v: yield* body() });
    } catch (e) {
      f.resolve({ ok: false, e });
    }
  });
  return settle(f, timeoutMs).then((r) => {
    if (!r.ok) throw r.e;
    return r.v;
  });
}
