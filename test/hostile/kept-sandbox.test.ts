import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localExecutor } from '../../src/runner/execute.js';
import { runExperiment, type ExperimentResult } from '../../src/runner/run-experiment.js';
import { spawnHostReady, useSpawnHost } from '../../src/runner/spawn-host.js';
import { runSandboxedCommand } from '../../src/runner/sandboxed-experiment.js';
import { agentSandbox, experimentSandbox, sandboxedExecutor, wrapAgentCommand } from '../../src/sandbox/run-sandbox.js';
import { killRunning, pidsRunning, sandboxSupport, skipReason } from '../helpers/sandbox.js';

/**
 * Decisions 73: while a run holds the spawn host, an experiment's sandbox is kept for the next
 * experiment in the same folder with the same commands. Each experiment must start as it would in
 * a sandbox of its own: nothing the last one left running, nothing it left in the private folders,
 * none of its output, and no mount made before a protected file changed. Each hostile test below
 * was seen failing with the guard it names removed.
 */

const DAEMON = `sleep 979.${process.pid}`;
let dir: string | undefined;
let release: (() => void) | undefined;

beforeEach(async () => {
  release = useSpawnHost();
  for (let i = 0; i < 400 && !spawnHostReady(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
});

afterEach(() => {
  release?.();
  release = undefined;
  killRunning(DAEMON);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A project folder outside /tmp (the sandbox's /tmp is its own), the experiment's working folder. */
function folder(): string {
  dir = realpathSync(mkdtempSync(path.join('/var/tmp', 'crucible-kept-sandbox-')));
  return dir;
}

function experiment(
  cwd: string,
  trial: number,
  run: string,
  evalCommand: string,
  options: { timeoutMs?: number; starts?: number[]; readonly?: string[] } = {},
): Promise<ExperimentResult> {
  if (!sandboxSupport.ok) throw new Error('no sandbox');
  const wrap = experimentSandbox(
    { on: true, bwrap: sandboxSupport.bwrap, why: '' },
    { enabled: true, writable: [], network: false, agent_writable: [], agent_network: true },
    { projectDir: cwd, readonly: options.readonly ?? [], env: process.env },
  );
  return runExperiment({
    runCommand: run,
    evalCommand,
    cwd,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/', CRUCIBLE_TRIAL: String(trial) },
    timeoutMs: options.timeoutMs ?? 20_000,
    metricName: 'loss',
    killGraceMs: 400,
    executor: sandboxedExecutor(localExecutor, wrap),
    onStart: (handle) => options.starts?.push(handle.executor === 'local' ? (handle.pgid ?? -1) : -1),
  });
}

/** Whether any process is in group `pgid`. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(test: () => boolean, ms = 5000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (test()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return test();
}

describe.skipIf(!sandboxSupport.ok)(`an experiment's sandbox kept for the next one${skipReason}`, () => {
  it('runs the next experiment in the same sandbox, told its own trial number, and ends it with the run', async () => {
    const cwd = folder();
    const starts: number[] = [];
    const run = '[ "$CRUCIBLE_TRIAL" != 4 ] || exit 3; echo "run $CRUCIBLE_TRIAL"; printf "no newline $CRUCIBLE_TRIAL" >&2; echo "$CRUCIBLE_TRIAL" > trial.txt';
    const evalCommand = 'echo "loss: $(cat trial.txt)"; echo "eval saw $CRUCIBLE_TRIAL" >&2; printf tail';
    const results: ExperimentResult[] = [];
    for (const trial of [1, 2, 3]) results.push(await experiment(cwd, trial, run, evalCommand, { starts }));
    for (const [i, result] of results.entries()) {
      const trial = i + 1;
      expect(result.metric).toMatchObject({ ok: true, value: trial });
      // Each command's output, all of it and nothing of another's.
      expect(result.run).toMatchObject({ exitCode: 0, stdout: `run ${trial}\n`, stderr: `no newline ${trial}` });
      expect(result.eval).toMatchObject({ exitCode: 0, stdout: `loss: ${trial}\ntail`, stderr: `eval saw ${trial}\n` });
    }
    // Six commands, one sandbox: one process group.
    expect(starts).toHaveLength(6);
    expect(new Set(starts).size).toBe(1);
    const pgid = starts[0]!;
    expect(groupAlive(pgid)).toBe(true);
    // A failed run keeps it too (no eval: the shell is told so), and the next one runs there.
    const failed = await experiment(cwd, 4, run, evalCommand, { starts });
    expect(failed.metric).toMatchObject({ ok: false, reason: 'run command exited with code 3' });
    expect((await experiment(cwd, 5, run, evalCommand, { starts })).metric).toMatchObject({ ok: true, value: 5 });
    expect(new Set(starts).size).toBe(1);
    release?.();
    release = undefined;
    expect(await until(() => !groupAlive(pgid))).toBe(true);
  });

  it('nothing an experiment left lives on into the next: not a daemon, not a late line, not a file in its private folders', async () => {
    const cwd = folder();
    const starts: number[] = [];
    // Trial 1's run leaves a daemon and files in /tmp and /dev/shm; its eval leaves a process that
    // writes a metric line, a file in the project and one in /tmp after the eval's end, and a file
    // in /tmp at once. Trial 2's run and eval look for all of them; its metric must be its own.
    const look = 'ls -A /tmp /dev/shm; ps -e -o args= | grep -c "^sleep 979"';
    const run = [
      'if [ "$CRUCIBLE_TRIAL" = 1 ]; then',
      `  setsid sh -c 'exec ${DAEMON}' </dev/null >/dev/null 2>&1 & touch /tmp/left /dev/shm/left`,
      'else',
      `  sleep 0.6; { ${look}; } > run-saw.txt; true`,
      'fi',
    ].join('\n');
    const evalCommand = [
      'if [ "$CRUCIBLE_TRIAL" = 1 ]; then',
      '  touch /tmp/from-eval; (sleep 0.3; echo "loss: 0"; touch late /tmp/late) &',
      '  echo "loss: 1"',
      'else',
      `  sleep 0.6; ${look}; echo "loss: 2"`,
      'fi',
    ].join('\n');
    const first = await experiment(cwd, 1, run, evalCommand, { starts });
    expect(first.metric).toMatchObject({ ok: true, value: 1 });
    const second = await experiment(cwd, 2, run, evalCommand, { starts });
    expect(new Set(starts).size).toBe(1);
    const empty = '/dev/shm:\n\n/tmp:\n0\n';
    expect(readFileSync(path.join(cwd, 'run-saw.txt'), 'utf8')).toBe(empty);
    expect(second.metric).toMatchObject({ ok: true, value: 2 });
    expect(second.eval?.stdout).toBe(`${empty}loss: 2\n`);
    expect(existsSync(path.join(cwd, 'late'))).toBe(false);
    expect(pidsRunning(DAEMON)).toEqual([]);
  });

  it('a protected file that appeared or was replaced since the sandbox started gets a new sandbox, where it is read-only', async () => {
    const cwd = folder();
    const starts: number[] = [];
    const frozen = path.join(cwd, 'frozen.txt');
    const run = '(echo changed > frozen.txt) 2>/dev/null; true';
    const evalCommand = 'echo "loss: 1"';
    await experiment(cwd, 1, run, evalCommand, { starts, readonly: [frozen] });
    // Absent when the first sandbox started (no mount): it may not be written now that it exists.
    writeFileSync(frozen, 'original\n');
    await experiment(cwd, 2, run, evalCommand, { starts, readonly: [frozen] });
    expect(readFileSync(frozen, 'utf8')).toBe('original\n');
    // Replaced under its name (an editor's save): the mount held the old file.
    writeFileSync(`${frozen}.new`, 'saved\n');
    renameSync(`${frozen}.new`, frozen);
    await experiment(cwd, 3, run, evalCommand, { starts, readonly: [frozen] });
    expect(readFileSync(frozen, 'utf8')).toBe('saved\n');
    expect(new Set(starts).size).toBe(3);
    // Unchanged since: kept.
    await experiment(cwd, 4, run, evalCommand, { starts, readonly: [frozen] });
    expect(starts.at(-1)!).toBe(starts.at(-3)!);
  });

  it('a timed-out experiment ends its sandbox, and the next runs in a new one', async () => {
    const cwd = folder();
    const starts: number[] = [];
    const run = 'if [ "$CRUCIBLE_TRIAL" = 1 ]; then sleep 30; fi; true';
    const evalCommand = 'echo "loss: $CRUCIBLE_TRIAL"';
    const timedOut = await experiment(cwd, 1, run, evalCommand, { starts, timeoutMs: 600 });
    expect(timedOut.run.timedOut).toBe(true);
    const first = starts[0]!;
    expect(await until(() => !groupAlive(first))).toBe(true);
    const next = await experiment(cwd, 2, run, evalCommand, { starts });
    expect(next.metric).toMatchObject({ ok: true, value: 2 });
    expect(starts.at(-1)!).not.toBe(first);
  });

  it('outside a run (no spawn host held) each experiment gets a sandbox of its own', async () => {
    release?.();
    release = undefined;
    const cwd = folder();
    const starts: number[] = [];
    for (const trial of [1, 2]) await experiment(cwd, trial, 'true', 'echo "loss: 1"', { starts });
    expect(new Set(starts).size).toBe(2);
    expect(starts.every((pgid) => !groupAlive(pgid))).toBe(true);
  });
  it("a command agent's turn: the next turn runs in the same sandbox, reads its own prompt, and finds nothing the last one left", async () => {
    const root = folder();
    const workspace = path.join(root, 'workspace');
    const gitDir = path.join(root, 'agent-git');
    const turn = path.join(root, 'agent-turn');
    for (const dir of [workspace, gitDir, turn]) mkdirSync(dir);
    if (!sandboxSupport.ok) throw new Error('no sandbox');
    const settings = { enabled: true, writable: [], network: false, agent_writable: [], agent_network: false };
    const sandbox = agentSandbox({ on: true, bwrap: sandboxSupport.bwrap, why: '' }, settings, { projectDir: root, hide: [], env: process.env })!;
    const wrap = wrapAgentCommand(sandbox, { workspace, gitDir, readable: [turn] });
    const prompt = path.join(turn, 'prompt.md');
    const command = [
      'echo "read: $(cat)"',
      `ls -A /tmp; ps -e -o args= | grep -c "^sleep 979"`,
      `if [ "$CRUCIBLE_TRIAL" = 1 ]; then setsid sh -c 'exec ${DAEMON}' </dev/null >/dev/null 2>&1 & touch /tmp/left; fi`,
      'echo "turn $CRUCIBLE_TRIAL" >&2',
    ].join('\n');
    const groups: (number | null)[] = [];
    for (const trial of [1, 2, 3]) {
      writeFileSync(prompt, `prompt ${trial}`);
      const result = await runSandboxedCommand(
        { command, cwd: workspace, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', CRUCIBLE_TRIAL: String(trial) }, timeoutMs: 20_000, killGraceMs: 400, stdinPath: prompt, sandbox: wrap },
        undefined,
      );
      expect(result).toMatchObject({ exitCode: 0, stdout: `read: prompt ${trial}\n0\n`, stderr: `turn ${trial}\n` });
      groups.push(result!.pgid);
    }
    expect(new Set(groups).size).toBe(1);
    expect(pidsRunning(DAEMON)).toEqual([]);
    release?.();
    release = undefined;
    expect(await until(() => !groupAlive(groups[0]!))).toBe(true);
  });
});
