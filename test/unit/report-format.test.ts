import { describe, expect, it } from 'vitest';
import { formatCost, formatDuration, formatMetric, formatPercent } from '../../src/report/format.js';
import { measureWidth, truncateToWidth } from '../../src/report/text-width.js';

describe('formatMetric', () => {
  it.each([
    [null, '-'],
    [142000, '142000'],
    [7, '7'],
    [0, '0'],
    [-0, '0'],
    [-5, '-5'],
    [0.5, '0.5'],
    [0.9979, '0.9979'],
    [3.14159265, '3.14159'],
    [0.000123456789, '0.000123457'],
    [0.0000015, '1.5e-6'],
    [-2.5e-7, '-2.5e-7'],
    [1234567.5, '1.23457e+6'],
    [1e20, '1e+20'],
    [98765.4321, '98765.4'],
    [1.1, '1.1'],
  ])('%s → %s', (value, expected) => {
    expect(formatMetric(value)).toBe(expected);
  });
});

describe('formatPercent', () => {
  it.each([
    [null, '-'],
    [44.89795, '+44.9%'],
    [-3.21, '-3.2%'],
    [0, '0.0%'],
    [0.04, '+0.04%'],
    [-0.0004, '-0.0004%'],
    [250, '+250.0%'],
  ])('%s → %s', (value, expected) => {
    expect(formatPercent(value)).toBe(expected);
  });
});

describe('formatDuration and formatCost', () => {
  it.each([
    [0, '0s'],
    [42.4, '42s'],
    [312, '5m 12s'],
    [11040, '3h 04m'],
  ])('duration %s → %s', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });

  it.each([
    [0, '$0.00'],
    [1.234, '$1.23'],
    [0.004, '$0.004'],
  ])('cost %s → %s', (usd, expected) => {
    expect(formatCost(usd)).toBe(expected);
  });
});

describe('terminal widths', () => {
  it('counts wide characters as two columns and cuts with an ellipsis', () => {
    expect(measureWidth('abc')).toBe(3);
    expect(measureWidth('排序法')).toBe(6);
    expect(truncateToWidth('switch to radix sort', 10)).toBe('switch to…');
    expect(truncateToWidth('改用基數排序法', 7)).toBe('改用基…');
    expect(measureWidth(truncateToWidth('改用基數排序法', 7))).toBeLessThanOrEqual(7);
    expect(truncateToWidth('short', 10)).toBe('short');
  });

  it('never splits a surrogate pair', () => {
    expect(truncateToWidth('🚀🚀🚀🚀', 5)).toBe('🚀🚀…');
  });
});
