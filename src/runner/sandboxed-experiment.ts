import { statSync, truncateSync } from 'node:fs';
import { experimentShell } from '../sandbox/experiment-shell.js';
import { listenToSandbox, startSandbox } from './experiment-sandbox.js';
import {
  defaultKillGraceMs,
  defaultMaxCaptureBytes,
  defaultMaxLogBytes,
  describeEnding,
  describeSpawnError,
  drainOutput,
  evalTimeLimit,
  GroupEnding,
  isAborted,
  limitTimer,
} from './local-process.js';
import { LogSink } from './log-sink.js';
import { signalGroup } from './process-group.js';
import type { SandboxWrap } from './spawn-args.js';
import { killTaggedProcesses } from './stray-processes.js';
import { TailBuffer } from './tail-buffer.js';
import type { ExecutionHandle, ExperimentRun, ExperimentSpec, RunResult } from './types.js';

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function truncateLog(file: string, size: number): void {
  try {
    truncateSync(file, size);
  } catch {
    // a log that cannot be cut keeps the line: it says what happened
  }
}

/** Once an experiment has gone through the shell, a later failure to start is the experiment's, not the shell's. */
let shellProven = false;
/** Set when the shell never started while it was not proven: experiments take two sandboxes from then on. */
let shellBroken = false;

interface Phase {
  command: string;
  stdout: TailBuffer;
  stderr: TailBuffer;
  log: LogSink | null;
  startedAt: number;
  /** From the shell's line; null: the sandbox ended first (see the process's exit). */
  status: number | null;
  timedOut: boolean;
  canceled: boolean;
  limitMs: number;
}

/**
 * Runs an experiment's run command and then, when it exits 0 in time, its eval command, in one
 * bubblewrap sandbox instead of one each (decisions 54): one sandbox and one spawn less per
 * experiment. Each command is timed, limited, canceled and captured as runCommand would, and
 * starts with what a fresh sandbox gives it. null when this machine cannot do it this way (no
 * unreadable shell copy can be made, or it did not start in the sandbox): the caller then runs
 * the two commands one by one.
 */
