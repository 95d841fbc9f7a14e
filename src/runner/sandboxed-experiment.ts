import { randomBytes } from 'node:crypto';
import { statSync, truncateSync } from 'node:fs';
import { experimentShell } from '../sandbox/experiment-shell.js';
import { startSandbox } from './experiment-sandbox.js';
import { keptSandbox, keepSandbox, perExperimentSteps, sandboxKey, SandboxSession, sandboxView } from './kept-sandbox.js';
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
import { MarkedOutput } from './marked-output.js';
import { signalGroup } from './process-group.js';
import type { ProcessExit } from './spawn-host.js';
import type { SandboxWrap } from './spawn-args.js';
import { killTaggedProcesses } from './stray-processes.js';
import { TailBuffer } from './tail-buffer.js';
import type { ExecutionHandle, ExperimentRun, ExperimentSpec, RunResult, RunSpec } from './types.js';

/** The file's size; 0 when it is not there yet (the usual case: no exception built for it, decisions 86). */
function sizeOf(file: string): number {
  try {
    return statSync(file, { throwIfNoEntry: false })?.size ?? 0;
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
  /** The command's two output descriptors, each read up to the shell's mark. */
  out: MarkedOutput;
  err: MarkedOutput;
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
 * bubblewrap sandbox instead of one each (decisions 54), and in the sandbox the experiment before
 * it in the same folder left, where crucible kept it (decisions 73): no sandbox to set up at all.
 * Each command is timed, limited, canceled and captured as runCommand would, and starts with what
 * a fresh sandbox gives it. null when this machine cannot do it this way (no unreadable shell
 * copy can be made, or it did not start in the sandbox): the caller then runs the two commands
 * one by one.
 */
export async function runSandboxedExperiment(spec: ExperimentSpec & { sandbox: SandboxWrap }, signal?: AbortSignal): Promise<ExperimentRun | null> {
  return inSandbox(spec, signal, { runOnly: false });
}

/**
 * One command (a command agent's turn) the same way: the run step alone, in a sandbox kept for
 * the next command like an experiment's (decisions 73), with `spec.stdinPath` as its input (a
 * path the sandbox shows). null where this machine cannot do it this way, or the spec asks for
 * what only runCommand does (its own capture sizes, its output as it comes): the caller runs it
 * with runCommand.
 */
export async function runSandboxedCommand(spec: RunSpec & { sandbox: SandboxWrap }, signal?: AbortSignal): Promise<RunResult | null> {
  if (spec.onStdout !== undefined || spec.maxCaptureBytes !== undefined || spec.maxLogBytes !== undefined) return null;
  const experiment: ExperimentSpec & { sandbox: SandboxWrap } = {
    runCommand: spec.command,
    evalCommand: '',
    cwd: spec.cwd,
    env: spec.env,
    timeoutMs: spec.timeoutMs,
    sandbox: spec.sandbox,
    ...(spec.logPath === undefined ? {} : { logPath: spec.logPath }),
    ...(spec.killGraceMs === undefined ? {} : { killGraceMs: spec.killGraceMs }),
    ...(spec.onSpawn === undefined ? {} : { onSpawn: spec.onSpawn }),
    ...(spec.onStart === undefined ? {} : { onStart: spec.onStart }),
  };
  const outcome = await inSandbox(experiment, signal, { runOnly: true, ...(spec.stdinPath === undefined ? {} : { input: spec.stdinPath }) });
  return outcome?.run ?? null;
}

async function inSandbox(spec: ExperimentSpec & { sandbox: SandboxWrap }, signal: AbortSignal | undefined, mode: { runOnly: boolean; input?: string }): Promise<ExperimentRun | null> {
  const shell = shellBroken ? null : experimentShell(spec.env);
  if (shell === null) return null;
  const started = performance.now();
  const notStarted = (message: string, canceled = false): ExperimentRun => ({
    run: { command: spec.runCommand, cwd: spec.cwd, stdout: '', stderr: '', pgid: null, processTag: null, exitCode: null, signal: null, timedOut: false, canceled, durationMs: performance.now() - started, shortMessage: message },
    eval: null,
  });
  if (isAborted(signal)) return notStarted('canceled', true);
  // Where the shell turns out not to start here, the commands run again one by one: what this
  // try wrote to the log (bubblewrap's complaint) is taken back first.
  const logSizeBefore = spec.logPath === undefined ? 0 : sizeOf(spec.logPath);

  const key = sandboxKey(spec, shell, mode.input);
  // What the sandbox's mounts were made from, looked at before they are: a kept sandbox serves
  // only while every path it bound is the same file, present or absent, as when it started.
  const view = sandboxView(spec.sandbox.args, spec.cwd);
  let session = key === null ? null : keptSandbox(key, view);
  if (session === null) {
    const sandbox = await startSandbox({ sandbox: spec.sandbox, shell, cwd: spec.cwd, runCommand: spec.runCommand, evalCommand: spec.evalCommand, env: spec.env, ...(mode.input === undefined ? {} : { input: mode.input }) });
    if (sandbox instanceof Error) return notStarted(describeSpawnError(sandbox, spec.cwd));
    session = new SandboxSession(sandbox, key, view);
  }
  const outcome = await experimentIn(session, spec, signal, started, mode.runOnly);
  if (outcome === 'shell-never-started') {
    // The shell never started, and never has here (an exec refused in the sandbox): from now on
    // this machine's experiments take two sandboxes, this one included. A sandbox that cannot be
    // set up at all fails there the same way, and says why.
    shellBroken = true;
    if (spec.logPath !== undefined) truncateLog(spec.logPath, logSizeBefore);
    return null;
  }
  return outcome;
}

/** One experiment in `session`'s sandbox; the session is kept for the next one, or ended, before this returns. */
async function experimentIn(
  session: SandboxSession,
  spec: ExperimentSpec & { sandbox: SandboxWrap },
  signal: AbortSignal | undefined,
  started: number,
  runOnly: boolean,
): Promise<ExperimentRun | 'shell-never-started'> {
  const { pgid, processTag, stepsIn } = session.sandbox;
  const handle: ExecutionHandle = { executor: 'local', pgid, processTag };
  const ending = new GroupEnding(pgid, spec.killGraceMs ?? defaultKillGraceMs);
  // New for each experiment, and sent on the shell's own input, which no command can read.
  const mark = Buffer.from(randomBytes(16).toString('hex'));
  const newPhase = (command: string, limitMs: number, startedAt: number, onOut?: (chunk: Buffer) => void): Phase => {
    const stdout = new TailBuffer(defaultMaxCaptureBytes);
    const stderr = new TailBuffer(defaultMaxCaptureBytes);
    const log = spec.logPath === undefined ? null : new LogSink(spec.logPath, defaultMaxLogBytes);
    return {
      command,
      stdout,
      stderr,
      out: new MarkedOutput(mark, (chunk) => {
        stdout.push(chunk);
        onOut?.(chunk);
        log?.write(chunk);
      }),
      err: new MarkedOutput(mark, (chunk) => {
        stderr.push(chunk);
        log?.write(chunk);
      }),
      log,
      startedAt,
      status: null,
      timedOut: false,
      canceled: false,
      limitMs,
    };
  };

  // The run's time starts before the spawn, as runCommand's does: starting the sandbox is part of it.
  const run = newPhase(spec.runCommand, spec.timeoutMs, started);
  let evalPhase = null as Phase | null;
  // The phase whose time runs: the run's from the spawn (a sandbox that hangs while it is set up
  // times out too), the eval's from its step; null once the last phase is over or the steps stopped.
  let current = run as Phase | null;
  let exited = false;
  let signaled = false;
  let failure = null as Error | null;
  let over: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    over = resolve;
  });

  const terminate = (phase: Phase, why: 'timedOut' | 'canceled'): void => {
    if (exited || current !== phase) return;
    phase[why] = true;
    signaled = true;
    ending.terminate();
  };
  let timer = limitTimer(run.limitMs, () => terminate(run, 'timedOut'));
  const stop = (): void => {
    current = null;
    clearTimeout(timer);
    over();
  };
  /** Records the handle, then lets the shell start `step`: nothing runs that the ledger has not heard of. */
  const next = (step: string): void => {
    try {
      spec.onSpawn?.(pgid, processTag);
      spec.onStart?.(handle);
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      signalGroup(pgid, 'SIGKILL');
      stop();
      return;
    }
    stepsIn.write(step);
  };
  const startRun = (): void => next(`${perExperimentSteps(spec.env).join('')}mark ${mark.toString()}\nrun\n`);
  /** A phase is over once the shell gave its status and both its outputs their mark. */
  const settle = (phase: Phase): void => {
    if (current !== phase || phase.status === null || !phase.out.done || !phase.err.done) return;
    if (phase === evalPhase || runOnly || exited || phase.status !== 0 || phase.timedOut || phase.canceled) {
      stop();
      return;
    }
    clearTimeout(timer);
    const evalStart = performance.now();
    const evaluation = newPhase(spec.evalCommand, evalTimeLimit(spec.timeoutMs, evalStart - started), evalStart, spec.onEvalStdout);
    evalPhase = evaluation;
    current = evaluation;
    timer = limitTimer(evaluation.limitMs, () => terminate(evaluation, 'timedOut'));
    next('eval\n');
  };
  const said = (line: string): void => {
    const words = /^(ready|run|eval)(?: (\d+))?$/.exec(line);
    if (words === null) return;
    const status = Number(words[2]);
    if (words[1] === 'ready' && !session.ready && current === run && !exited) {
      session.ready = true;
      shellProven = true;
      startRun();
    } else if (words[1] === 'run' && session.ready && current === run && words[2] !== undefined) {
      run.status = status;
      settle(run);
    } else if (words[1] === 'eval' && evalPhase !== null && current === evalPhase && words[2] !== undefined) {
      evalPhase.status = status;
      settle(evalPhase);
    }
  };

  let pending = '';
  session.listen((index, chunk) => {
    if (index === 0) {
      run.out.push(chunk);
      settle(run);
    } else if (index === 1) {
      run.err.push(chunk);
      settle(run);
    } else if (index === 4) {
      pending += chunk.toString('latin1');
      for (let at = pending.indexOf('\n'); at !== -1; at = pending.indexOf('\n')) {
        said(pending.slice(0, at));
        pending = pending.slice(at + 1);
      }
    } else if (evalPhase !== null) {
      // Only the eval's shell holds these: nothing arrives before the eval starts.
      const phase = evalPhase;
      (index === 2 ? phase.out : phase.err).push(chunk);
      settle(phase);
    } else {
      session.spoiled = true;
    }
  });

  const onAbort = (): void => {
    if (current !== null) terminate(current, 'canceled');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (isAborted(signal)) onAbort();
  // A kept sandbox is ready for the run at once; a new one first says so.
  if (session.ready) startRun();
  session.onExit(over);
  await finished;
  session.onExit(null);
  const endedFirst = current !== null;
  signal?.removeEventListener('abort', onAbort);

  const phases = evalPhase === null ? [run] : [run, evalPhase];
  const overrun = phases.some((phase) => phase.out.overrun || phase.err.overrun);
  // Kept for the next experiment only after a clean ending: no signal sent, no step refused, the
  // shell's word and both marks for every phase, nothing after them, and a run that may keep it.
  const keep = !endedFirst && failure === null && !signaled && !overrun && !session.spoiled && !isAborted(signal) && phases.every((phase) => phase.status !== null);
  let exit: ProcessExit = { code: null, signal: null };
  if (keep && keepSandbox(session, evalPhase === null)) {
    clearTimeout(timer);
  } else {
    // The shell stops at its next step; its sandbox ends, and with it everything inside.
    stop();
    stepsIn.end();
    exit = await session.sandbox.exit;
    exited = true;
    await ending.finish();
    await killTaggedProcesses(processTag, session.sandbox.pidsBefore);
    // The shell's last line can arrive after the sandbox's exit: read everything first.
    await drainOutput(session.sandbox.outputs);
    stepsIn.destroy();
    for (const phase of phases) {
      phase.out.flush();
      phase.err.flush();
    }
  }
  run.log?.close();
  evalPhase?.log?.close();
  if (failure !== null) throw failure;
  if (!session.ready && !shellProven && !run.canceled && !run.timedOut) return 'shell-never-started';

  // Each command's time runs to the next one's start or to the end: the two add up to the whole
  // experiment, its sandbox's setup and teardown and the cleanup between them included, as two
  // sandboxes' did.
  const finishedAt = performance.now();
  const result = (phase: Phase, until: number): RunResult => {
    const fromExit = phase.status === null;
    const ended = { exitCode: fromExit ? exit.code : phase.status, signal: fromExit ? exit.signal : null, timedOut: phase.timedOut, canceled: phase.canceled };
    return {
      command: phase.command,
      cwd: spec.cwd,
      ...ended,
      durationMs: until - phase.startedAt,
      stdout: phase.stdout.toString(),
      stderr: phase.stderr.toString(),
      shortMessage: fromExit && exit.lost !== undefined && !phase.timedOut && !phase.canceled ? `stopped: ${exit.lost}` : describeEnding(ended, phase.limitMs),
      pgid,
      processTag,
    };
  };
  return { run: result(run, evalPhase?.startedAt ?? finishedAt), eval: evalPhase === null ? null : result(evalPhase, finishedAt) };
}
