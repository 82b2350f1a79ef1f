/**
 * Entry point of a replica process started by `kvlab cluster up` / `kvlab crashtest`:
 *   node serve-entry.js <cluster.json> <node index>
 * (the same as `kvlab serve --config <cluster.json> --node <i>`). SIGTERM/SIGINT end it cleanly;
 * SIGKILL is a crash.
 */
import { InputError } from '../../src/kv/input-error.js';
import { readClusterConfig } from './config.js';
import { portFree } from './procs.js';
import { startServer } from './server.js';

const [file, idx] = process.argv.slice(2);
try {
  if (file === undefined || idx === undefined || !/^\d+$/.test(idx)) throw new InputError('argv', '', 'usage: serve-entry <cluster.json> <node index>');
  const cfg = readClusterConfig(file);
  const i = Number(idx);
  if (i >= cfg.servers.length) throw new InputError('argv', 'node', `node ${i} is not a server of ${file} (servers 0..${cfg.servers.length - 1})`);
  const addr = cfg.servers[i]!;
  if (!(await portFree(addr.host, addr.port))) throw new InputError(cfg.file, `servers[${i}]`, `${addr.host}:${addr.port} is in use (another replica or program listens there) or not an address of this machine`);
  const s = startServer(cfg, i);
  const stop = () => {
    s.stop();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (e) {
  process.stderr.write(`kvlab serve: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof InputError ? 2 : 3);
}