export async function runSandboxedExperiment(spec: ExperimentSpec & { sandbox: SandboxWrap }, signal?: AbortSignal): Promise<ExperimentRun | null> {
  const shell = shellBroken ? null : experimentShell(spec.env);
  if (shell === null) return null;
  const started = performance.now();
  const maxCapture = defaultMaxCaptureBytes;
  const maxLog = defaultMaxLogBytes;
  const newPhase = (command: string, limitMs: number): Phase => ({
    command,
    stdout: new TailBuffer(maxCapture),
    stderr: new TailBuffer(maxCapture),
    log: spec.logPath === undefined ? null : new LogSink(spec.logPath, maxLog),
    startedAt: performance.now(),
    status: null,
    timedOut: false,
    canceled: false,
    limitMs,
  });
  const notStarted = (message: string, canceled = false): ExperimentRun => ({
    run: { command: spec.runCommand, cwd: spec.cwd, stdout: '', stderr: '', pgid: null, processTag: null, exitCode: null, signal: null, timedOut: false, canceled, durationMs: performance.now() - started, shortMessage: message },
    eval: null,
  });
  if (isAborted(signal)) return notStarted('canceled', true);
  // Where the shell turns out not to start here, the commands run again one by one: what this
  // try wrote to the log (bubblewrap's complaint) is taken back first.
  const logSizeBefore = spec.logPath === undefined ? 0 : sizeOf(spec.logPath);

  const sandbox = await startSandbox({ sandbox: spec.sandbox, shell, cwd: spec.cwd, runCommand: spec.runCommand, evalCommand: spec.evalCommand, env: spec.env });
  if (sandbox instanceof Error) return notStarted(describeSpawnError(sandbox, spec.cwd));
  const { pgid, processTag, stepsIn } = sandbox;
  const handle: ExecutionHandle = { executor: 'local', pgid, processTag };
  const ending = new GroupEnding(pgid, spec.killGraceMs ?? defaultKillGraceMs);

  // The run's time starts before the spawn, as runCommand's does: starting the sandbox is part of it.
  const run = { ...newPhase(spec.runCommand, spec.timeoutMs), startedAt: started };
  let evalPhase = null as Phase | null;
  // The phase whose time runs: the run's from the spawn (a sandbox that hangs while it is set up
  // times out too), the eval's from its step; null once the last line came or the steps stopped.
  let current = run as Phase | null;
  let ready = false;
  let exited = false;
  let failure = null as Error | null;

  const terminate = (phase: Phase, why: 'timedOut' | 'canceled'): void => {
    if (exited || current !== phase) return;
    phase[why] = true;
    ending.terminate();
  };
  let timer = limitTimer(run.limitMs, () => terminate(run, 'timedOut'));
  const stop = (): void => {
    current = null;
    clearTimeout(timer);
    stepsIn.end();
  };
  /** Records the handle, then lets the shell start `step`: nothing runs that the ledger has not heard of. */
  const next = (step: 'run' | 'eval'): void => {
    try {
      spec.onSpawn?.(pgid, processTag);
      spec.onStart?.(handle);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      signalGroup(pgid, 'SIGKILL');
      stop();
      return;
    }
    stepsIn.write(`${step}\n`);
  };
  function said(line: string): void {
    const words = /^(ready|run|eval)(?: (\d+))?$/.exec(line);
    if (words === null) return;
    const status = Number(words[2]);
    if (words[1] === 'ready' && !ready && current === run && !exited) {
      ready = true;
      shellProven = true;
      next('run');
    } else if (words[1] === 'run' && ready && current === run && words[2] !== undefined) {
      run.status = status;
      if (exited || run.status !== 0 || run.timedOut || run.canceled) {
        stop();
        return;
      }
      clearTimeout(timer);
      const phase = newPhase(spec.evalCommand, evalTimeLimit(spec.timeoutMs, performance.now() - started));
      evalPhase = phase;
      current = phase;
      timer = limitTimer(phase.limitMs, () => terminate(phase, 'timedOut'));
      next('eval');
    } else if (words[1] === 'eval' && evalPhase !== null && current === evalPhase && words[2] !== undefined) {
      evalPhase.status = status;
      stop();
    }
  }

  let pending = '';
  listenToSandbox(sandbox, (index, chunk) => {
    if (index === 0) {
      run.stdout.push(chunk);
      run.log?.write(chunk);
    } else if (index === 1) {
      run.stderr.push(chunk);
      run.log?.write(chunk);
    } else if (index === 4) {
      pending += chunk.toString('latin1');
      for (let at = pending.indexOf('\n'); at !== -1; at = pending.indexOf('\n')) {
        said(pending.slice(0, at));
        pending = pending.slice(at + 1);
      }
    } else if (evalPhase !== null) {
      // Only the eval's shell holds these: nothing arrives before the eval starts.
      const eval_ = evalPhase;
      if (index === 2) {
        eval_.stdout.push(chunk);
        spec.onEvalStdout?.(chunk);
      } else {
        eval_.stderr.push(chunk);
      }
      eval_.log?.write(chunk);
    }
  });

  const onAbort = (): void => {
    if (current !== null) terminate(current, 'canceled');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (isAborted(signal)) onAbort();
  const exit = await sandbox.exit;
  exited = true;
  signal?.removeEventListener('abort', onAbort);
  await ending.finish();
  await killTaggedProcesses(processTag, sandbox.pidsBefore);
  // The shell's last line can arrive after the sandbox's exit: read everything first.
  await drainOutput(sandbox.outputs);
  clearTimeout(timer);
  stepsIn.destroy();
  run.log?.close();
  evalPhase?.log?.close();
  if (failure !== null) throw failure;

  if (!ready && !shellProven && !run.canceled && !run.timedOut) {
    // The shell never started, and never has here (an exec refused in the sandbox): from now on
    // this machine's experiments take two sandboxes, this one included. A sandbox that cannot be
    // set up at all fails there the same way, and says why.
    shellBroken = true;
    if (spec.logPath !== undefined) truncateLog(spec.logPath, logSizeBefore);
    return null;
  }
  // Each command's time runs to the next one's start or to the end: the two add up to the whole
  // experiment, its sandbox's setup and teardown and the cleanup between them included, as two
  // sandboxes' did.
  const finishedAt = performance.now();
  const result = (phase: Phase, until: number): RunResult => {
    const fromExit = phase.status === null;
    const ending = { exitCode: fromExit ? exit.code : phase.status, signal: fromExit ? exit.signal : null, timedOut: phase.timedOut, canceled: phase.canceled };
    return {
      command: phase.command,
      cwd: spec.cwd,
      ...ending,
      durationMs: until - phase.startedAt,
      stdout: phase.stdout.toString(),
      stderr: phase.stderr.toString(),
      shortMessage: fromExit && exit.lost !== undefined && !phase.timedOut && !phase.canceled ? `stopped: ${exit.lost}` : describeEnding(ending, phase.limitMs),
      pgid,
      processTag,
    };
  };
  return { run: result(run, evalPhase?.startedAt ?? finishedAt), eval: evalPhase === null ? null : result(evalPhase, finishedAt) };
}
