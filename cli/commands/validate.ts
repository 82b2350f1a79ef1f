import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScenario } from '../../sim/harness.js';
import { type Scenario, scenarioForSeed } from '../../sim/scenario.js';
import { MemoryRecorder } from '../../sim/trace/index.js';
import { VALIDATED_PROTOCOLS, type ValidatedProtocol, type ValidationTrace, type ValidationVerdict, buildValidationTrace, readValidationOutput } from '../../sim/validate/index.js';
import { EXIT, InputError } from '../errors.js';
import { flagBool, flagInt, flagStr, parseFlags, positionals } from '../flags.js';
import { type Io, Progress, fmtInt, wallMs } from '../io.js';
import { loadScenario } from '../load.js';
import { TLC_JAR_NAME, type TlcRun, findTlcJar, runTlc } from './tlc.js';

export const VALIDATE_HELP = `kvlab validate <scenario> (--seed N | --seeds A..B [--workers K]) [--json] [--keep DIR] [--max-events N] [--budget-seconds S] [--full-landing] [--unsafe NAMES]
  Trace validation: runs one seed of a LoLKV or Rowan-KV scenario with a trace recorder, turns the
  run's events into a TLA+ trace (sim/validate), and has TLC check that it is a behavior of the
  protocol's spec (spec/trace/LoLKVTrace.tla over spec/LoLKV.tla, spec/trace/RowanKVTrace.tla over
  spec/RowanKV.tla). spec/README.md documents the event -> action mapping and the method.
  --seed N            the seed (default: the scenario's)
  --seeds A..B        every seed of the range, K at a time (--workers, default: the CPUs); a progress
                      line per seed, a summary; exit 1 if any seed is rejected (each is listed with its
                      first rejected event and the command that validates it again)
  --json              print {"valid", "verdict", "events", "steps", "wallMs", ...}; when rejected also
                      "firstRejected": {"index", "event", ...} (the first event no behavior can take)
  --keep DIR          write the trace spec, its cfg and the generated trace module into DIR and keep them
                      (with --seeds: DIR/seed-N)
  --max-events N      validate the first N protocol events only (a prefix of the run)
  --budget-seconds S  TLC gives up (inconclusive) after S seconds (default 600)
  --full-landing      LoLKV: explore every subset of followers an uncommitted PUT may have reached
                      (default: none or all of them; see spec/README.md); more states
  --unsafe NAMES      TEST ONLY: switch on protocol.options.unsafe.<name> (comma-separated), e.g.
                      skipIncarnationCheck: a run with a safety mechanism off, whose trace should be rejected
  Exit status: 0 valid, 1 rejected, 2 bad input, 3 TLC/java missing or TLC could not decide.
  Environment: KVLAB_TLC_JAR, KVLAB_JAVA (as kvlab tlc).`;

/** The scenario with test-only switches protocol.options.unsafe.<name> on (names checked). */
export function withUnsafe(sc: Scenario, names: string | undefined): Scenario {
  if (names === undefined || names === '') return sc;
  const opts = (sc.protocol.options ?? {}) as Record<string, unknown>;
  const unsafe = { ...((opts['unsafe'] ?? {}) as Record<string, boolean>) };
  for (const n of names.split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!(n in unsafe)) throw new InputError('argv', '--unsafe', `${JSON.stringify(n)} is not a test-only switch of ${sc.protocol.name} (known: ${Object.keys(unsafe).join(', ') || 'none'})`);
    unsafe[n] = true;
  }
  return { ...sc, protocol: { ...sc.protocol, options: { ...opts, unsafe } } };
}

/** Where the specs are: spec/ above this file (src tree or dist/), or above the cwd. */
export function findSpecDir(): string | null {
  const starts = [dirname(fileURLToPath(import.meta.url)), process.cwd()];
  for (const s of starts) {
    let d = s;
    for (let i = 0; i < 8; i++) {
      if (existsSync(join(d, 'spec', 'trace', 'LoLKVTrace.tla'))) return join(d, 'spec');
      const up = dirname(d);
      if (up === d) break;
      d = up;
    }
  }
  return null;
}

