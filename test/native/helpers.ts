/**
 * Shared by the native-backend tests. Every native test file skips (with the reason printed once)
 * when the addon is not built; otherwise they run on the provider named by KVLAB_FI_PROVIDER
 * (default tcp, i.e. tcp;ofi_rxm) over loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { Future, type Platform, type Task } from '../../src/platform/index.js';
import { addonUnavailableReason, loadAddon, providerFromEnv } from '../../native/addon.js';
import { LocalCluster, type LocalClusterOptions, type NativeNode, settle } from '../../native/adapter/index.js';

export const addon = loadAddon();
export const PROVIDER = providerFromEnv();

/**
 * Whether a missing addon is a failure rather than a skip: CI (CI set and not "false"/"0") or
 * KVLAB_REQUIRE_NATIVE=1 (scripts/test.sh sets it after setup.sh has built the addon).
 */
export const NATIVE_REQUIRED = isSet(process.env['KVLAB_REQUIRE_NATIVE']) || isSet(process.env['CI']);

function isSet(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

if (addon === null) console.warn(`[test/native] ${NATIVE_REQUIRED ? 'FAILING (the addon is required here)' : 'SKIPPED'} — ${addonUnavailableReason()}`);

function describeMissing(name: string): void {
  describe(name, () => {
    it('needs the native addon', () => {
      throw new Error(`native addon required (CI / KVLAB_REQUIRE_NATIVE) but unavailable: ${addonUnavailableReason()}`);
    });
  });
}

/** `describe` when the addon is built; otherwise `describe.skip`, or one failing test when the addon is required. */
export const describeNative: typeof describe = addon !== null ? describe : NATIVE_REQUIRED ? (describeMissing as unknown as typeof describe) : (describe.skip as typeof describe);

/** Whether libfabric offers RDM endpoints for `provider` here ("tcp" → tcp;ofi_rxm). */
export function hasProvider(provider: string): boolean {
  if (addon === null) return false;
  const want = provider === 'tcp' ? 'tcp;ofi_rxm' : provider === 'verbs' ? 'verbs;ofi_rxm' : provider;
  return addon.providers().includes(want);
}

const dirs: string[] = [];

export function tempDir(tag: string): string {
  const d = mkdtempSync(join(tmpdir(), `kvlab-native-${tag}-`));
  dirs.push(d);
  return d;
}

export function cleanupDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function cluster(nodes: number, opts: Partial<LocalClusterOptions> = {}): LocalCluster {
  return new LocalCluster({ nodes, dataDir: tempDir('cluster'), provider: PROVIDER, quiet: true, onPanic: (p) => panics.push(p), ...opts });
}

/** Thread panics of every node created through `cluster` (tests assert it stays empty). */
export const panics: { node: number; thread: string; error: unknown }[] = [];

/** Runs `body` as a thread on `p`'s node and resolves with its result. */
export async function run<T>(p: Platform, body: () => Task<T>, timeoutMs = 20_000): Promise<T> {
  const out = new Future<{ ok: true; v: T } | { ok: false; e: unknown }>();
  p.rt.spawn('test', function* (): Task<void> {
    try {
      out.resolve({ ok: true, v: yield* body() });
    } catch (e) {
      out.resolve({ ok: false, e });
    }
  });
  const r = await settle(out, timeoutMs);
  if (!r.ok) throw r.e;
  return r.v;
}

export function nodePlatform(n: NativeNode): Platform {
  return n.platform;
}

export const te = new TextEncoder();
export const td = new TextDecoder();
