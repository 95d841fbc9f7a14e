import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runExperiment, type ExperimentOptions, type ExperimentResult } from '../../src/runner/run-experiment.js';

/**
 * Issue 7, class 3 (eval output): the first `name: value` line wins however much the eval command
 * prints before or after it, and no output costs more than a bounded amount of memory or time.
 */

const node = JSON.stringify(process.execPath);

// Prints the parts of parts.json on stdout with back-pressure: ["lines", MiB] short lines,
// ["giant", MiB] one line of that size without a newline, ["text", s] s as is.
const PRINTER = `
const parts = JSON.parse(require('fs').readFileSync('parts.json', 'utf8'));
const short = 'progress 0.123 loss 4.56\\n'.repeat(40000);
const giant = 'y'.repeat(1 << 20);
let i = 0;
let left = null;
function pump() {
  while (i < parts.length) {
    const [kind, arg] = parts[i];
    if (kind === 'text') { i += 1; if (!process.stdout.write(arg)) return process.stdout.once('drain', pump); continue; }
    const block = kind === 'lines' ? short : giant;
    if (left === null) left = Math.ceil((arg * (1 << 20)) / block.length);
    while (left > 0) {
      left -= 1;
      if (!process.stdout.write(block)) return process.stdout.once('drain', pump);
    }
    left = null;
    i += 1;
  }
}
pump();
`;

describe('hostile eval output', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const experiment = (parts: [string, string | number][], overrides: Partial<ExperimentOptions> = {}): Promise<ExperimentResult> => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'crucible-hostile-eval-'));
    dirs.push(cwd);
    writeFileSync(path.join(cwd, 'printer.cjs'), PRINTER);
    writeFileSync(path.join(cwd, 'parts.json'), JSON.stringify(parts));
    return runExperiment({
      runCommand: 'true',
      evalCommand: `${node} printer.cjs`,
      cwd,
      env: process.env,
      timeoutMs: 120_000,
      killGraceMs: 200,
      metricName: 'score',
      ...overrides,
    });
  };

  it('reads the metric between 50 MB of output before it and 50 MB after it', async () => {
    const result = await experiment([
      ['lines', 50],
      ['text', 'score: 0.75\n'],
      ['lines', 50],
      ['text', 'score: 999\n'],
    ]);
    expect(result.metric).toEqual({ ok: true, value: 0.75, line: 'score: 0.75' });
    expect(result.crashReport).toBe('');
  }, 120_000);

  it('reads the metric printed before a 60 MB line that never ends', async () => {
    const result = await experiment([
      ['text', 'score: 3\n'],
      ['giant', 60],
    ]);
    expect(result.metric).toMatchObject({ ok: true, value: 3 });
  }, 120_000);

  it('reads the metric printed after a 60 MB line, and skips a 60 MB line that starts like a metric', async () => {
    const result = await experiment([
      ['giant', 60],
      ['text', '\nscore: 1'],
      ['giant', 60],
      ['text', '\nscore: 4\r\nscore: 5\n'],
      ['lines', 10],
    ]);
    expect(result.metric).toEqual({ ok: true, value: 4, line: 'score: 4' });
  }, 120_000);

  it('says clearly that there is no metric in 60 MB of one line without a newline', async () => {
    const result = await experiment([['giant', 60]]);
    expect(result.metric).toEqual({ ok: false, reason: 'no "score: <number>" line in the eval output' });
    expect(result.crashReport.length).toBeLessThanOrEqual(4096);
  }, 120_000);

  it('writes the crash report of 4 MB of blank output in bounded time', async () => {
    // A crash report used to trim trailing whitespace with /\s+$/, quadratic in the output kept.
    const result = await experiment([['text', `${' '.repeat(4 << 20)}x`]], { evalCommand: `${node} printer.cjs; exit 1` });
    expect(result.metric.ok).toBe(false);
    expect(result.durationMs).toBeLessThan(20_000);
  }, 60_000);
});
