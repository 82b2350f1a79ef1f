import { InputError } from '../errors.js';
import { EXIT } from '../errors.js';
import { flagBool, flagInt, flagStr, parseFlags } from '../flags.js';
import type { Io } from '../io.js';
import { requireNative } from '../../native/cluster/cli-util.js';
import { readClusterConfig } from '../../native/cluster/config.js';
import { portFree } from '../../native/cluster/procs.js';
import { startServer } from '../../native/cluster/server.js';

export const SERVE_HELP = `kvlab serve --config FILE --node I

Runs replica I of the native cluster described by FILE in this process: a libfabric endpoint at
the address FILE gives it, its PM files and boot counter in <dataDir>/node<I>, and the protocol's
server module. Runs until SIGTERM or SIGINT (a clean stop); SIGKILL is a crash, and the next
\`kvlab serve\` with the same node is its next boot, recovering from its PM files.
Cluster file format: docs/native.md ("A cluster").`;

export async function serveCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { config: 'string', node: 'int', help: 'bool' });
  if (flagBool(p, 'help')) {
    io.stdout(SERVE_HELP);
    return EXIT.OK;
  }
  if (p.positional.length > 0) throw new InputError('argv', p.positional[0]!, 'unexpected argument');
  const file = flagStr(p, 'config');
  if (file === undefined) throw new InputError('argv', '--config', 'missing (the cluster file)');
  if (p.flags['node'] === undefined) throw new InputError('argv', '--node', 'missing (which replica to run)');
  const cfg = readClusterConfig(file);
  const node = flagInt(p, 'node', 0, 0, cfg.servers.length - 1);
  requireNative();
  const addr = cfg.servers[node]!;
  if (!(await portFree(addr.host, addr.port))) throw new InputError(cfg.file, `servers[${node}]`, `${addr.host}:${addr.port} is in use (another replica or program listens there) or not an address of this machine`);
  const s = startServer(cfg, node, (l) => io.stderr(l));
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  s.stop();
  io.stderr(`kvlab serve: node ${node} stopped`);
  return EXIT.OK;
}
