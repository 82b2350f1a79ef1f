/** Shared by the native cluster commands (cli/commands/{serve,cluster,load,crashtest}.ts). */
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { InputError } from '../../src/kv/input-error.js';
import { addonUnavailableReason, loadAddon } from '../addon.js';
import { type ClusterConfig, readClusterConfig } from './config.js';

/** Bad input (exit 2) when the addon is not built: one line naming what is missing. */
export function requireNative(): void {
  if (loadAddon() === null) throw new InputError('native addon', '', addonUnavailableReason());
}

export function defaultStateDir(): string {
  return join(tmpdir(), `kvlab-cluster-${process.getuid?.() ?? 0}`);
}

/** The cluster file of a state dir (`kvlab cluster up` records it in <dir>/config). */
export function configOfStateDir(dir: string): string {
  const rec = join(dir, 'config');
  if (existsSync(rec)) return readFileSync(rec, 'utf8').trim();
  const local = join(dir, 'cluster.json');
  if (existsSync(local)) return local;
  throw new InputError('argv', '--dir', `${dir} holds no cluster (run kvlab cluster up --dir ${dir}, or give --config FILE)`);
}

/** --config FILE, else the cluster of --dir (default state dir). */
export function resolveConfig(config: string | undefined, dir: string | undefined): { cfg: ClusterConfig; stateDir: string } {
  const stateDir = resolve(dir ?? defaultStateDir());
  const file = config ?? configOfStateDir(stateDir);
  return { cfg: readClusterConfig(file), stateDir };
}
