import { describe, expect, it } from 'vitest';
import { SchemaError } from '../../src/kv/schema.js';
import { describeWorkload, parseWorkload, workloadSchema } from '../../src/workload/config.js';

describe('workload config', () => {
  it('has a default for every field', () => {
    const c = parseWorkload(undefined);
    expect(c).toMatchObject({ kind: 'ycsb', ycsb: 'A', distribution: 'auto', zipfTheta: 0.99, keys: 1000, mode: 'closed', opsPerClient: 1000, valueSize: { kind: 'fixed', bytes: 64 } });
    expect(workloadSchema.defaultValue).toEqual(c);
    for (const row of describeWorkload()) {
      if (row.type === 'object' || row.path.includes('{kind=')) continue;
      expect(row.default, row.path).not.toBeUndefined();
      expect(row.doc.length, row.path).toBeGreaterThan(0);
    }
  });

  it('parses value-size variants', () => {
    expect(parseWorkload({ valueSize: { kind: 'zippydb' } }).valueSize).toEqual({ kind: 'zippydb', meanBytes: 90.8, maxBytes: 1024 });
    expect(parseWorkload({ valueSize: { kind: 'fixed', bytes: 8 } }).valueSize).toEqual({ kind: 'fixed', bytes: 8 });
  });

  it('names the field in errors', () => {
    const err = (v: unknown): string => {
      try {
        parseWorkload(v);
      } catch (e) {
        expect(e).toBeInstanceOf(SchemaError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err({ ycsb: 'G' })).toMatch(/^workload\.ycsb: must be one of/);
    expect(err({ zipfTheta: 1.2 })).toMatch(/^workload\.zipfTheta: must be <= 0\.99/);
    expect(err({ valueSize: { kind: 'lognormal' } })).toMatch(/^workload\.valueSize\.kind/);
    expect(err({ hotShard: { shards: 1 } })).toMatch(/^workload\.hotShard\.shards/);
    expect(err({ ycsb: 'custom', mix: { read: 0, update: 0 } })).toMatch(/^workload\.mix: weights must not all be zero/);
    expect(err({ kind: 'mixed', mixed: { get: 0, put: 0, append: 0, cas: 0 } })).toMatch(/^workload\.mixed/);
    expect(err({ thinktime: 5 })).toMatch(/unknown field/);
  });
});
