import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { localExecutor } from '../../src/runner/execute.js';
import { runExperiment, type ExperimentResult } from '../../src/runner/run-experiment.js';
import type { ExecutionHandle } from '../../src/runner/types.js';
import { experimentSandbox, sandboxedExecutor } from '../../src/sandbox/run-sandbox.js';
import { killRunning, pidsRunning, sandboxSupport, skipReason } from '../helpers/sandbox.js';

/**
 * Decisions 54: an experiment's run and eval commands share one sandbox, run one after the other
 * by a shell that is the sandbox's first process. The run is the agent's code; nothing it does may
 * reach the eval: not through that shell, not through what it leaves running, not through the
 * sandbox's private folders. Each test below was seen failing with the guard it names removed.
 */

const DAEMON = `sleep 978.${process.pid}`;
let dir: string | undefined;

afterEach(() => {
  killRunning(DAEMON);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A project folder outside /tmp (the sandbox's /tmp is its own), the experiment's working folder. */
function folder(): string {
  dir = realpathSync(mkdtempSync(path.join('/var/tmp', 'crucible-one-sandbox-')));
  return dir;
}

function experiment(cwd: string, run: string, evalCommand: string, options: { timeoutMs?: number; signal?: AbortSignal; starts?: ExecutionHandle[]; path?: string } = {}): Promise<ExperimentResult> {
  if (!sandboxSupport.ok) throw new Error('no sandbox');
  const wrap = experimentSandbox({ on: true, bwrap: sandboxSupport.bwrap, why: '' }, { enabled: true, writable: [], network: false, agent_writable: [], agent_network: true }, { projectDir: cwd, readonly: [], env: process.env });
  return runExperiment({
    runCommand: run,
    evalCommand,
    cwd,
    env: { PATH: options.path ?? process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/' },
    timeoutMs: options.timeoutMs ?? 20_000,
    metricName: 'loss',
    killGraceMs: 400,
    executor: sandboxedExecutor(localExecutor, wrap),
    onStart: (handle) => options.starts?.push(handle),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

describe.skipIf(!sandboxSupport.ok)(`an experiment's two commands in one sandbox${skipReason}`, () => {
  it('runs the run command, then the eval command, in one sandbox, and reads the metric from the eval alone', async () => {
    const cwd = folder();
    const starts: ExecutionHandle[] = [];
    const result = await experiment(cwd, 'echo "loss: 0"; echo run-err >&2; echo $$ > run.pid', 'echo "loss: 5"; echo eval-err >&2; echo $$ > eval.pid', { starts });
    expect(result.metric).toMatchObject({ ok: true, value: 5 });
    expect(result.run).toMatchObject({ exitCode: 0, stdout: 'loss: 0\n', stderr: 'run-err\n' });
    expect(result.eval).toMatchObject({ exitCode: 0, stdout: 'loss: 5\n', stderr: 'eval-err\n' });
    // Both started, each recorded before it ran, under one handle: one sandbox, one process group.
    expect(starts).toHaveLength(2);
    expect(starts[1]).toEqual(starts[0]);
    // Inside it, the shell that runs them is process 1, and each command its child.
    expect(readFileSync(path.join(cwd, 'run.pid'), 'utf8').trim()).not.toBe('1');
  });

  it('the run cannot take over the shell that starts the eval: its memory, descriptors and environment are closed to it', async () => {
    const cwd = folder();
    const attempts = [
      '(exec 7<>/proc/1/mem) 2>/dev/null && echo mem-open',
      'cat /proc/1/environ >/dev/null 2>&1 && echo environ-read',
      'for f in /proc/1/fd/*; do (echo "loss: 0" > "$f") 2>/dev/null && echo "fd-open $f"; done',
      'kill -9 1 2>/dev/null; kill -STOP 1 2>/dev/null; true',
    ].join('\n');
    const result = await experiment(cwd, `{ ${attempts}\n} > attempts.txt`, 'echo "loss: 5"');
    expect(readFileSync(path.join(cwd, 'attempts.txt'), 'utf8')).toBe('');
    expect(result.metric).toMatchObject({ ok: true, value: 5 });
  });

  it('nothing the run leaves running lives on into the eval', async () => {
    const cwd = folder();
    const daemon = `setsid sh -c 'exec ${DAEMON}' </dev/null >/dev/null 2>&1 & setsid sh -c 'sleep 0.3; touch late' </dev/null >/dev/null 2>&1 & exit 0`;
    const result = await experiment(cwd, daemon, `sleep 0.6; ps -e -o args= | grep -c '^sleep 978'; echo "loss: 1"`);
    expect(result.metric).toMatchObject({ ok: true, value: 1 });
    expect(existsSync(path.join(cwd, 'late'))).toBe(false);
    // Nor does the eval see the daemon: it was ended before the eval started.
    expect(result.eval?.stdout).toBe('0\nloss: 1\n');
  });

  it("the eval starts with an empty /tmp and /dev/shm, and /run as the sandbox made it, whatever the run left there", async () => {
    const cwd = folder();
    const list = 'ls -A /tmp /dev/shm /run';
    const clean = await experiment(cwd, 'true', `${list}; echo "loss: 1"`);
    const planted = await experiment(cwd, 'touch /tmp/a /tmp/.b /tmp/..c /dev/shm/d /run/e; mkdir -p /tmp/f/g; ln -s /nowhere /tmp/h', `${list}; echo "loss: 1"`);
    expect(planted.metric).toMatchObject({ ok: true, value: 1 });
    expect(planted.eval?.stdout).toBe(clean.eval?.stdout);
    expect(planted.eval?.stdout).not.toMatch(/\b(a|d|e|f|h)\n/);

    // An experiment whose PATH has no rm: the private folders are emptied all the same.
    const noRm = await experiment(cwd, '/usr/bin/touch /tmp/a /dev/shm/d', `/bin/ls -A /tmp /dev/shm /run; echo "loss: 1"`, { path: '/nonexistent' });
    expect(noRm.eval?.stdout).toBe(clean.eval?.stdout);
  });

  it("an `rm` the run put first on PATH, which the cleanup then starts, gets none of the shell's descriptors: it cannot write the eval's output, tell crucible a status or read its steps", async () => {
    const cwd = folder();
    // Started by the cleanup after the run, it tries every descriptor the shell holds.
    const rm = ['#!/bin/sh', 'echo "loss: 0" >&3; echo "forged" >&4; echo "eval 0" >&5; echo "loss: 0" >&7; echo "loss: 0" >&6', 'read -r stolen; echo "$stolen" > "$(dirname "$0")/stolen"', 'exec /bin/rm "$@"', ''].join('\n');
    const plant = `mkdir -p bin && printf '%s' '${rm.replace(/'/g, "'\\''")}' > bin/rm && chmod +x bin/rm && touch /tmp/left`;
    const result = await experiment(cwd, plant, 'echo "loss: 5"', { path: `${cwd}/bin:/usr/bin:/bin` });
    expect(result.metric).toMatchObject({ ok: true, value: 5 });
    expect(result.eval).toMatchObject({ exitCode: 0, stdout: 'loss: 5\n', stderr: '' });
    expect(result.run.stdout).toBe('');
    // It ran (the cleanup started it), and read nothing of crucible's.
    expect(readFileSync(path.join(cwd, 'bin', 'stolen'), 'utf8')).toBe('\n');
  });

  it('runs no eval after a failed run, and each command keeps its own error output', async () => {
    const cwd = folder();
    const failed = await experiment(cwd, 'echo oops >&2; exit 3', 'touch evaluated; echo "loss: 1"');
    expect(failed.metric).toMatchObject({ ok: false, reason: 'run command exited with code 3' });
    expect(failed.eval).toBeNull();
    expect(existsSync(path.join(cwd, 'evaluated'))).toBe(false);
    expect(failed.run.stderr).toBe('oops\n');

    // A command killed by a signal: the shell's report of it ("Killed") is nobody's output.
    const killed = await experiment(cwd, 'kill -9 $$', 'echo "loss: 1"');
    expect(killed.run).toMatchObject({ exitCode: 137, stderr: '' });
    const evalKilled = await experiment(cwd, 'true', 'echo "loss: 1"; kill -9 $$');
    expect(evalKilled.metric).toMatchObject({ ok: true, value: 1 });
    expect(evalKilled.eval).toMatchObject({ exitCode: 137, stderr: '' });
  });

  it('gives the run its grace at the timeout, then runs no eval', async () => {
    const cwd = folder();
    const run = `trap 'echo saved > saved.txt; exit 0' TERM; while :; do sleep 0.05; done`;
    const result = await experiment(cwd, run, 'touch evaluated; echo "loss: 1"', { timeoutMs: 700 });
    expect(result.run.timedOut).toBe(true);
    expect(result.metric).toMatchObject({ ok: false });
    expect(result.metric.ok === false && result.metric.reason).toMatch(/timed out after 0\.7s/);
    expect(readFileSync(path.join(cwd, 'saved.txt'), 'utf8')).toBe('saved\n');
    expect(existsSync(path.join(cwd, 'evaluated'))).toBe(false);
  });

  it('gives what a compound command started the same grace: a pipeline, the first of a list, on a timeout and on a cancel', async () => {
    const cwd = folder();
    // A trainer that takes 0.3 s to save at SIGTERM, not the command's last or only process: the
    // command's own shell ends at SIGTERM at once, and the sandbox's first process used to end
    // everything left with it.
    const trainer = (file: string) => `sh -c "trap 'sleep 0.3; echo saved > ${file}; exit 0' TERM; while :; do sleep 0.05; done"`;
    const piped = await experiment(cwd, `${trainer('run-saved')} | cat`, 'touch evaluated; echo "loss: 1"', { timeoutMs: 700 });
    expect(piped.run.timedOut).toBe(true);
    expect(readFileSync(path.join(cwd, 'run-saved'), 'utf8')).toBe('saved\n');
    expect(existsSync(path.join(cwd, 'evaluated'))).toBe(false);

    const evalFirst = await experiment(cwd, 'true', `${trainer('eval-saved')}; echo "loss: 1"`, { timeoutMs: 1500 });
    expect(evalFirst.eval?.timedOut).toBe(true);
    expect(readFileSync(path.join(cwd, 'eval-saved'), 'utf8')).toBe('saved\n');

    const controller = new AbortController();
    const canceling = experiment(cwd, `${trainer('cancel-saved')}; true`, 'echo "loss: 1"', { signal: controller.signal });
    setTimeout(() => controller.abort(), 600);
    expect((await canceling).run.canceled).toBe(true);
    expect(readFileSync(path.join(cwd, 'cancel-saved'), 'utf8')).toBe('saved\n');

    // What ignores SIGTERM is still ended by the SIGKILL after the grace (400 ms here).
    const stubborn = await experiment(cwd, `sh -c "trap '' TERM; while :; do ${DAEMON}; done" | cat`, 'echo "loss: 1"', { timeoutMs: 500 });
    expect(stubborn.run.timedOut).toBe(true);
    expect(stubborn.durationMs).toBeLessThan(5000);
    expect(pidsRunning(DAEMON)).toEqual([]);
  });

  it('times the eval out with what the run left of the limit, and cancels either command', async () => {
    const cwd = folder();
    const slowEval = await experiment(cwd, 'sleep 0.3', 'sleep 30', { timeoutMs: 1500 });
    expect(slowEval.run).toMatchObject({ exitCode: 0, timedOut: false });
    expect(slowEval.eval?.timedOut).toBe(true);
    expect(slowEval.durationMs).toBeLessThan(10_000);

    const controller = new AbortController();
    const canceledEval = experiment(cwd, 'true', 'sleep 30', { signal: controller.signal });
    setTimeout(() => controller.abort(), 600);
    const canceled = await canceledEval;
    expect(canceled.eval?.canceled).toBe(true);
    expect(canceled.metric).toMatchObject({ ok: false, reason: 'eval command canceled' });

    const early = new AbortController();
    early.abort();
    const never = await experiment(cwd, 'touch ran', 'echo "loss: 1"', { signal: early.signal });
    expect(never.run.canceled).toBe(true);
    expect(existsSync(path.join(cwd, 'ran'))).toBe(false);
  });
});
