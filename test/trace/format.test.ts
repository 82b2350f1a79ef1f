import { describe, expect, test } from 'vitest';
import type { TraceRecord } from '../../sim/kernel.js';
import { readTrace, TraceFormatError, traceLines, writeTrace, type TraceMeta } from '../../sim/trace/index.js';
import { recordRun } from './fixture.js';

const META: TraceMeta = { scenario: 'unit', seed: 1, traceHash: '0123456789abcdef' };

function errorOf(f: () => unknown): TraceFormatError {
  try {
    f();
  } catch (e) {
    if (e instanceof TraceFormatError) return e;
    throw e;
  }
  throw new Error('no error thrown');
}

describe('trace file', () => {
  test('a real run round-trips exactly (records, header, text)', () => {
    const { rec, meta } = recordRun(7, { threadSteps: true });
    const text = writeTrace(meta, rec.records);
    const lines = text.split('\n');
    expect(JSON.parse(lines[0]!)).toMatchObject({ kvlab: 'trace', version: 1, scenario: 'trace-fixture', seed: 7, traceHash: meta.traceHash, records: rec.records.length });
    expect(lines.length).toBe(rec.records.length + 2); // header + records + '' after the final newline
    const back = readTrace(text);
    expect(back.records).toEqual(rec.records);
    expect(back.header).toEqual({ kvlab: 'trace', version: 1, records: rec.records.length, ...meta });
    expect(writeTrace(back.header, back.records)).toBe(text);
    // From lines too.
    expect(readTrace(traceLines(meta, rec.records)).records).toEqual(rec.records);
  });

  test('records are compact arrays; fields are optional', () => {
    const lines = traceLines(META, [
      { t: 0, node: 0, kind: 'node.boot', fields: { boot: 0 } },
      { t: 5, node: 1, kind: 'fault.nic-down' },
    ]);
    expect(lines.slice(1)).toEqual(['[0,0,"node.boot",{"boot":0}]', '[5,1,"fault.nic-down"]']);
  });

  test('numbers JSON cannot spell, strings with anything, null, booleans round-trip', () => {
    const recs: TraceRecord[] = [
      { t: 1.5, node: -1, kind: 'violation', fields: { kind: 'panic', message: 'line1\nline2 "quoted" µ ⚡' } },
      { t: 2, node: 3, kind: 'x', fields: { a: NaN, b: Infinity, c: -Infinity, d: -0, e: 0, f: null, g: true, h: false, i: -7.25 } },
    ];
    const back = readTrace(writeTrace(META, recs)).records;
    expect(back).toEqual(recs);
    expect(Object.is(back[1]!.fields!.d, -0)).toBe(true);
    expect(Object.is(back[1]!.fields!.e, 0)).toBe(true);
  });

  test('extra header keys are kept; CRLF and blank lines are accepted', () => {
    const text = writeTrace({ ...META, note: { by: 'test' }, truncated: false }, [{ t: 0, node: 0, kind: 'a' }]);
    expect(readTrace(text).header.note).toEqual({ by: 'test' });
    const crlf = text.replace(/\n/g, '\r\n') + '\r\n\r\n';
    expect(readTrace(crlf).records).toEqual([{ t: 0, node: 0, kind: 'a' }]);
  });

  test.each([
    ['', 0, /empty trace/],
    ['{"kvlab":"history"}', 1, /"kvlab" must be "trace"/],
    ['[1,2,3]', 1, /header: expected a JSON object/],
    ['{"kvlab":"trace","version":2,"scenario":null,"seed":1,"traceHash":"x","records":0}', 1, /unsupported version 2/],
    ['{"kvlab":"trace","version":1,"seed":1,"traceHash":"x","records":0}', 1, /missing "scenario"/],
    ['{"kvlab":"trace","version":1,"scenario":null,"seed":1.5,"traceHash":"x","records":0}', 1, /"seed" must be an integer/],
    ['{"kvlab":"trace","version":1,"scenario":null,"seed":1,"traceHash":7,"records":0}', 1, /"traceHash" must be a string/],
    ['{"kvlab":"trace","version":1,"scenario":null,"seed":1,"traceHash":"x","records":-1}', 1, /"records" must be/],
    ['{"kvlab":"trace","version":1,"scenario":null,"seed":1,"traceHash":"x","records":0,"truncated":"no"}', 1, /"truncated" must be a boolean/],
    ['{"kvlab":"trace","version":1,"scenario":null,"seed":1,"traceHash":"x","records":0,"cluster":{"servers":[0]}}', 1, /"cluster" must be/],
    ['{"kvlab":"trace"', 1, /line 1: not valid JSON/],
  ])('rejects a bad header %#', (text, line, msg) => {
    const e = errorOf(() => readTrace(text));
    expect(e.line).toBe(line);
    expect(e.message).toMatch(msg);
  });

  const head = (n: number) => `{"kvlab":"trace","version":1,"scenario":"s","seed":1,"traceHash":"h","records":${n}}`;
  test.each([
    ['[0,0,"a"]\n[1,0', 3, /line 3: not valid JSON/],
    ['[0,0,"a"]\n{"t":1}', 3, /expected \[t, node, kind, fields\?\], got object/],
    ['[0,0]', 2, /expected 3 or 4 elements/],
    ['[-1,0,"a"]', 2, /time must be a non-negative number/],
    ['["1",0,"a"]', 2, /time must be/],
    ['[0,1.5,"a"]', 2, /node must be an integer/],
    ['[0,-2,"a"]', 2, /node must be an integer ≥ -1/],
    ['[0,0,""]', 2, /kind must be a non-empty string/],
    ['[0,0,"a",[1]]', 2, /fields must be an object, got array/],
    ['[0,0,"a",{"x":[1]}]', 2, /field "x": expected a string, number, boolean or null/],
    ['[0,0,"a",{"x":{"$num":"7"}}]', 2, /field "x"/],
    ['[5,0,"a"]\n[4,0,"b"]', 3, /before the previous record/],
  ])('rejects a bad record and names its line %#', (body, line, msg) => {
    const n = body.split('\n').length;
    const e = errorOf(() => readTrace(`${head(n)}\n${body}\n`));
    expect(e.line).toBe(line);
    expect(e.message).toMatch(msg);
    expect(e.message.startsWith(`line ${line}: `)).toBe(true);
  });

  test('a file cut short (or padded) does not match the header count', () => {
    expect(errorOf(() => readTrace(`${head(3)}\n[0,0,"a"]\n[1,0,"b"]\n`)).message).toMatch(/line 3: expected 3 records \(header\), found 2 \(file cut short\?\)/);
    expect(errorOf(() => readTrace(`${head(1)}\n[0,0,"a"]\n[1,0,"b"]\n`)).message).toMatch(/expected 1 records \(header\), found 2$/);
  });
});
