import { relative } from 'node:path';
import { REPORTS, loadRenderer, writeReport } from '../../reports/index.js';
import { EXIT, InputError } from '../errors.js';
import { flagBool, flagStr, parseFlags, positionals } from '../flags.js';
import { type Io, Progress, wallMs } from '../io.js';

export const REPORT_HELP = `kvlab report <name> [--out DIR] [--quick] [--json]
  Runs a report's seeded simulations and writes a markdown page (README.md), PNG charts and
  data.json into DIR (default reports/<name>, relative to the working directory).
  --quick   CI-sized runs (fewer points, shorter runs)
  --json    print the headline figures and the files written as JSON
Reports:
${Object.values(REPORTS)
  .map((r) => `  ${r.name.padEnd(8)} ${r.title}`)
  .join('\n')}`;

/** `kvlab report <name>`: exit 0 written, 1 a simulation ended in a violation, 2 bad input, 3 charts cannot be rendered. */
export async function reportCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { out: 'string', quick: 'bool', json: 'bool', help: 'bool' });
  if (flagBool(p, 'help') || p.positional.length === 0) {
    io.stdout(REPORT_HELP);
    return p.positional.length === 0 && !flagBool(p, 'help') ? EXIT.BAD_INPUT : EXIT.OK;
  }
  const [name] = positionals(p, ['name']);
  const def = REPORTS[name!];
  if (def === undefined) throw new InputError('argv', name!, `unknown report (known: ${Object.keys(REPORTS).join(', ')})`);
  const out = flagStr(p, 'out') ?? def.defaultOut;
  if (out === '') throw new InputError('argv', '--out', 'empty directory name');
  const quick = flagBool(p, 'quick');

  // Fail before minutes of simulation if the charts cannot be drawn.
  const why = await loadRenderer();
  if (why !== null) {
    io.stderr(`kvlab: report ${name}: ${why}`);
    return 3;
  }

  const command = ['kvlab report', def.name, ...(quick ? ['--quick'] : []), ...(out !== def.defaultOut ? ['--out', out] : [])].join(' ');
  let bar: Progress | null = null;
  const output = await def.run({
    quick,
    clock: wallMs,
    cpuClock: () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    },
    command,
    progress: (done, total, label) => {
      bar ??= new Progress(io, total, `report ${def.name}`);
      bar.update(done, label);
      if (done === total) bar.done();
    },
  });
  const written = await writeReport(output, out);
  const files = [written.markdown, ...written.charts, written.data].map((f) => relative(process.cwd(), f) || f);
  const violations = typeof output.summary['violations'] === 'number' ? (output.summary['violations'] as number) : 0;
  if (flagBool(p, 'json')) io.stdout(JSON.stringify({ ...output.summary, files }));
  else {
    io.stdout(`report ${def.name}${quick ? ' (quick)' : ''} written to ${relative(process.cwd(), written.dir) || '.'}:`);
    for (const f of files) io.stdout(`  ${f}`);
    for (const [k, v] of Object.entries(output.summary)) if (k !== 'report') io.stdout(`${k.padEnd(20)} ${JSON.stringify(v)}`);
  }
  if (violations > 0) {
    io.stderr(`kvlab: report ${def.name}: ${violations} simulation(s) ended in a violation; see the "Runs" table of ${files[0]} for the scenario and seed`);
    return EXIT.VIOLATION;
  }
  return EXIT.OK;
}
