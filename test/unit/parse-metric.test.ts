import { describe, expect, it } from 'vitest';
import { parseMetric, parsePythonFloat } from '../../src/runner/parse-metric.js';

describe('parsePythonFloat', () => {
  it.each([
    ['42', 42],
    ['-3.5', -3.5],
    ['+5', 5],
    ['1e3', 1000],
    ['1E-2', 0.01],
    ['2.5e+2', 250],
    ['.5', 0.5],
    ['5.', 5],
    ['1_000', 1000],
    ['1_000.000_1', 1000.0001],
    ['1e1_0', 1e10],
    ['  7.25  ', 7.25],
    ['\t8\t', 8],
    ['inf', Infinity],
    ['-Infinity', -Infinity],
    ['+INF', Infinity],
  ])('reads %j as %d', (text, value) => {
    expect(parsePythonFloat(text)).toBe(value);
  });

  it.each(['nan', 'NaN', '-nan'])('reads %j as NaN', (text) => {
    expect(parsePythonFloat(text)).toBeNaN();
  });

  it.each(['', '   ', '0.95 (best)', '0x10', '1__0', '_1', '1_', '1._5', '1_.5', '12abc', 'e5', '1e', '.', '--1', 'infinit', 'in f', '1,5', 'Infinity!'])(
    'refuses %j',
    (text) => {
      expect(parsePythonFloat(text)).toBeNull();
    },
  );
});

describe('parseMetric', () => {
  it('reads the value from a "name: value" line among other output', () => {
    expect(parseMetric('epoch 1\nloss: 0.25\ndone\n', 'loss')).toEqual({ ok: true, value: 0.25, line: 'loss: 0.25' });
  });

  it('takes the first matching line', () => {
    expect(parseMetric('score: 1\nscore: 2\n', 'score')).toMatchObject({ ok: true, value: 1 });
  });

  it('tolerates CRLF line ends and no space after the colon', () => {
    expect(parseMetric('a\r\nscore:3.5\r\nb\r\n', 'score')).toEqual({ ok: true, value: 3.5, line: 'score:3.5' });
  });

  it('needs the name at the start of a line', () => {
    expect(parseMetric('best score: 9\n  score: 8\nscore: 7\n', 'score')).toMatchObject({ ok: true, value: 7 });
    expect(parseMetric('my_score: 9\n', 'score')).toEqual({
      ok: false,
      reason: 'no "score: <number>" line in the eval output',
    });
  });

  it('matches names with regular-expression characters literally', () => {
    expect(parseMetric('valxloss: 1\nval.loss: 2\n', 'val.loss')).toMatchObject({ ok: true, value: 2 });
    expect(parseMetric('aab: 1\na+b: 3\n', 'a+b')).toMatchObject({ ok: true, value: 3 });
    expect(parseMetric('x(1): 4\n', 'x(1)')).toMatchObject({ ok: true, value: 4 });
  });

  it('does not look for the value on the next line', () => {
    expect(parseMetric('score:\n42\n', 'score')).toEqual({ ok: false, reason: '"score:" is not a number' });
  });

  it('says which line is not a number', () => {
    expect(parseMetric('ops_per_sec: 12abc\n', 'ops_per_sec')).toEqual({
      ok: false,
      reason: '"ops_per_sec: 12abc" is not a number',
    });
    expect(parseMetric('acc: 0.95 (best)\n', 'acc')).toEqual({ ok: false, reason: '"acc: 0.95 (best)" is not a number' });
  });

  it('refuses NaN and infinities as crashes', () => {
    expect(parseMetric('loss: nan\n', 'loss')).toEqual({ ok: false, reason: 'loss is NaN (a crash)' });
    expect(parseMetric('loss: inf\n', 'loss')).toEqual({ ok: false, reason: 'loss is inf (a crash)' });
    expect(parseMetric('loss: -Infinity\n', 'loss')).toEqual({ ok: false, reason: 'loss is -inf (a crash)' });
  });

  it('reports a missing metric on empty output', () => {
    expect(parseMetric('', 'ops_per_sec')).toEqual({
      ok: false,
      reason: 'no "ops_per_sec: <number>" line in the eval output',
    });
  });

  it('gives every reason on one line', () => {
    for (const output of ['', 'x: 1\n', 'x: abc\n', 'x: nan\n']) {
      const parsed = parseMetric(output, 'x');
      if (!parsed.ok) expect(parsed.reason).not.toContain('\n');
    }
  });
});
