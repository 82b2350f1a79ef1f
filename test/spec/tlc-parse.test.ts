import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findInputProblem, parseTlcOutput } from '../../cli/commands/tlc.js';

// Outputs captured from real TLC 2.18 runs of fixtures/Tiny.tla (and broken variants of it).
const here = dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => readFileSync(join(here, 'fixtures', name), 'utf8');

describe('TLC output parser', () => {
  it('parses a run without violation', () => {
    const r = parseTlcOutput(fixture('Tiny.out'), 0);
    expect(r.verdict).toBe('ok');
    expect(r.generatedStates).toBe(3);
    expect(r.distinctStates).toBe(3);
    expect(r.depth).toBe(3);
    expect(r.counterexample).toBeUndefined();
    expect(findInputProblem(fixture('Tiny.out'), 0)).toBeNull();
  });

  it('parses an invariant violation and its counterexample', () => {
    const r = parseTlcOutput(fixture('Tiny.viol.out'), 12);
    expect(r.verdict).toBe('violation');
    expect(r.invariant).toBe('Small');
    expect(r.violationKind).toBe('invariant');
    expect(r.distinctStates).toBeGreaterThan(0);
    const ce = r.counterexample!;
    expect(ce.map((s) => s.index)).toEqual([1, 2, 3, 4]);
    expect(ce[0]!.action).toBe('Initial predicate');
    expect(ce[1]!.action).toBe('Next');
    expect(ce.map((s) => s.vars['x'])).toEqual(['0', '1', '2', '3']);
    expect(ce[3]!.vars['y']).toBe('"b"');
  });

  it('parses an action-property violation', () => {
    const r = parseTlcOutput(fixture('Tiny.prop.out'), 13);
    expect(r.verdict).toBe('violation');
    expect(r.violationKind).toBe('action-property');
    expect(r.invariant).toBe('Mono');
    expect(r.counterexample!.length).toBe(3);
  });

  it('parses multi-line values of a real LoLKV counterexample', () => {
    const text = [
      'Error: Invariant AckedPutsDurable is violated.',
      'Error: The behavior up to this point is:',
      'State 1: <Initial predicate>',
      '/\\ nputs = 0',
      '/\\ store = ( r1 :>',
      '      ( <<1, 1>> :> [key |-> "nokey"] @@',
      '        <<2, 1>> :> [key |-> "nokey"] ) )',
      '',
      'State 2: <StartPut line 161, col 3 to line 178, col 65 of module LoLKV>',
      '/\\ nputs = 1',
      '/\\ store = (r1 :> (<<1, 1>> :> [key |-> k1] @@ <<2, 1>> :> [key |-> "nokey"]))',
      '',
      '33 states generated, 23 distinct states found, 17 states left on queue.',
      'The depth of the complete state graph search is 3.',
    ].join('\n');
    const r = parseTlcOutput(text, 12);
    expect(r.verdict).toBe('violation');
    expect(r.generatedStates).toBe(33);
    expect(r.depth).toBe(3);
    const ce = r.counterexample!;
    expect(ce[0]!.vars['store']).toBe('( r1 :>\n( <<1, 1>> :> [key |-> "nokey"] @@\n  <<2, 1>> :> [key |-> "nokey"] ) )');
    expect(ce[1]!.action).toBe('StartPut');
    expect(ce[1]!.vars['nputs']).toBe('1');
  });

  it('recognises a TLA+ parse error as bad input', () => {
    const text = fixture('Broken.out');
    expect(parseTlcOutput(text, 150).verdict).toBe('error');
    const p = findInputProblem(text, 150)!;
    expect(p.file).toBe('spec');
    expect(p.where).toBe('line 5, column 15');
    expect(p.reason).toMatch(/^parse error: unexpected "0"/);
  });

  it('recognises a semantic error as bad input', () => {
    const p = findInputProblem(fixture('Sem.out'), 150)!;
    expect(p.file).toBe('spec');
    expect(p.where).toBe('line 5, column 13');
    expect(p.reason).toBe("semantic error: Unknown operator: `Foo'.");
  });

  it('recognises a cfg syntax error and an undefined name in the cfg as bad input', () => {
    const s = findInputProblem(fixture('Tiny.syntax.out'), 255)!;
    expect(s.file).toBe('cfg');
    expect(s.where).toBe('line 1');
    expect(s.reason).toMatch(/expecting = or <-/);
    const n = findInputProblem(fixture('Tiny.badname.out'), 151)!;
    expect(n.file).toBe('cfg');
    expect(n.reason).toMatch(/invariant Smal specified in the configuration file is not defined/);
  });

  it('reports an evaluation error as verdict "error" with a one-line message', () => {
    const text = fixture('Rt.out');
    expect(findInputProblem(text, 75)).toBeNull();
    const r = parseTlcOutput(text, 75);
    expect(r.verdict).toBe('error');
    expect(r.error).toMatch(/^Attempted to check equality of integer 0 with non-integer: "a"$/);
  });
});
