import { describe, expect, it } from 'vitest';
import { MetricScanner } from '../../src/runner/metric-scanner.js';
import { maxMetricLineBytes, parseMetric, parsePythonFloat, type MetricParse } from '../../src/runner/parse-metric.js';

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

describe('parseMetric and long lines', () => {
  it('skips a line longer than the cap, even one that starts like the metric', () => {
    const long = `score: 1${'0'.repeat(maxMetricLineBytes)}`;
    expect(parseMetric(`${long}\nscore: 2\n`, 'score')).toMatchObject({ ok: true, value: 2 });
    expect(parseMetric(long, 'score')).toEqual({ ok: false, reason: 'no "score: <number>" line in the eval output' });
  });

  it('reads a metric line padded up to the cap', () => {
    const padded = `score: 5${' '.repeat(maxMetricLineBytes - 'score: 5'.length)}`;
    expect(parseMetric(`${padded}\n`, 'score')).toMatchObject({ ok: true, value: 5 });
  });
});

/** Feeds `output` to a scanner in pieces of `size` bytes (split inside characters too). */
function scan(output: string, name: string, size: number): MetricParse {
  const scanner = new MetricScanner(name);
  const bytes = Buffer.from(output);
  for (let at = 0; at < bytes.length; at += size) scanner.push(bytes.subarray(at, at + size));
  return scanner.finish();
}

describe('MetricScanner', () => {
  const outputs = [
    '',
    '\n\n\n',
    'score: 1',
    'score: 1\n',
    'epoch 1\nloss: 0.25\nscore: 0.5\ndone\n',
    'score: 1\nscore: 2\n',
    'best score: 9\n  score: 8\nscore: 7\n',
    'my_score: 9\nscore:\n42\n',
    'a\r\nscore:3.5\r\nb\r\n',
    'scor\nscore\nscore:: 1\nscore: 4\n',
    'sscore: 1\nscore: x\nscore: 2\n',
    'score: nan\nscore: 1\n',
    'ünïcödé ✓\nscore: 6 \n',
    'x\nscore: 1e3',
    `${'y'.repeat(70_000)}\nscore: 3\n`,
    `score: 1${'0'.repeat(70_000)}\nscore: 8\n`,
  ];
  const sizes = [1, 2, 3, 5, 7, 64, 65_536];

  it.each(outputs.map((output) => [output.length > 60 ? `${output.slice(0, 40)}… (${output.length} chars)` : output, output]))(
    'reads %j as parseMetric does, however the output is cut',
    (_label, output) => {
      const expected = parseMetric(output, 'score');
      for (const size of sizes) expect(scan(output, 'score', size)).toEqual(expected);
    },
  );

  it('matches names with regular-expression characters literally', () => {
    expect(scan('valxloss: 1\nval.loss: 2\n', 'val.loss', 3)).toMatchObject({ ok: true, value: 2 });
  });

  it('holds no more than the cap while reading a line without end', () => {
    for (const start of ['score: 1', 'noise']) {
      const scanner = new MetricScanner('score');
      scanner.push(Buffer.from(start));
      const block = Buffer.alloc(1 << 20, '7');
      let most = 0;
      for (let i = 0; i < 100; i += 1) {
        scanner.push(block);
        most = Math.max(most, scanner.bytesHeld);
      }
      scanner.push(Buffer.from('\nscore: 9\n'));
      expect(most).toBeLessThanOrEqual(maxMetricLineBytes);
      expect(scanner.bytesSeen).toBe(start.length + 100 * (1 << 20) + 10);
      expect(scanner.finish()).toMatchObject({ ok: true, value: 9 });
    }
  });

  it('keeps the first metric line and ignores everything after it', () => {
    const scanner = new MetricScanner('score');
    scanner.push(Buffer.from('score: 1\n'));
    scanner.push(Buffer.from('score: 2\n'));
    expect(scanner.finish()).toEqual({ ok: true, value: 1, line: 'score: 1' });
  });
});
