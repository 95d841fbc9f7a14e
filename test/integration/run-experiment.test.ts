import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnoseCrash } from '../../src/runner/diagnose-crash.js';
import { localExecutor, runCommand } from '../../src/runner/execute.js';
import { runExperiment, type ExperimentOptions } from '../../src/runner/run-experiment.js';

const bin = fileURLToPath(new URL('../fixtures/bin/', import.meta.url));
const node = JSON.stringify(process.execPath);
const fixture = (name: string): string => `${node} ${JSON.stringify(path.join(bin, name))}`;

describe('runExperiment', () => {
  const dirs: string[] = [];
  const makeDir = (): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'crucible-experiment-'));
    dirs.push(dir);
    return dir;
  };
  const options = (overrides: Partial<ExperimentOptions>): ExperimentOptions => ({
    runCommand: 'true',
    evalCommand: 'true',
    cwd: overrides.cwd ?? makeDir(),
    env: process.env,
    timeoutMs: 10_000,
    killGraceMs: 200,
    metricName: 'score',
    ...overrides,
  });
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the experiment, then reads the metric from the eval output', async () => {
    const cwd = makeDir();
    // A tiny experiment: computes a number, writes it where the eval command finds it.
    const experiment = `${node} -e ${JSON.stringify("require('fs').writeFileSync('out.txt', 'score: ' + (6 * 7) + '\\n')")}`;
    const pgids: number[] = [];
    const tags: string[] = [];
    const result = await runExperiment(
      options({
        cwd,
        runCommand: experiment,
        evalCommand: 'cat out.txt',
        onSpawn: (pgid, tag) => {
          pgids.push(pgid);
          tags.push(tag);
        },
      }),
    );
    expect(result.metric).toEqual({ ok: true, value: 42, line: 'score: 42' });
    expect(result.crashReport).toBe('');
    expect(result.run.exitCode).toBe(0);
    expect(result.eval?.stdout).toBe('score: 42\n');
    expect(pgids).toHaveLength(2);
    expect(tags).toEqual([result.run.processTag, result.eval?.processTag]);
    expect(new Set(tags).size).toBe(2);
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it('reads the first metric line of eval output far longer than the captured tail', async () => {
    // 4 MiB after the metric line: far more than the tail the result keeps.
    const result = await runExperiment(options({ evalCommand: `echo "score: 1.5"; ${fixture('big-output.mjs')} 4; echo "score: 9"` }));
    expect(result.metric).toEqual({ ok: true, value: 1.5, line: 'score: 1.5' });
    expect(result.eval?.stdout.startsWith('score: 1.5')).toBe(false);
  });

  it('reads the metric from the result when an executor does not stream the output', async () => {
    const result = await runExperiment(
      options({
        evalCommand: `${fixture('print-metric.mjs')} score 0.25`,
        executor: { run: (spec, signal) => runCommand({ ...spec, onStdout: undefined }, signal), cancel: localExecutor.cancel },
      }),
    );
    expect(result.metric).toMatchObject({ ok: true, value: 0.25 });
  });

  it('accepts a metric line from an eval command that exits non-zero', async () => {
    const result = await runExperiment(options({ evalCommand: `${fixture('print-metric.mjs')} score 0.5 1` }));
    expect(result.metric).toMatchObject({ ok: true, value: 0.5 });
    expect(result.crashReport).toBe('');
  });

  it('skips the eval when the run command fails and reports why', async () => {
    const cwd = makeDir();
    const result = await runExperiment(
      options({ cwd, runCommand: `${fixture('exit-code.mjs')} 1`, evalCommand: 'touch eval-ran' }),
    );
    expect(result.eval).toBeNull();
    expect(result.metric).toEqual({ ok: false, reason: 'run command exited with code 1' });
    expect(result.crashReport.split('\n')[0]).toBe('run command exited with code 1');
    expect(result.crashReport).toContain('ValueError: bad input');
    expect(diagnoseCrash(result.crashReport).label).toBe('Logic bug');
    expect(() => readFileSync(path.join(cwd, 'eval-ran'))).toThrow();
  });

  it('reports a timeout as too slow', async () => {
    const result = await runExperiment(options({ runCommand: 'sleep 30', timeoutMs: 400 }));
    expect(result.run.timedOut).toBe(true);
    expect(result.eval).toBeNull();
    expect(result.crashReport).toBe('timed out after 0.4s — the change made the experiment too slow');
    expect(diagnoseCrash(result.crashReport).label).toBe('Too slow');
  });

  it('counts the eval command against the same time limit', async () => {
    const started = Date.now();
    const result = await runExperiment(options({ runCommand: 'sleep 0.3', evalCommand: 'sleep 30', timeoutMs: 500 }));
    expect(result.eval?.timedOut).toBe(true);
    // The eval gets at least one second of its own.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1200);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.crashReport.split('\n')[0]).toBe('timed out after 0.5s — the change made the experiment too slow');
  });

  it('reports an eval that fails without a metric, with its stderr', async () => {
    const result = await runExperiment(
      options({ evalCommand: `${fixture('exit-code.mjs')} 2 ${JSON.stringify("ModuleNotFoundError: No module named 'scipy'")}` }),
    );
    expect(result.metric.ok).toBe(false);
    expect(result.crashReport.split('\n')[0]).toBe(
      'eval command exited with code 2: no "score: <number>" line in the eval output',
    );
    expect(result.crashReport).toContain("No module named 'scipy'");
    expect(diagnoseCrash(result.crashReport).label).toBe('Missing module');
  });

  it('reports a metric that is not a number, or NaN', async () => {
    const bad = await runExperiment(options({ evalCommand: 'echo "score: 12abc"' }));
    expect(bad.crashReport.split('\n')[0]).toBe('"score: 12abc" is not a number');
    const nan = await runExperiment(options({ evalCommand: 'echo "score: nan"' }));
    expect(nan.metric).toEqual({ ok: false, reason: 'score is NaN (a crash)' });
  });

  it('finds the traceback in run.log when a tee pipeline hides stderr and the exit code', async () => {
    const cwd = makeDir();
    writeFileSync(
      path.join(cwd, 'evaluate.mjs'),
      "console.log('loading data');\nconsole.error('TypeError: cannot read properties of undefined');\nprocess.exit(1);\n",
    );
    const result = await runExperiment(
      options({
        cwd,
        // The examples' style: everything goes to run.log; the pipeline's status is tee's.
        runCommand: `${node} evaluate.mjs > run.log 2>&1`,
        evalCommand: "grep '^score:' run.log",
      }),
    );
    expect(result.run.exitCode).toBe(1);
    expect(result.crashReport).toContain('loading data');
    expect(result.crashReport).toContain('TypeError: cannot read properties of undefined');

    const teed = await runExperiment(
      options({ cwd, runCommand: `${node} evaluate.mjs 2>&1 | tee run.log > /dev/null`, evalCommand: "grep '^score:' run.log" }),
    );
    expect(teed.run.exitCode).toBe(0);
    expect(teed.crashReport.split('\n')[0]).toBe('eval command exited with code 1: no "score: <number>" line in the eval output');
    expect(teed.crashReport).toContain('--- last lines of run.log ---');
    expect(teed.crashReport).toContain('TypeError: cannot read properties of undefined');
    expect(diagnoseCrash(teed.crashReport).label).toBe('Logic bug');
  });

  it('appends both commands to logPath', async () => {
    const logPath = path.join(makeDir(), 'trial', 'experiment.log');
    await runExperiment(options({ runCommand: 'echo training', evalCommand: 'echo "score: 3"', logPath }));
    expect(readFileSync(logPath, 'utf8')).toBe('training\nscore: 3\n');
  });

  it('stops when canceled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await runExperiment(options({ runCommand: 'sleep 30', signal: controller.signal }));
    expect(result.run.canceled).toBe(true);
    expect(result.eval).toBeNull();
    expect(result.metric).toEqual({ ok: false, reason: 'run command canceled' });
  });
});
