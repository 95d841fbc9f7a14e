import { describe, expect, it } from 'vitest';
import { aggregate, largest, smallest, studentTCdf, summarize, type Aggregate } from '../../src/core/statistics.js';

describe('summarize', () => {
  it.each([
    { values: [], expected: null },
    { values: [Number.NaN, Number.POSITIVE_INFINITY], expected: null },
    { values: [5], expected: { n: 1, mean: 5, sd: null, cv: null, min: 5, max: 5, median: 5 } },
    { values: [2, 4, 4, 4, 5, 5, 7, 9], expected: { n: 8, mean: 5, sd: Math.sqrt(32 / 7), cv: Math.sqrt(32 / 7) / 5, min: 2, max: 9, median: 4.5 } },
    { values: [3, 3, 3], expected: { n: 3, mean: 3, sd: 0, cv: 0, min: 3, max: 3, median: 3 } },
    { values: [-1, 1], expected: { n: 2, mean: 0, sd: Math.SQRT2, cv: null, min: -1, max: 1, median: 0 } },
    { values: [1, Number.NaN, 3], expected: { n: 2, mean: 2, sd: Math.SQRT2, cv: Math.SQRT2 / 2, min: 1, max: 3, median: 2 } },
  ])('$values', ({ values, expected }) => {
    const summary = summarize(values);
    if (expected === null) return expect(summary).toBeNull();
    expect(summary).not.toBeNull();
    for (const [key, value] of Object.entries(expected)) {
      if (value === null) expect(summary![key as keyof typeof summary]).toBeNull();
      else expect(summary![key as keyof typeof summary]).toBeCloseTo(value, 12);
    }
  });

  it('calls equal values a spread of exactly 0, however the sum rounds (a deterministic metric is not noisy)', () => {
    // Summed and divided, three 0.8747s make 0.8747000000000001: an sd of 1e-16 turned confirmation on.
    const summary = summarize([0.8747, 0.8747, 0.8747])!;
    expect(summary.sd).toBe(0);
    expect(summary.mean).toBe(0.8747);
    expect(summary.cv).toBe(0);
  });

  it('keeps a tiny spread around a large mean', () => {
    expect(summarize([1e6, 1e6 + 1e-6, 1e6 + 2e-6])!.sd).toBeCloseTo(1e-6, 9);
  });
});

describe('aggregate', () => {
  const values = [3, 1, 10, 2];
  it.each<[Aggregate, number]>([
    ['median', 2.5],
    ['mean', 4],
    ['min', 1],
    ['max', 10],
  ])('%s', (how, expected) => expect(aggregate(values, how)).toBe(expected));

  it('skips non-finite values and is NaN without any', () => {
    expect(aggregate([Number.NaN, 4, 6], 'median')).toBe(5);
    expect(aggregate([Number.NaN], 'mean')).toBeNaN();
    expect(aggregate([], 'max')).toBeNaN();
  });
});

describe('studentTCdf', () => {
  // Reference values from R: pt(t, df).
  it.each([
    [0, 3, 0.5],
    [2.015048, 5, 0.95],
    [-2.015048, 5, 0.05],
    [6.313752, 1, 0.95],
    [2.919986, 2, 0.95],
    [1.644854, Number.POSITIVE_INFINITY, 0.95],
    [3.364930, 5, 0.99],
    [1.959964, Number.POSITIVE_INFINITY, 0.975],
    [1.959964, 1e7, 0.975],
  ])('pt(%f, %f) = %f', (t, df, p) => expect(studentTCdf(t, df)).toBeCloseTo(p, 5));

  it('is NaN for nonsense and exact at the infinities', () => {
    expect(studentTCdf(Number.NaN, 3)).toBeNaN();
    expect(studentTCdf(1, 0)).toBeNaN();
    expect(studentTCdf(Number.POSITIVE_INFINITY, 2)).toBe(1);
    expect(studentTCdf(Number.NEGATIVE_INFINITY, 2)).toBe(0);
  });
});

describe('largest and smallest', () => {
  it('mean what Math.max and Math.min mean, for a list of any length', () => {
    expect([largest([]), smallest([])]).toEqual([-Infinity, Infinity]);
    expect([largest([3, -1, 2]), smallest([3, -1, 2])]).toEqual([3, -1]);
    expect([largest([1, NaN, 2]), smallest([1, NaN, 2])]).toEqual([NaN, NaN]);
    // 200,000 values: spread into Math.max, they overflowed the stack.
    const many = Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 200_003);
    expect([largest(many), smallest(many)]).toEqual([many.reduce((a, b) => (b > a ? b : a)), 0]);
    expect(summarize(many)).toMatchObject({ n: 200_000, min: 0 });
    expect(aggregate(many, 'max')).toBe(largest(many));
  });
});