export interface ValidationRun {
  trace: ValidationTrace;
  verdict: ValidationVerdict;
  tlc: TlcRun;
  /** Simulation (with recorder) and trace building, ms. */
  simMs: number;
}

/** Writes the trace spec files into `dir` and runs TLC there (breadth-first, one worker). */
export async function checkTrace(trace: ValidationTrace, specDir: string, dir: string, jar: string): Promise<{ tlc: TlcRun; verdict: ValidationVerdict }> {
  mkdirSync(dir, { recursive: true });
  for (const m of trace.specDeps) copyFileSync(join(specDir, `${m}.tla`), join(dir, `${m}.tla`));
  copyFileSync(join(specDir, 'trace', `${trace.specModule}.tla`), join(dir, `${trace.specModule}.tla`));
  copyFileSync(join(specDir, 'trace', `${trace.specModule}.cfg`), join(dir, `${trace.specModule}.cfg`));
  writeFileSync(join(dir, `${trace.dataModule}.tla`), trace.dataText);
  const target = { cfg: join(dir, `${trace.specModule}.cfg`), tla: join(dir, `${trace.specModule}.tla`), module: trace.specModule };
  // runTlc gives each TLC run its own java.io.tmpdir (concurrent runs sharing /tmp were seen to
  // read each other's half-written standard modules), so validations may run concurrently.
  const tlc = await runTlc(target, { workers: 1, jar });
  if (tlc.inputProblem !== null) {
    const ip = tlc.inputProblem;
    throw new Error(`TLC rejected the generated trace spec (${ip.file} ${ip.where}): ${ip.reason}`);
  }
  const verdict = readValidationOutput(tlc.output, trace, tlc.result.verdict, tlc.result.error);
  return { tlc, verdict };
}

/** What one seed's validation needs besides the seed. */
interface SeedContext {
  file: string;
  sc: Scenario;
  protocol: ValidatedProtocol;
  specDir: string;
  jar: string;
  maxEvents: number | undefined;
  budgetSeconds: number;
  fullLanding: boolean;
  unsafe: string | undefined;
  /** Keep the TLA+ files in this directory (null: a temporary one, removed). */
  keepDir: string | null;
}

/** One seed's outcome: the --json object, the text lines, the exit status. */
interface SeedOutcome {
  seed: number;
  code: number;
  verdict: ValidationVerdict['verdict'];
  json: Record<string, unknown>;
  lines: string[];
}

/** The command that validates one seed again (what a range run prints for a rejected seed). */
export function validateCommandFor(file: string, seed: number, unsafe?: string): string {
  return `kvlab validate ${file} --seed ${seed}${unsafe ? ` --unsafe ${unsafe}` : ''}`;
}

