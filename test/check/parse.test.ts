import { describe, expect, it } from 'vitest';
import { InputError } from '../../cli/errors.js';
import { parseHistory } from '../../src/check/parse.js';

const inv = (p: number, f: string, key: string, value: unknown, extra: object = {}): string =>
  JSON.stringify({ process: p, type: 'invoke', f, key, value, ...extra });
const done = (p: number, type: string, f: string, key: string, value: unknown, extra: object = {}): string =>
  JSON.stringify({ process: p, type, f, key, value, ...extra });

function parseError(lines: string[]): InputError {
  try {
    parseHistory(lines.join('\n'), 'h.jsonl');
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError');
}

describe('parseHistory: valid input', () => {
  it('an empty file is zero operations', () => {
    expect(parseHistory('', 'h.jsonl')).toEqual({ init: null, events: [], eventLines: [] });
    expect(parseHistory('\n\n', 'h.jsonl').events).toEqual([]);
  });

  it('reads the optional init line, events, CRLF line ends and blank lines', () => {
    const text = ['{"init": "z"}', inv(0, 'put', 'x', 'a'), '', done(0, 'ok', 'put', 'x', 'a')].join('\r\n');
    const h = parseHistory(text, 'h.jsonl');
    expect(h.init).toBe('z');
    expect(h.events.map((e) => e.type)).toEqual(['invoke', 'ok']);
    expect(h.eventLines).toEqual([2, 4]);
  });

  it('an init of null is allowed', () => {
    expect(parseHistory('{"init": null}\n', 'h.jsonl').init).toBeNull();
  });

  it('completions may omit or repeat the invoked value', () => {
    const h = parseHistory(
      [inv(0, 'put', 'x', 'a'), JSON.stringify({ process: 0, type: 'ok', f: 'put', key: 'x' }), inv(0, 'cas', 'x', ['a', 'b']), done(0, 'fail', 'cas', 'x', ['a', 'b'])].join('\n'),
      'h.jsonl',
    );
    expect(h.events).toHaveLength(4);
  });

  it('keeps fault markers with their position and time', () => {
    const h = parseHistory([inv(0, 'get', 'x', null), '{"fault": "crash n1", "time": 7}', '{"fault": "heal"}', done(0, 'ok', 'get', 'x', null)].join('\n'), 'h.jsonl');
    expect(h.faults).toEqual([
      { text: 'crash n1', timeNs: 7, afterEvent: 1 },
      { text: 'heal', afterEvent: 1 },
    ]);
    expect(h.events).toHaveLength(2);
  });

  it('accepts times that tie, and histories where only some events have times (line order then)', () => {
    expect(parseHistory([inv(0, 'get', 'x', null, { time: 5 }), done(0, 'ok', 'get', 'x', null, { time: 5 })].join('\n'), 'h.jsonl').events).toHaveLength(2);
    expect(parseHistory([inv(0, 'get', 'x', null, { time: 9 }), done(0, 'ok', 'get', 'x', null)].join('\n'), 'h.jsonl').events).toHaveLength(2);
  });

  it('an invoke left pending at the end is fine (it counts as info)', () => {
    expect(parseHistory(inv(0, 'put', 'x', 'a'), 'h.jsonl').events).toHaveLength(1);
  });
});

describe('parseHistory: every malformed input is an InputError naming line and field', () => {
  const cases: [string, string[], string, RegExp][] = [
    ['bad JSON', [inv(0, 'get', 'x', null), '{"process": 0,'], 'line 2', /^invalid JSON/],
    ['not an object', ['[1, 2]'], 'line 1', /must be a JSON object/],
    ['a bare value', ['42'], 'line 1', /must be a JSON object/],
    ['unknown field', [JSON.stringify({ process: 0, type: 'invoke', f: 'get', key: 'x', value: null, colour: 'red' })], 'line 1: colour', /^unknown field/],
    ['unknown field on the init line', ['{"init": null, "seed": 3}'], 'line 1: seed', /^unknown field/],
    ['unknown field on a fault line', ['{"fault": "x", "node": 3}'], 'line 1: node', /^unknown field/],
    ['missing process', [JSON.stringify({ type: 'invoke', f: 'get', key: 'x', value: null })], 'line 1: process', /^missing$/],
    ['missing key', [JSON.stringify({ process: 0, type: 'invoke', f: 'get', value: null })], 'line 1: key', /^missing$/],
    ['process not an integer', [inv(1.5, 'get', 'x', null)], 'line 1: process', /non-negative integer/],
    ['process negative', [inv(-1, 'get', 'x', null)], 'line 1: process', /non-negative integer/],
    ['process a string', [JSON.stringify({ process: '0', type: 'invoke', f: 'get', key: 'x', value: null })], 'line 1: process', /non-negative integer/],
    ['unknown type', [JSON.stringify({ process: 0, type: 'done', f: 'get', key: 'x', value: null })], 'line 1: type', /^must be one of invoke, ok, fail, info$/],
    ['unknown f', [inv(0, 'delete', 'x', null)], 'line 1: f', /^must be one of get, put, append, cas$/],
    ['key not a string', [inv(0, 'get', 3, null)], 'line 1: key', /must be a string/],
    ['time not a number', [inv(0, 'get', 'x', null, { time: '5' })], 'line 1: time', /non-negative number/],
    ['time negative', [inv(0, 'get', 'x', null, { time: -1 })], 'line 1: time', /non-negative number/],
    ['init not a string', ['{"init": 5}'], 'line 1: init', /string or null/],
    ['init not first', [inv(0, 'get', 'x', null), '{"init": null}'], 'line 2: init', /first line/],
    ['fault text not a string', ['{"fault": 1}'], 'line 1: fault', /must be a string/],
    ['fault time bad', ['{"fault": "x", "time": "soon"}'], 'line 1: time', /non-negative number/],
    ['ok with no pending invoke', [done(0, 'ok', 'put', 'x', 'a')], 'line 1: type', /without a pending invoke for process 0/],
    ['a second invoke while one is pending', [inv(0, 'put', 'x', 'a'), inv(0, 'get', 'x', null)], 'line 2: type', /already has a pending put/],
    ['completion of another f', [inv(0, 'put', 'x', 'a'), done(0, 'ok', 'get', 'x', 'a')], 'line 2: f', /must be put/],
    ['completion of another key', [inv(0, 'put', 'x', 'a'), done(0, 'ok', 'put', 'y', 'a')], 'line 2: key', /must be "x"/],
    ['put value not a string', [inv(0, 'put', 'x', 5)], 'line 1: value', /must be a string/],
    ['append value missing', [JSON.stringify({ process: 0, type: 'invoke', f: 'append', key: 'x' })], 'line 1: value', /must be a string/],
    ['get invoke with a value', [inv(0, 'get', 'x', 'a')], 'line 1: value', /must be null for a get invoke/],
    ['get ok without a value', [inv(0, 'get', 'x', null), JSON.stringify({ process: 0, type: 'ok', f: 'get', key: 'x' })], 'line 2: value', /missing/],
    ['get ok with a number', [inv(0, 'get', 'x', null), done(0, 'ok', 'get', 'x', 7)], 'line 2: value', /string or null/],
    ['get info with a value', [inv(0, 'get', 'x', null), done(0, 'info', 'get', 'x', 'a')], 'line 2: value', /must be null for a get info/],
    ['cas value not an array', [inv(0, 'cas', 'x', 'a')], 'line 1: value', /2-array/],
    ['cas value a 3-array', [inv(0, 'cas', 'x', ['a', 'b', 'c'])], 'line 1: value', /2-array/],
    ['cas new value null', [inv(0, 'cas', 'x', ['a', null])], 'line 1: value', /2-array/],
    ['cas completion with another value', [inv(0, 'cas', 'x', ['a', 'b']), done(0, 'ok', 'cas', 'x', ['a', 'c'])], 'line 2: value', /must equal the invoked \["a","b"\]/],
    ['put completion with another value', [inv(0, 'put', 'x', 'a'), done(0, 'ok', 'put', 'x', 'b')], 'line 2: value', /must equal the invoked "a"/],
    [
      'time going backwards when every event has one',
      [inv(0, 'put', 'x', 'a', { time: 10 }), done(0, 'ok', 'put', 'x', 'a', { time: 9 })],
      'line 2: time',
      /goes backwards \(9 < 10\)/,
    ],
  ];
  for (const [name, lines, field, reason] of cases) {
    it(name, () => {
      const err = parseError(lines);
      expect(err.file).toBe('h.jsonl');
      expect(err.field).toBe(field);
      expect(err.reason).toMatch(reason);
    });
  }

  it('line numbers count the init line, fault lines and blank lines', () => {
    const err = parseError(['{"init": null}', '', '{"fault": "crash"}', inv(0, 'put', 'x', 'a'), done(0, 'ok', 'put', 'x', 'b')]);
    expect(err.field).toBe('line 5: value');
  });

  it('the message is "file: field: reason"', () => {
    const err = parseError([JSON.stringify({ process: 0, type: 'done', f: 'get', key: 'x', value: null })]);
    expect(err.message).toBe('h.jsonl: line 1: type: must be one of invoke, ok, fail, info');
  });
});
