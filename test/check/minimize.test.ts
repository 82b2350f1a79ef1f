import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { minimizeFailing } from '../../src/check/minimize.js';

describe('minimizeFailing', () => {
  it('finds the single culprit', () => {
    expect(minimizeFailing([1, 2, 3, 4, 5, 6, 7], (s) => s.includes(5))).toEqual([5]);
  });

  it('keeps every element a failure needs', () => {
    expect(minimizeFailing([1, 2, 3, 4, 5, 6, 7, 8], (s) => s.includes(2) && s.includes(7))).toEqual([2, 7]);
  });

  it('returns a 1-minimal set for any failure predicate closed under nothing in particular', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 60 }), (items, threshold) => {
        // Fails when the sum is large and the count is odd: not monotone under removal.
        const fails = (s: readonly number[]): boolean => s.reduce((a, b) => a + b, 0) >= threshold && s.length % 2 === 1;
        fc.pre(fails(items));
        const m = minimizeFailing(items, fails);
        expect(fails(m)).toBe(true);
        for (let i = 0; i < m.length; i++) expect(fails(m.filter((_, j) => j !== i))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('removal cascades to dependents, and the result stays closed', () => {
    // Item i depends on item i-1 (removing 0 removes everything).
    const items = [0, 1, 2, 3, 4];
    const dependents = (i: number): number[] => (i + 1 < items.length ? [i + 1] : []);
    const m = minimizeFailing(items, (s) => s.includes(2), dependents);
    expect(m).toEqual([0, 1, 2]);
  });
});