/** Runs one seed with a recorder, builds its trace and has TLC check it. */
async function validateSeed(ctx: SeedContext, seed: number): Promise<SeedOutcome> {
  const { sc, protocol } = ctx;
  const fail = (message: string): SeedOutcome => ({
    seed,
    code: 3,
    verdict: 'error',
    json: { valid: false, verdict: 'error', scenario: sc.name, seed, error: message, events: 0, wallMs: 0 },
    lines: [`ERROR: ${sc.name} seed ${seed}: ${message}`],
  });
  const t0 = wallMs();
  const recorder = new MemoryRecorder({ maxRecords: 20_000_000 });
  const run = runScenario(sc, { seed, recorder });
  if (recorder.truncated) return fail(`the run's trace exceeds the recorder's cap (${fmtInt(recorder.maxRecords)} records)`);
  const servers = Array.from({ length: scenarioForSeed(sc, seed).cluster.servers }, (_, i) => i);
  let trace: ValidationTrace;
  try {
    trace = buildValidationTrace(protocol, recorder.records, {
      servers,
      ...(ctx.maxEvents !== undefined ? { maxEvents: ctx.maxEvents } : {}),
      protocolOptions: sc.protocol.options as Record<string, unknown>,
      budgetSeconds: ctx.budgetSeconds,
      fullLanding: ctx.fullLanding,
    });
  } catch (e) {
    return fail(`cannot map the run's events to the spec: ${(e as Error).message}`);
  }
  const simMs = wallMs() - t0;

  const dir = ctx.keepDir ?? mkdtempSync(join(tmpdir(), 'kvlab-validate-'));
  let res: { tlc: TlcRun; verdict: ValidationVerdict };
  try {
    res = await checkTrace(trace, ctx.specDir, dir, ctx.jar);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return fail(err.code === 'ENOENT' ? 'java not found (install Java 17, or set KVLAB_JAVA)' : err.message);
  } finally {
    if (ctx.keepDir === null) rmSync(dir, { recursive: true, force: true });
  }
  const { verdict, tlc } = res;
  const wall = Math.round(wallMs() - t0);
  const spec = `${trace.specDeps[0]}.tla`;
  const json: Record<string, unknown> = {
    valid: verdict.verdict === 'valid',
    verdict: verdict.verdict,
    scenario: sc.name,
    protocol,
    seed,
    spec,
    simResult: run.result,
    events: trace.events.length,
    steps: trace.steps.length,
    protocolEvents: trace.totalProtocolEvents,
    truncatedEvents: trace.truncatedEvents,
    maxStep: verdict.maxStep,
    distinctStates: tlc.result.distinctStates,
    wallMs: wall,
    simMs: Math.round(simMs),
    tlcMs: Math.round(tlc.wallMs),
    maps: trace.maps,
    dropped: trace.dropped,
    notes: trace.notes,
  };
  if (verdict.firstRejected) json['firstRejected'] = verdict.firstRejected;
  if (verdict.reason) json['reason'] = verdict.reason;
  if (ctx.keepDir !== null) json['kept'] = dir;

  const lines: string[] = [];
  const what = `${sc.name} seed ${seed} (${protocol}, ${servers.length} servers): ${fmtInt(trace.events.length)} events, ${fmtInt(trace.steps.length)} steps`;
  const cut = trace.truncatedEvents > 0 ? ` (a prefix: ${fmtInt(trace.totalProtocolEvents - trace.truncatedEvents)} of the run's ${fmtInt(trace.totalProtocolEvents)} protocol events, --max-events)` : '';
  const cost = `TLC ${tlc.result.distinctStates === null ? '?' : fmtInt(tlc.result.distinctStates)} states, ${(tlc.wallMs / 1000).toFixed(1)} s; total ${(wall / 1000).toFixed(1)} s`;
  if (verdict.verdict === 'valid') {
    lines.push(`VALID: ${what}${cut} are a behavior of ${spec}`);
    lines.push(`  ${cost}`);
  } else if (verdict.verdict === 'rejected') {
    const f = verdict.firstRejected!;
    lines.push(`REJECTED: ${what}${cut}: no behavior of ${spec} takes event ${f.index}`);
    lines.push(`  first rejected event ${f.index}: ${f.event}`);
    lines.push(`  (step ${f.step.index} of ${trace.steps.length}: ${f.step.action}; spec/README.md maps events to actions)`);
    if (f.context.length > 0) {
      lines.push('  events before it:');
      for (const c of f.context) lines.push(`    ${c}`);
    }
    lines.push(`  ${cost}`);
    lines.push(`  replay: ${validateCommandFor(ctx.file, seed, ctx.unsafe)} (add --keep DIR to keep the TLA+ files)`);
  } else {
    lines.push(`${verdict.verdict.toUpperCase()}: ${what}: ${verdict.reason}`);
    lines.push(`  ${cost}`);
  }
  for (const n of trace.notes) lines.push(`  note: ${n}`);
  if (ctx.keepDir !== null) lines.push(`  files kept in ${relative(process.cwd(), dir) || dir}`);
  const code = verdict.verdict === 'valid' ? EXIT.OK : verdict.verdict === 'rejected' ? EXIT.VIOLATION : 3;
  return { seed, code, verdict: verdict.verdict, json, lines };
}

