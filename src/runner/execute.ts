import { closeSync, openSync } from 'node:fs';
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
import { startDetached, type StdioEntry } from './spawn-host.js';
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
  let input: StdioEntry = 'ignore';
  if (spec.stdinPath !== undefined) {
    try {
      input = { path: spec.stdinPath, fd: openSync(spec.stdinPath, 'r') };
    } catch (error) {
      log?.close();
      const reason = `cannot start: cannot read ${spec.stdinPath} (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
      return { ...base, exitCode: null, signal: null, timedOut: false, canceled: false, durationMs: performance.now() - started, shortMessage: reason };
    }
  }
  // Every process carrying the tag is started from here on: the scans after it look only at the pids given since.
  const pidsBefore = markPids();
  let child: Awaited<ReturnType<typeof startDetached>>;
  try {
    child = await startDetached({ file, args, cwd: spec.cwd, env: spec.env, stdio: [input, 'pipe', 'pipe'] });
  } finally {
    // The child holds its own copy of the descriptor from here on.
    if (typeof input === 'object') closeSync(input.fd);
  }

  if (child instanceof Error) {
    // A host that ended as the command started may have left it running: its tag finds it.
    await killTaggedProcesses(processTag, pidsBefore);
    log?.close();
    return {
      ...base,
      exitCode: null,
      signal: null,
      timedOut: false,
      canceled: false,
      durationMs: performance.now() - started,
      shortMessage: describeSpawnError(child, spec.cwd),
    };
  }

  // A session leader: its pid is the group id.
  const pgid = child.pid;
  const [, stdout, stderr] = child.stdio;
  if (!stdout || !stderr) throw new Error('a command started without its output pipes');
  const onStdout = spec.onStdout;
  stdout.on('data', (chunk: Buffer) => {
    stdoutTail.push(chunk);
    log?.write(chunk);
    onStdout?.(chunk);
  });
  stderr.on('data', (chunk: Buffer) => {
    stderrTail.push(chunk);
    log?.write(chunk);
  });

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

  const exit = await child.exit;
  exited = true;
  clearTimeout(timeoutTimer);
  signal?.removeEventListener('abort', onAbort);

  // Anything still in the group (a background job), or gone from it (a daemon), must not
  // outlive the command; once they are dead, nothing holds the output pipes open any more.
  await ending.finish();
  // Also in the sandbox's PID namespace: the kernel ends every process inside once its init is
  // gone, but bubblewrap reports the command's exit before that is done, so a daemon can still be
  // running when the command has returned (CI caught one; decisions 44). The scan waits for it.
  await killTaggedProcesses(processTag, pidsBefore, pgid);
  await drainOutput([stdout, stderr]);
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
    shortMessage: exit.lost !== undefined && !timedOut && !canceled ? `stopped: ${exit.lost}` : describeEnding(result, spec.timeoutMs),
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
