import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Readable } from 'node:stream';
import {
  defaultKillGraceMs,
  defaultMaxCaptureBytes,
  defaultMaxLogBytes,
  describeEnding,
  describeSpawnError,
  drainOutput,
  GroupEnding,
  isAborted,
  limitTimer,
} from './local-process.js';
import { LogSink } from './log-sink.js';
import { signalGroup } from './process-group.js';
import { runSandboxedExperiment } from './sandboxed-experiment.js';
import { killTaggedProcesses, markPids, newProcessTag, processTagVariable } from './stray-processes.js';
import { spawnArgs } from './spawn-args.js';
import { TailBuffer } from './tail-buffer.js';
import type { Executor, RunResult, RunSpec } from './types.js';

export { formatSeconds } from './local-process.js';

/**
 * Runs `spec.command` with `/bin/sh -c` as the leader of its own process group, and always
 * resolves with what happened: a failure, a timeout or a cancellation is data, not an exception.
 * The whole group is ended at the timeout or on abort (SIGTERM, then SIGKILL after killGraceMs),
 * and whatever the command left running in its group is killed once it exits. On Linux, so is
 * every process that left the group but still carries the command's tag (see stray-processes.ts).
 */
export async function runCommand(request: RunSpec, signal?: AbortSignal): Promise<RunResult> {
  const started = performance.now();
  const processTag = newProcessTag();
  const spec: RunSpec = { ...request, env: { ...request.env, [processTagVariable]: processTag } };
  const base = { command: spec.command, cwd: spec.cwd, stdout: '', stderr: '', pgid: null, processTag: null };
  if (isAborted(signal)) {
    return { ...base, exitCode: null, signal: null, timedOut: false, canceled: true, durationMs: 0, shortMessage: 'canceled' };
  }

  const killGraceMs = spec.killGraceMs ?? defaultKillGraceMs;
  const maxCapture = spec.maxCaptureBytes ?? defaultMaxCaptureBytes;
  const stdoutTail = new TailBuffer(maxCapture);
  const stderrTail = new TailBuffer(maxCapture);
  const log = spec.logPath === undefined ? null : new LogSink(spec.logPath, spec.maxLogBytes ?? defaultMaxLogBytes);

  const { file, args } = spawnArgs(spec);
  let input: number | 'ignore' = 'ignore';
  if (spec.stdinPath !== undefined) {
    try {
      input = openSync(spec.stdinPath, 'r');
    } catch (error) {
      log?.close();
      const reason = `cannot start: cannot read ${spec.stdinPath} (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
      return { ...base, exitCode: null, signal: null, timedOut: false, canceled: false, durationMs: performance.now() - started, shortMessage: reason };
    }
  }
  // Every process carrying the tag is started from here on: the scans after it look only at the pids given since.
  const pidsBefore = markPids();
  let child: ChildProcessByStdio<null, Readable, Readable>;
  try {
    child = spawn(file, args, {
      cwd: spec.cwd,
      env: spec.env,
      detached: true,
      stdio: [input, 'pipe', 'pipe'],
    }) as ChildProcessByStdio<null, Readable, Readable>;
  } finally {
    // The child holds its own copy of the descriptor from here on.
    if (typeof input === 'number') closeSync(input);
  }
  const pid = child.pid;

  if (pid === undefined) {
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    log?.close();
    return {
      ...base,
      exitCode: null,
      signal: null,
      timedOut: false,
      canceled: false,
      durationMs: performance.now() - started,
      shortMessage: describeSpawnError(error, spec.cwd),
    };
  }

  // detached: true makes the shell a session and group leader, so its pid is the group id.
  const pgid = pid;
  const onStdout = spec.onStdout;
  child.stdout.on('data', (chunk: Buffer) => {
    stdoutTail.push(chunk);
    log?.write(chunk);
    onStdout?.(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderrTail.push(chunk);
    log?.write(chunk);
  });
  // Errors after a successful spawn (a failed kill) carry no information the exit does not.
  child.on('error', () => undefined);

  let timedOut = false;
  let canceled = false;
  let exited = false;
  const ending = new GroupEnding(pgid, killGraceMs);
  const terminate = (): void => {
    if (!exited) ending.terminate();
  };
  const onAbort = (): void => {
    if (exited) return;
    canceled = true;
    terminate();
  };

  const exitPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal }));
  });

  try {
    spec.onSpawn?.(pgid, processTag);
    spec.onStart?.({ executor: 'local', pgid, processTag });
  } catch (error) {
    signalGroup(pgid, 'SIGKILL');
    await killTaggedProcesses(processTag, pidsBefore);
    log?.close();
    throw error;
  }

  const timeoutTimer = limitTimer(spec.timeoutMs, () => {
    if (exited) return;
    timedOut = true;
    terminate();
  });
  signal?.addEventListener('abort', onAbort, { once: true });
  // onSpawn may itself have aborted (a Ctrl+C handled synchronously): the listener came too late.
  if (isAborted(signal)) onAbort();

  const exit = await exitPromise;
  exited = true;
  clearTimeout(timeoutTimer);
  signal?.removeEventListener('abort', onAbort);

  // Anything still in the group (a background job), or gone from it (a daemon), must not
  // outlive the command; once they are dead, nothing holds the output pipes open any more.
  await ending.finish();
  // Also in the sandbox's PID namespace: the kernel ends every process inside once its init is
  // gone, but bubblewrap reports the command's exit before that is done, so a daemon can still be
  // running when the command has returned (CI caught one; decisions 44). The scan waits for it.
  await killTaggedProcesses(processTag, pidsBefore);
  await drainOutput([child.stdout, child.stderr]);
  log?.close();

  const result = { exitCode: exit.code, signal: exit.signal, timedOut, canceled };
  return {
    ...base,
    ...result,
    pgid,
    processTag,
    durationMs: performance.now() - started,
    stdout: stdoutTail.toString(),
    stderr: stderrTail.toString(),
    shortMessage: describeEnding(result, spec.timeoutMs),
  };
}

/** Runs experiments on this machine. */
export const localExecutor: Executor = {
  run: runCommand,
  runSandboxedExperiment,
  async cancel(handle) {
    // Another executor's handle (a Slurm job) names nothing on this machine.
    if (handle.executor !== 'local') return;
    if (handle.pgid !== null) signalGroup(handle.pgid, 'SIGKILL');
    // A ledger written before tags has none: an empty tag would match nothing worth killing.
    if (handle.processTag !== '') await killTaggedProcesses(handle.processTag);
  },
};
