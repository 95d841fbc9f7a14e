import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { experimentShell, experimentShellInSandbox } from '../sandbox/experiment-shell.js';
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
import { killTaggedProcesses, markPids, newProcessTag, processTagVariable } from './stray-processes.js';
import { TailBuffer } from './tail-buffer.js';
import type { ExecutionHandle, ExperimentRun, ExperimentSpec, RunResult } from './types.js';

/**
 * The shell script that runs inside the sandbox as its first process (PID 1, bubblewrap's
 * --as-pid-1), from the unreadable copy of /bin/sh (src/sandbox/experiment-shell.ts): nothing
 * else in the sandbox can trace it, read its memory or open its descriptors, and as a namespace's
 * init it gets only the signals it handles from inside. $1 is the run command, $2 the eval
 * command. Descriptors: 0 crucible's steps ("run", "eval"; closed: stop), 1 and 2 the run's
 * output, 3 and 4 the eval's, 5 what the shell tells crucible ("ready", "run <status>",
 * "eval <status>"). Each command gets /dev/null as its input and none of the others.
 *
 * Between the two, everything the run left is killed (kill -1 from a namespace's init reaches
 * every other process in it) and what it added to the private /tmp, /dev/shm and /run is
 * removed: the eval starts as it would in a sandbox of its own. The second kill ends anything
 * the cleanup itself started (an `rm` the run put first on PATH). Each command runs in a subshell
 * that execs it, so that the shell's own report of its end ("Killed") goes nowhere: each
 * command's error output is its own, as in a sandbox of its own.
 *
 * TERM, INT and HUP are caught so that the shell waits for the command, which gets them with
 * the default action, through its grace period; SIGKILL from crucible ends the whole sandbox.
 */
const EXPERIMENT_SCRIPT = `trap : TERM INT HUP
if [ "$$" != 1 ]; then echo "crucible: the sandbox has no process namespace of its own" >&2; exit 125; fi
exec 6>&2 2>/dev/null
before=
for f in /tmp/* /tmp/.[!.]* /tmp/..?* /dev/shm/* /dev/shm/.[!.]* /dev/shm/..?* /run/* /run/.[!.]* /run/..?*; do before="$before|$f|"; done
echo ready >&5
read step || exit 0
(exec /bin/sh -c "$1" </dev/null 2>&6 3>&- 4>&- 5>&- 6>&-)
s=$?
kill -s KILL -- -1
exec >/dev/null 6>&-
for f in /tmp/* /tmp/.[!.]* /tmp/..?* /dev/shm/* /dev/shm/.[!.]* /dev/shm/..?* /run/* /run/.[!.]* /run/..?*; do
  case "$before" in *"|$f|"*) continue ;; esac
  if [ -e "$f" ] || [ -L "$f" ]; then rm -rf -- "$f"; fi
done
kill -s KILL -- -1
echo "run $s" >&5
read step || exit 0
(exec /bin/sh -c "$2" </dev/null >&3 2>&4 3>&- 4>&- 5>&-)
echo "eval $?" >&5
`;

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
  const processTag = newProcessTag();
  const env = { ...spec.env, [processTagVariable]: processTag };
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

  const args = [
    ...spec.sandbox.args,
    '--ro-bind', shell, experimentShellInSandbox,
    '--as-pid-1',
    '--chdir', spec.cwd,
    '--', experimentShellInSandbox, '-c', EXPERIMENT_SCRIPT, 'crucible-experiment', spec.runCommand, spec.evalCommand,
  ];
  const pidsBefore = markPids();
  const child = spawn(spec.sandbox.bwrap, args, { cwd: spec.cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
  const [stepsIn, runOut, runErr, evalOut, evalErr, shellSays] = child.stdio as unknown as [Writable, Readable, Readable, Readable, Readable, Readable];
  stepsIn.on('error', () => undefined); // the shell gone: its exit says why
  child.on('error', () => undefined);
  if (child.pid === undefined) {
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
    return notStarted(describeSpawnError(error, spec.cwd));
  }
  const pgid = child.pid;
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

  runOut.on('data', (chunk: Buffer) => {
    run.stdout.push(chunk);
    run.log?.write(chunk);
  });
  runErr.on('data', (chunk: Buffer) => {
    run.stderr.push(chunk);
    run.log?.write(chunk);
  });
  // Only the eval's shell holds these: nothing arrives before the eval starts.
  evalOut.on('data', (chunk: Buffer) => {
    if (evalPhase === null) return;
    evalPhase.stdout.push(chunk);
    evalPhase.log?.write(chunk);
    spec.onEvalStdout?.(chunk);
  });
  evalErr.on('data', (chunk: Buffer) => {
    if (evalPhase === null) return;
    evalPhase.stderr.push(chunk);
    evalPhase.log?.write(chunk);
  });

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
  const onLine = (line: string): void => {
    const said = /^(ready|run|eval)(?: (\d+))?$/.exec(line);
    if (said === null) return;
    const status = Number(said[2]);
    if (said[1] === 'ready' && !ready && current === run && !exited) {
      ready = true;
      shellProven = true;
      next('run');
    } else if (said[1] === 'run' && ready && current === run && said[2] !== undefined) {
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
    } else if (said[1] === 'eval' && evalPhase !== null && current === evalPhase && said[2] !== undefined) {
      evalPhase.status = status;
      stop();
    }
  };
  let pending = '';
  shellSays.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    for (let at = pending.indexOf('\n'); at !== -1; at = pending.indexOf('\n')) {
      onLine(pending.slice(0, at));
      pending = pending.slice(at + 1);
    }
  });

  const onAbort = (): void => {
    if (current !== null) terminate(current, 'canceled');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  if (isAborted(signal)) onAbort();
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, exitSignal) => resolve({ code, signal: exitSignal }));
  });
  exited = true;
  signal?.removeEventListener('abort', onAbort);
  await ending.finish();
  await killTaggedProcesses(processTag, pidsBefore);
  // The shell's last line can arrive after the sandbox's exit: read everything first.
  await drainOutput([runOut, runErr, evalOut, evalErr, shellSays]);
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
      shortMessage: describeEnding(ending, phase.limitMs),
      pgid,
      processTag,
    };
  };
  return { run: result(run, evalPhase?.startedAt ?? finishedAt), eval: evalPhase === null ? null : result(evalPhase, finishedAt) };
}
