import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runScenario } from '../../sim/harness.js';
import { type Scenario, scenarioForSeed } from '../../sim/scenario.js';
import { MemoryRecorder } from '../../sim/trace/index.js';
import { VALIDATED_PROTOCOLS, type ValidatedProtocol, type ValidationTrace, type ValidationVerdict, buildValidationTrace, readValidationOutput } from '../../sim/validate/index.js';
import { EXIT, InputError } from '../errors.js';
import { flagBool, flagInt, flagStr, parseFlags, positionals } from '../flags.js';
import { type Io, fmtInt, wallMs } from '../io.js';
import { loadScenario } from '../load.js';
import { TLC_JAR_NAME, type TlcRun, findTlcJar, runTlc } from './tlc.js';

export const VALIDATE_HELP = `kvlab validate <scenario> --seed N [--json] [--keep DIR] [--max-events N] [--budget-seconds S] [--full-landing]
  Trace validation: runs one seed of a LoLKV or Rowan-KV scenario with a trace recorder, turns the
  run's events into a TLA+ trace (sim/validate), and has TLC check that it is a behavior of the
  protocol's spec (spec/trace/LoLKVTrace.tla over spec/LoLKV.tla, spec/trace/RowanKVTrace.tla over
  spec/RowanKV.tla). spec/README.md documents the event -> action mapping and the method.
  --seed N            the seed (default: the scenario's)
  --json              print {"valid", "verdict", "events", "steps", "wallMs", ...}; when rejected also
                      "firstRejected": {"index", "event", ...} (the first event no behavior can take)
  --keep DIR          write the trace spec, its cfg and the generated trace module into DIR and keep them
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
  // TLC unpacks its standard modules (TLC.tla, Naturals.tla, ...) into java.io.tmpdir and parses
  // them from there; concurrent TLC runs sharing /tmp can read each other's half-written copies.
  // Each validation gets its own (the child inherits the environment when runTlc spawns it).
  const tmp = join(dir, '.java-tmp');
  mkdirSync(tmp, { recursive: true });
  const saved = process.env['JAVA_TOOL_OPTIONS'];
  let tlc: TlcRun;
  process.env['JAVA_TOOL_OPTIONS'] = `${saved ? `${saved} ` : ''}-Djava.io.tmpdir=${tmp}`;
  try {
    tlc = await runTlc(target, { workers: 1, jar });
  } finally {
    if (saved === undefined) delete process.env['JAVA_TOOL_OPTIONS'];
    else process.env['JAVA_TOOL_OPTIONS'] = saved;
  }
  if (tlc.inputProblem !== null) {
    const ip = tlc.inputProblem;
    throw new Error(`TLC rejected the generated trace spec (${ip.file} ${ip.where}): ${ip.reason}`);
  }
  const verdict = readValidationOutput(tlc.output, trace, tlc.result.verdict, tlc.result.error);
  return { tlc, verdict };
}

/** `kvlab validate <scenario> --seed N [--json] [--keep DIR] [--max-events N]`. */
export async function validateCommand(args: string[], io: Io): Promise<number> {
  const p = parseFlags(args, { seed: 'int', json: 'bool', keep: 'string', 'max-events': 'int', 'budget-seconds': 'int', unsafe: 'string', 'full-landing': 'bool', help: 'bool' });
  if (flagBool(p, 'help')) {
    io.stdout(VALIDATE_HELP);
    return EXIT.OK;
  }
  const [file] = positionals(p, ['scenario']);
  const json = flagBool(p, 'json');
  const sc = withUnsafe(loadScenario(file!), flagStr(p, 'unsafe'));
  const seed = flagInt(p, 'seed', sc.seed, 0, Number.MAX_SAFE_INTEGER);
  const maxEvents = p.flags['max-events'] === undefined ? undefined : flagInt(p, 'max-events', 0, 1, Number.MAX_SAFE_INTEGER);
  const budgetSeconds = flagInt(p, 'budget-seconds', 600, 1, 86_400);
  const keep = flagStr(p, 'keep');
  const protocol = sc.protocol.name as ValidatedProtocol;
  if (!VALIDATED_PROTOCOLS.includes(protocol)) {
    throw new InputError(file!, 'protocol.name', `trace validation supports ${VALIDATED_PROTOCOLS.join(' and ')}, not ${JSON.stringify(sc.protocol.name)}`);
  }

  const fail = (message: string): number => {
    if (json) io.stdout(JSON.stringify({ valid: false, verdict: 'error', scenario: sc.name, seed, error: message, events: 0, wallMs: 0 }));
    else io.stderr(`kvlab: validate: ${message}`);
    return 3;
  };
  const specDir = findSpecDir();
  if (specDir === null) return fail('cannot find spec/trace/ (run kvlab from the kvlab directory)');
  const jar = findTlcJar(specDir);
  if (jar === null) {
    return fail(process.env['KVLAB_TLC_JAR'] ? `KVLAB_TLC_JAR=${process.env['KVLAB_TLC_JAR']} does not exist` : `TLC not found (.cache/tlc/${TLC_JAR_NAME}): run spec/fetch-tlc.sh first`);
  }

  const t0 = wallMs();
  const recorder = new MemoryRecorder({ maxRecords: 20_000_000 });
  const run = runScenario(sc, { seed, recorder });
  if (recorder.truncated) return fail(`the run's trace exceeds the recorder's cap (${fmtInt(recorder.maxRecords)} records)`);
  const servers = Array.from({ length: scenarioForSeed(sc, seed).cluster.servers }, (_, i) => i);
  let trace: ValidationTrace;
  try {
    trace = buildValidationTrace(protocol, recorder.records, {
      servers,
      ...(maxEvents !== undefined ? { maxEvents } : {}),
      protocolOptions: sc.protocol.options as Record<string, unknown>,
      budgetSeconds,
      fullLanding: flagBool(p, 'full-landing'),
    });
  } catch (e) {
    return fail(`cannot map the run's events to the spec: ${(e as Error).message}`);
  }
  const simMs = wallMs() - t0;

  const dir = keep !== undefined ? resolve(keep) : mkdtempSync(join(tmpdir(), 'kvlab-validate-'));
  let res: { tlc: TlcRun; verdict: ValidationVerdict };
  try {
    res = await checkTrace(trace, specDir, dir, jar);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return fail(err.code === 'ENOENT' ? 'java not found (install Java 17, or set KVLAB_JAVA)' : err.message);
  } finally {
    if (keep === undefined) rmSync(dir, { recursive: true, force: true });
  }
  const { verdict, tlc } = res;
  const wall = Math.round(wallMs() - t0);
  const spec = `${trace.specDeps[0]}.tla`;
  if (json) {
    const out: Record<string, unknown> = {
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
    if (verdict.firstRejected) out['firstRejected'] = verdict.firstRejected;
    if (verdict.reason) out['reason'] = verdict.reason;
    if (keep !== undefined) out['kept'] = dir;
    io.stdout(JSON.stringify(out));
  } else {
    const what = `${sc.name} seed ${seed} (${protocol}, ${servers.length} servers): ${fmtInt(trace.events.length)} events, ${fmtInt(trace.steps.length)} steps`;
    const cut = trace.truncatedEvents > 0 ? ` (a prefix: ${fmtInt(trace.totalProtocolEvents - trace.truncatedEvents)} of the run's ${fmtInt(trace.totalProtocolEvents)} protocol events, --max-events)` : '';
    const cost = `TLC ${tlc.result.distinctStates === null ? '?' : fmtInt(tlc.result.distinctStates)} states, ${(tlc.wallMs / 1000).toFixed(1)} s; total ${(wall / 1000).toFixed(1)} s`;
    if (verdict.verdict === 'valid') {
      io.stdout(`VALID: ${what}${cut} are a behavior of ${spec}`);
      io.stdout(`  ${cost}`);
    } else if (verdict.verdict === 'rejected') {
      const f = verdict.firstRejected!;
      io.stdout(`REJECTED: ${what}${cut}: no behavior of ${spec} takes event ${f.index}`);
      io.stdout(`  first rejected event ${f.index}: ${f.event}`);
      io.stdout(`  (step ${f.step.index} of ${trace.steps.length}: ${f.step.action}; spec/README.md maps events to actions)`);
      if (f.context.length > 0) {
        io.stdout('  events before it:');
        for (const c of f.context) io.stdout(`    ${c}`);
      }
      io.stdout(`  ${cost}`);
      io.stdout(`  keep the TLA+ files: kvlab validate ${file} --seed ${seed}${flagStr(p, 'unsafe') ? ` --unsafe ${flagStr(p, 'unsafe')}` : ''} --keep DIR`);
    } else {
      io.stdout(`${verdict.verdict.toUpperCase()}: ${what}: ${verdict.reason}`);
      io.stdout(`  ${cost}`);
    }
    for (const n of trace.notes) io.stdout(`  note: ${n}`);
    if (keep !== undefined) io.stdout(`  files kept in ${relative(process.cwd(), dir) || dir}`);
  }
  if (verdict.verdict === 'valid') return EXIT.OK;
  if (verdict.verdict === 'rejected') return EXIT.VIOLATION;
  return 3;
}
