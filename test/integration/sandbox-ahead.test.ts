import { mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localExecutor } from '../../src/runner/execute.js';
import { endWaitingSandboxes } from '../../src/runner/experiment-sandbox.js';
import { runExperiment, type ExperimentResult } from '../../src/runner/run-experiment.js';
import { experimentSandbox, sandboxedExecutor } from '../../src/sandbox/run-sandbox.js';
import { sandboxSupport, skipReason } from '../helpers/sandbox.js';

/**
 * Decisions 54: once an experiment has run in a folder, the sandbox for the next one there starts
 * at once and waits, so that its setup is done before that experiment starts. The run below
 * reports how long its sandbox had existed when it started (PID 1's start time inside).
 */

let dir: string | undefined;
afterEach(() => {
  endWaitingSandboxes();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

// Seconds since the sandbox's first process started, and the trial this experiment was given.
const REPORT = `echo "$(awk -v t="$(getconf CLK_TCK)" -v up="$(cut -d' ' -f1 /proc/uptime)" '{ printf "%.2f", up - $22 / t }' /proc/1/stat) $CRUCIBLE_TRIAL $OTHER" > report.txt`;

function experiment(cwd: string, env: Record<string, string>): Promise<ExperimentResult> {
  if (!sandboxSupport.ok) throw new Error('no sandbox');
  const wrap = experimentSandbox({ on: true, bwrap: sandboxSupport.bwrap, why: '' }, { enabled: true, writable: [], network: false, agent_writable: [], agent_network: true }, { projectDir: cwd, readonly: [], env: process.env });
  return runExperiment({
    runCommand: REPORT,
    evalCommand: 'echo "loss: 1"',
    cwd,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    timeoutMs: 20_000,
    metricName: 'loss',
    executor: sandboxedExecutor(localExecutor, wrap),
  });
}

/** [age of the sandbox in seconds when the run started, CRUCIBLE_TRIAL, OTHER]. */
function report(cwd: string): [number, string, string] {
  const [age, trial, other] = readFileSync(path.join(cwd, 'report.txt'), 'utf8').trim().split(' ');
  return [Number(age), trial ?? '', other ?? ''];
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!sandboxSupport.ok)(`a sandbox started ahead of the next experiment${skipReason}`, () => {
  it('serves the next experiment in the folder, with that experiment’s own variables', async () => {
    dir = realpathSync(mkdtempSync(path.join('/var/tmp', 'crucible-ahead-')));
    expect((await experiment(dir, { CRUCIBLE_TRIAL: '1', OTHER: 'x' })).metric.ok).toBe(true);
    expect(report(dir)[0]).toBeLessThan(1);
    await pause(1500);
    expect((await experiment(dir, { CRUCIBLE_TRIAL: '2', OTHER: 'x' })).metric.ok).toBe(true);
    const [age, trial, other] = report(dir);
    expect(age).toBeGreaterThanOrEqual(1.2);
    expect([trial, other]).toEqual(['2', 'x']);
  });

  it('is not used for another environment, nor when the folder was replaced, nor after the run ended', async () => {
    dir = realpathSync(mkdtempSync(path.join('/var/tmp', 'crucible-ahead-')));
    const cwd = path.join(dir, 'project');
    mkdirSync(cwd);
    await experiment(cwd, { CRUCIBLE_TRIAL: '1', OTHER: 'x' });
    await pause(1500);
    // Only crucible's own variables may change between experiments in one sandbox.
    await experiment(cwd, { CRUCIBLE_TRIAL: '2', OTHER: 'y' });
    expect(report(cwd)).toEqual([expect.any(Number), '2', 'y']);
    expect(report(cwd)[0]).toBeLessThan(1);

    // The folder moved away and a new one in its place: the waiting sandbox binds the old one.
    await pause(1500);
    renameSync(cwd, path.join(dir, 'old'));
    mkdirSync(cwd);
    await experiment(cwd, { CRUCIBLE_TRIAL: '3', OTHER: 'y' });
    expect(report(cwd)[0]).toBeLessThan(1);

    // A run's end ends what waits.
    await pause(1500);
    endWaitingSandboxes();
    await experiment(cwd, { CRUCIBLE_TRIAL: '4', OTHER: 'y' });
    expect(report(cwd)[0]).toBeLessThan(1);
  });
});
