import { benchCommand } from './commands/bench.js';
import { checkCommand } from './commands/check.js';
import { clusterCommand } from './commands/cluster.js';
import { crashtestCommand } from './commands/crashtest.js';
import { demoCommand } from './commands/demo.js';
import { loadCommand } from './commands/load.js';
import { replayCommand } from './commands/replay.js';
import { reportCommand } from './commands/report.js';
import { runCommand } from './commands/run.js';
import { scenarioDocCommand } from './commands/scenario-doc.js';
import { serveCommand } from './commands/serve.js';
import { sweepCommand } from './commands/sweep.js';
import { tlcCommand } from './commands/tlc.js';
import { validateCommand } from './commands/validate.js';
import { EXIT, InputError } from './errors.js';
import { type Io, processIo } from './io.js';

type Command = (args: string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  run: { run: runCommand, summary: 'run one seed of a scenario and check it' },
  replay: { run: replayCommand, summary: 'replay a seed: same trace hash, timeline, Perfetto export' },
  sweep: { run: sweepCommand, summary: 'run a range of seeds in parallel (optionally twice, to check determinism)' },
  check: { run: checkCommand, summary: 'check JSONL histories for linearizability' },
  bench: { run: benchCommand, summary: 'benchmarks (sim-core, checker, ...)' },
  tlc: { run: tlcCommand, summary: 'model-check a TLA+ spec with TLC (spec/*.cfg)' },
  validate: { run: validateCommand, summary: 'check that a simulator run is a behavior of its TLA+ spec (TLC trace validation)' },
  report: { run: reportCommand, summary: 'generate a report (markdown + PNG charts) from seeded simulations' },
  'scenario-doc': { run: scenarioDocCommand, summary: 'print the scenario field reference (markdown)' },
  serve: { run: serveCommand, summary: 'run one replica of a native cluster (libfabric + libpmem) in this process' },
  cluster: { run: clusterCommand, summary: 'start/stop/inspect a local native cluster (one serve process per replica)' },
  load: { run: loadCommand, summary: 'run a YCSB workload against a native cluster; throughput, p50/p99, linearizability' },
  crashtest: { run: crashtestCommand, summary: 'SIGKILL and restart native replicas under load; check the history' },
  demo: { run: demoCommand, summary: "the main job on built-in defaults: sweep every protocol's swarm scenario, replay one seed" },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([k, c]) => `  ${k.padEnd(10)} ${c.summary}`);
  return ['usage: kvlab <command> [args]   (kvlab <command> --help for details)', '', ...rows].join('\n');
}

/** The kvlab command line. Returns the exit status. */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(usage());
    return name === undefined ? EXIT.BAD_INPUT : EXIT.OK;
  }
  const cmd = COMMANDS[name];
  try {
    if (cmd === undefined) throw new InputError('argv', name, `unknown command (known: ${Object.keys(COMMANDS).join(', ')})`);
    return await cmd.run(rest, io);
  } catch (e) {
    if (e instanceof InputError) {
      io.stderr(`kvlab: ${e.message}`);
      return EXIT.BAD_INPUT;
    }
    if (process.env['KVLAB_DEBUG'] === '1') throw e;
    io.stderr(`kvlab: internal error: ${(e as Error)?.message ?? String(e)} (set KVLAB_DEBUG=1 for the stack)`);
    return 3;
  }
}