/** `kvlab validate <scenario> (--seed N | --seeds A..B [--workers K]) [--json] [--keep DIR] [--max-events N] ...`. */
export async function validateCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { seed: 'int', seeds: 'range', workers: 'int', json: 'bool', keep: 'string', 'max-events': 'int', 'budget-seconds': 'int', unsafe: 'string', 'full-landing': 'bool', help: 'bool' });
  if (flagBool(p, 'help')) {
    io.stdout(VALIDATE_HELP);
    return EXIT.OK;
  }
  const [file] = positionals(p, ['scenario']);
  const json = flagBool(p, 'json');
  const sc = withUnsafe(loadScenario(file!), flagStr(p, 'unsafe'));
  const range = p.flags['seeds'] as [number, number] | undefined;
  if (range !== undefined && p.flags['seed'] !== undefined) throw new InputError('argv', '--seeds', 'give either --seed N or --seeds A..B, not both');
  if (range === undefined && p.flags['workers'] !== undefined) throw new InputError('argv', '--workers', 'only with --seeds A..B');
  const seed = flagInt(p, 'seed', sc.seed, 0, Number.MAX_SAFE_INTEGER);
  const maxEvents = p.flags['max-events'] === undefined ? undefined : flagInt(p, 'max-events', 0, 1, Number.MAX_SAFE_INTEGER);
  const budgetSeconds = flagInt(p, 'budget-seconds', 600, 1, 86_400);
  const keep = flagStr(p, 'keep');
  const protocol = sc.protocol.name as ValidatedProtocol;
  if (!VALIDATED_PROTOCOLS.includes(protocol)) {
    throw new InputError(file!, 'protocol.name', `trace validation supports ${VALIDATED_PROTOCOLS.join(' and ')}, not ${JSON.stringify(sc.protocol.name)}`);
  }
  const seeds: number[] = [];
  if (range !== undefined) for (let s = range[0]; s <= range[1]; s++) seeds.push(s);
  const workers = range === undefined ? 1 : Math.min(flagInt(p, 'workers', availableParallelism(), 1, 256), seeds.length);

  const fail = (message: string): number => {
    if (json) io.stdout(JSON.stringify({ valid: false, verdict: 'error', scenario: sc.name, ...(range === undefined ? { seed } : { seeds: seeds.length }), error: message, events: 0, wallMs: 0 }));
    else io.stderr(`kvlab: validate: ${message}`);
    return 3;
  };
  const specDir = findSpecDir();
  if (specDir === null) return fail('cannot find spec/trace/ (run kvlab from the kvlab directory)');
  const jar = findTlcJar(specDir);
  if (jar === null) {
    return fail(process.env['KVLAB_TLC_JAR'] ? `KVLAB_TLC_JAR=${process.env['KVLAB_TLC_JAR']} does not exist` : `TLC not found (.cache/tlc/${TLC_JAR_NAME}): run spec/fetch-tlc.sh first`);
  }
  const ctx: SeedContext = {
    file: file!,
    sc,
    protocol,
    specDir,
    jar,
    maxEvents,
    budgetSeconds,
    fullLanding: flagBool(p, 'full-landing'),
    unsafe: flagStr(p, 'unsafe'),
    keepDir: keep !== undefined ? resolve(keep) : null,
  };

  if (range === undefined) {
    const o = await validateSeed(ctx, seed);
    if (json) io.stdout(JSON.stringify(o.json));
    else if (o.verdict === 'error') io.stderr(`kvlab: validate: ${String(o.json['error'])}`);
    else for (const l of o.lines) io.stdout(l);
    return o.code;
  }
  return validateRange(ctx, seeds, workers, json, io);
}

/**
 * `--seeds A..B`: every seed, `workers` at a time (each seed's simulation runs in this process,
 * its TLC in a child JVM, so a seed's simulation overlaps the others' TLC runs). A progress line
 * per seed, a summary; exit 1 if any seed is rejected (with its seed and the command that
 * validates it again), else 3 if any could not be decided, else 0.
 */
