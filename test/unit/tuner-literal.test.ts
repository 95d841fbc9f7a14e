import { describe, expect, it } from 'vitest';
import { findNumericLiterals, formatValue, parseNumber, replaceLiteral } from '../../src/agents/tuner/literal.js';
import { formatDescription, parseDescription } from '../../src/agents/tuner/description.js';

describe('numeric literals', () => {
  it.each([
    ['x = 8', ['8']],
    ['x = -0.5, y = +3', ['-0.5', '+3']],
    ['lr = 1e-3; wd = 2.5E+4', ['1e-3', '2.5E+4']],
    ['n = 1_000_000', ['1_000_000']],
    ['a = 10-3', ['10', '3']],
    ['half = .5; whole = 5.', ['.5', '5.']],
    ['f = 0.5f; l = 10L', ['0.5', '10']],
    ['v2 = x1 + 0x1F + "1.2.3"', []],
    ['width: 8px', []],
  ])('%s', (code, expected) => {
    expect(findNumericLiterals(code).map((l) => l.text)).toEqual(expected);
  });

  it('parses the numbers the tuner writes, and nothing else', () => {
    expect(parseNumber('1_024')).toBe(1024);
    expect(parseNumber('-2e-3')).toBe(-0.002);
    expect(parseNumber('0x10')).toBeNaN();
    expect(parseNumber('')).toBeNaN();
  });
});

describe('formatValue keeps the literal style', () => {
  it.each([
    // [value, original, int, expected]
    [16, '8', true, '16'],
    [15.6, '8', true, '16'],
    [0.02, '0.01', false, '0.02'],
    [0.0123456, '0.01', false, '0.01235'],
    [0.002, '1e-3', false, '2e-3'],
    [0.00025, '1E-3', false, '2.5E-4'],
    [3000, '1e+3', false, '3e+3'],
    [1, '0.9', false, '1.0'],
    [1.5, '1', false, '1.5'],
    [2048, '1_024', true, '2048'],
    [20480, '1_024', true, '20_480'],
    [670908, '10000000', true, '670900'],
    [16, '8.0', true, '16.0'],
    [2000000, '1e6', true, '2e6'],
    [-0.25, '0.5', false, '-0.25'],
    [12345.678, '100.5', false, '12350.0'],
  ])('%s written like %s (int %s) → %s', (value, original, int, expected) => {
    expect(formatValue(value, original, int)).toBe(expected);
  });
});

describe('replaceLiteral', () => {
  it('replaces exactly the literal and keeps the rest of the line', () => {
    const line = 'const CUTOFF = 8; // @tune 2..64 int, was 8';
    expect(replaceLiteral(line, 15, '8', '16')).toBe('const CUTOFF = 16; // @tune 2..64 int, was 8');
    expect(replaceLiteral('lr=1e-3 # @tune 1e-5..1 log', 3, '1e-3', '2e-3')).toBe('lr=2e-3 # @tune 1e-5..1 log');
  });

  it('throws when the line no longer holds the literal there', () => {
    expect(() => replaceLiteral('X = 9 // @tune 1..10', 4, '8', '7')).toThrow(/expected "8" at column 5/);
  });
});

describe('tuner descriptions', () => {
  it('round-trip', () => {
    const description = formatDescription([
      { name: 'INSERTION_CUTOFF', from: 8, to: 16, fromText: '8', toText: '16' },
      { name: 'LEARNING_RATE', from: 0.01, to: 0.02, fromText: '0.01', toText: '0.02' },
    ]);
    expect(description).toBe('INSERTION_CUTOFF 8 → 16, LEARNING_RATE 0.01 → 0.02');
    expect(parseDescription(description)).toEqual([
      { name: 'INSERTION_CUTOFF', from: 8, to: 16 },
      { name: 'LEARNING_RATE', from: 0.01, to: 0.02 },
    ]);
  });

  it.each(['baseline', 'Use a faster sort', 'X 8 → 16, and more', '', 'X a → b'])('do not parse %j', (text) => {
    expect(parseDescription(text)).toBeNull();
  });

  it('accept an ASCII arrow and "_" groups', () => {
    expect(parseDescription('src/a.js:N 1_000 -> 2e3')).toEqual([{ name: 'src/a.js:N', from: 1000, to: 2000 }]);
  });
});