async function validateRange(ctx: SeedContext, seeds: readonly number[], workers: number, json: boolean, io: Io): Promise<number> {
  const t0 = wallMs();
  const outcomes: SeedOutcome[] = [];
  const progress = new Progress(io, seeds.length, `validate ${ctx.sc.name}`);
  let next = 0;
  const counts = { valid: 0, rejected: 0, inconclusive: 0, error: 0 };
  const worker = async (): Promise<void> => {
    while (next < seeds.length) {
      const seed = seeds[next++]!;
      const c: SeedContext = ctx.keepDir === null ? ctx : { ...ctx, keepDir: join(ctx.keepDir, `seed-${seed}`) };
      const o = await validateSeed(c, seed);
      outcomes.push(o);
      counts[o.verdict]++;
      const tally = `valid ${counts.valid}, rejected ${counts.rejected}${counts.inconclusive + counts.error > 0 ? `, undecided ${counts.inconclusive + counts.error}` : ''}`;
      if (io.isTty) progress.update(outcomes.length, tally);
      else {
        const j = o.json;
        const fr = j['firstRejected'] as { index: number; event: string } | undefined;
        const detail = o.verdict === 'valid' ? `${fmtInt(j['events'] as number)} events, ${((j['wallMs'] as number) / 1000).toFixed(1)} s` : fr !== undefined ? `first rejected event ${fr.index}: ${fr.event}` : String(j['reason'] ?? j['error'] ?? '');
        io.stderr(`[${outcomes.length}/${seeds.length}] seed ${seed} ${o.verdict}: ${detail} (${tally})`);
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, () => worker()));
  progress.done();
  outcomes.sort((a, b) => a.seed - b.seed);
  const wall = Math.round(wallMs() - t0);
  const perSeed = outcomes.map((o) => o.json['wallMs'] as number).filter((x) => typeof x === 'number' && x > 0).sort((a, b) => a - b);
  const median = perSeed.length === 0 ? 0 : perSeed[Math.floor(perSeed.length / 2)]!;
  const max = perSeed.length === 0 ? 0 : perSeed[perSeed.length - 1]!;
  const bad = outcomes.filter((o) => o.verdict !== 'valid');
  if (json) {
    io.stdout(
      JSON.stringify({
        valid: bad.length === 0,
        scenario: ctx.sc.name,
        protocol: ctx.protocol,
        seeds: seeds.length,
        range: [seeds[0], seeds[seeds.length - 1]],
        workers,
        validSeeds: counts.valid,
        rejected: counts.rejected,
        inconclusive: counts.inconclusive,
        errors: counts.error,
        wallMs: wall,
        seedWallMs: { median, max },
        events: outcomes.reduce((a, o) => a + ((o.json['events'] as number) ?? 0), 0),
        failures: bad.map((o) => ({
          seed: o.seed,
          verdict: o.verdict,
          ...(o.json['firstRejected'] !== undefined ? { firstRejected: o.json['firstRejected'] } : {}),
          ...(o.json['reason'] !== undefined ? { reason: o.json['reason'] } : {}),
          ...(o.json['error'] !== undefined ? { error: o.json['error'] } : {}),
          replay: validateCommandFor(ctx.file, o.seed, ctx.unsafe),
        })),
        perSeed: outcomes.map((o) => ({ seed: o.seed, verdict: o.verdict, events: o.json['events'], steps: o.json['steps'], distinctStates: o.json['distinctStates'], wallMs: o.json['wallMs'], tlcMs: o.json['tlcMs'] })),
      }),
    );
  } else {
    io.stdout(`${ctx.sc.name}: ${fmtInt(seeds.length)} seeds (${seeds[0]}..${seeds[seeds.length - 1]}), ${workers} workers, ${(wall / 1000).toFixed(1)} s wall (per seed: median ${(median / 1000).toFixed(1)} s, max ${(max / 1000).toFixed(1)} s)`);
    io.stdout(`  valid ${counts.valid}, rejected ${counts.rejected}, inconclusive ${counts.inconclusive}, error ${counts.error}`);
    for (const o of bad.slice(0, 20)) {
      io.stdout(`  ✗ seed ${o.seed} ${o.verdict.toUpperCase()}`);
      for (const l of o.lines.slice(1)) if (!l.startsWith('  note:')) io.stdout(`  ${l}`);
      if (o.verdict !== 'rejected') io.stdout(`    replay: ${validateCommandFor(ctx.file, o.seed, ctx.unsafe)}`);
    }
    if (bad.length > 20) io.stdout(`  ... and ${bad.length - 20} more`);
  }
  if (counts.rejected > 0) return EXIT.VIOLATION;
  if (bad.length > 0) return 3;
  return EXIT.OK;
}
