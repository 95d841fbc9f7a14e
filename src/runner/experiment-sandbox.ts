import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { experimentShellInSandbox } from '../sandbox/experiment-shell.js';
import { signalGroup } from './process-group.js';
import type { SandboxWrap } from './spawn-args.js';
import { markPids, newProcessTag, processTagVariable, type PidMark } from './stray-processes.js';

/**
 * The shell script that runs inside the sandbox as its first process (PID 1, bubblewrap's
 * --as-pid-1), from the unreadable copy of /bin/sh (src/sandbox/experiment-shell.ts): nothing
 * else in the sandbox can trace it, read its memory or open its descriptors, and as a namespace's
 * init it gets only the signals it handles from inside. The commands come in two variables it
 * keeps to itself (not in its arguments: `ps` would show them on a sandbox kept waiting).
 * Descriptors: 0 crucible's steps, 1 and 2 the run's output, 3 and 4 the eval's, 5 what the
 * shell tells crucible ("ready", "run <status>", "eval <status>"). Each command gets /dev/null
 * as its input and none of the others.
 *
 * Steps: "set NAME=VALUE" and "unset NAME" (the experiment's own variables, for a sandbox started
 * ahead of its experiment), then "run", then "eval"; anything else, or the end, stops it.
 * Between the two commands, everything the run left is killed (kill -1 from a namespace's init
 * reaches every other process in it) and what it added to the private /tmp, /dev/shm and /run is
 * removed: the eval starts as it would in a sandbox of its own. The second kill ends anything the
 * cleanup itself started (an `rm` the run put first on PATH). Each command runs in a subshell
 * that execs it, so that the shell's own report of its end ("Killed") goes nowhere: each
 * command's error output is its own, as in a sandbox of its own.
 *
 * TERM, INT and HUP are caught so that the shell waits for the command, which gets them with
 * the default action, through its grace period; SIGKILL from crucible ends the whole sandbox.
 */
const EXPERIMENT_SCRIPT = `trap : TERM INT HUP
if [ "$$" != 1 ]; then echo "crucible: the sandbox has no process namespace of its own" >&2; exit 125; fi
run_command=$CRUCIBLE_EXPERIMENT_RUN
eval_command=$CRUCIBLE_EXPERIMENT_EVAL
unset CRUCIBLE_EXPERIMENT_RUN CRUCIBLE_EXPERIMENT_EVAL
exec 6>&2 2>/dev/null
before=
for f in /tmp/* /tmp/.[!.]* /tmp/..?* /dev/shm/* /dev/shm/.[!.]* /dev/shm/..?* /run/* /run/.[!.]* /run/..?*; do before="$before|$f|"; done
echo ready >&5
while IFS= read -r step; do
  case $step in
    "set "*) export "\${step#set }" ;;
    "unset "*) unset "\${step#unset }" ;;
    *) break ;;
  esac
done
[ "$step" = run ] || exit 0
(exec /bin/sh -c "$run_command" </dev/null 2>&6 3>&- 4>&- 5>&- 6>&-)
s=$?
kill -s KILL -- -1
exec >/dev/null 6>&-
for f in /tmp/* /tmp/.[!.]* /tmp/..?* /dev/shm/* /dev/shm/.[!.]* /dev/shm/..?* /run/* /run/.[!.]* /run/..?*; do
  case "$before" in *"|$f|"*) continue ;; esac
  if [ -e "$f" ] || [ -L "$f" ]; then rm -rf -- "$f"; fi
done
kill -s KILL -- -1
echo "run $s" >&5
IFS= read -r step || exit 0
[ "$step" = eval ] || exit 0
(exec /bin/sh -c "$eval_command" </dev/null >&3 2>&4 3>&- 4>&- 5>&-)
echo "eval $?" >&5
`;

const RUN_VARIABLE = 'CRUCIBLE_EXPERIMENT_RUN';
const EVAL_VARIABLE = 'CRUCIBLE_EXPERIMENT_EVAL';

/** What an experiment's sandbox is started for: the folder, the sandbox, the commands, the environment. */
export interface SandboxRequest {
  sandbox: SandboxWrap;
  /** The unreadable shell's path on this machine (experimentShell). */
  shell: string;
  cwd: string;
  runCommand: string;
  evalCommand: string;
  env: NodeJS.ProcessEnv;
}

export interface SandboxExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A sandbox started and waiting for its first step: started for an experiment, or ahead of the next one in its folder. */
export interface StartedSandbox {
  readonly key: string;
  readonly child: ChildProcess;
  readonly stepsIn: Writable;
  /** Descriptors 1 to 5 of the shell, in order: run out, run err, eval out, eval err, what it says. */
  readonly outputs: readonly [Readable, Readable, Readable, Readable, Readable];
  readonly pgid: number;
  readonly processTag: string;
  readonly pidsBefore: PidMark | null;
  /** The environment it was started with, without its tag and the commands. */
  readonly env: NodeJS.ProcessEnv;
  readonly folder: string | null;
  readonly exit: Promise<SandboxExit>;
  /** Set once it has exited. */
  exited: SandboxExit | null;
  /** What arrived on its outputs before an experiment took it: [output index, chunk]. */
  early: Array<[number, Buffer]> | null;
}

function keyOf(request: SandboxRequest): string {
  return JSON.stringify([request.sandbox.bwrap, request.sandbox.args, request.shell, request.cwd, request.runCommand, request.evalCommand]);
}

/** The folder's identity (device, inode): a sandbox binds the folder that was there when it started. */
function folderIdentity(dir: string): string | null {
  try {
    const stat = statSync(dir);
    return `${String(stat.dev)}:${String(stat.ino)}`;
  } catch {
    return null;
  }
}

/** Starts a sandbox for `request`; the spawn error when it cannot start at all (bubblewrap missing, the folder gone). */
export function startSandbox(request: SandboxRequest): StartedSandbox | Promise<NodeJS.ErrnoException> {
  const processTag = newProcessTag();
  const env = { ...request.env, [processTagVariable]: processTag, [RUN_VARIABLE]: request.runCommand, [EVAL_VARIABLE]: request.evalCommand };
  const args = [
    ...request.sandbox.args,
    '--ro-bind', request.shell, experimentShellInSandbox,
    '--as-pid-1',
    '--chdir', request.cwd,
    '--', experimentShellInSandbox, '-c', EXPERIMENT_SCRIPT, 'crucible-experiment',
  ];
  const folder = folderIdentity(request.cwd);
  const pidsBefore = markPids();
  const child = spawn(request.sandbox.bwrap, args, { cwd: request.cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
  child.on('error', () => undefined);
  if (child.pid === undefined) return new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
  const [stepsIn, ...outputs] = child.stdio as unknown as [Writable, Readable, Readable, Readable, Readable, Readable];
  stepsIn.on('error', () => undefined); // the shell gone: its exit says why
  const { [processTagVariable]: _tag, [RUN_VARIABLE]: _run, [EVAL_VARIABLE]: _eval, ...own } = env;
  const started: StartedSandbox = {
    key: keyOf(request),
    child,
    stepsIn,
    outputs,
    pgid: child.pid,
    processTag,
    pidsBefore,
    env: own,
    folder,
    exited: null,
    early: [],
    exit: new Promise<SandboxExit>((resolve) => {
      child.once('exit', (code, signal) => {
        started.exited = { code, signal };
        resolve(started.exited);
      });
    }),
  };
  outputs.forEach((stream, index) =>
    stream.on('data', (chunk: Buffer) => {
      started.early?.push([index, chunk]);
    }),
  );
  return started;
}

/**
 * Hands `started` to its experiment: from here on, `onOutput` gets what its shell writes, first
 * what it wrote while it waited.
 */
export function adoptSandbox(started: StartedSandbox, onOutput: (index: number, chunk: Buffer) => void): void {
  const early = started.early ?? [];
  started.early = null;
  started.outputs.forEach((stream, index) => {
    stream.removeAllListeners('data');
    stream.on('data', (chunk: Buffer) => onOutput(index, chunk));
  });
  for (const [index, chunk] of early) onOutput(index, chunk);
}

/**
 * The steps that give the experiment its environment in a sandbox started with `from`: only
 * crucible's own variables may differ (CRUCIBLE_TRIAL, a shell-safe name, a value on one line);
 * null when anything else does, and the sandbox cannot serve.
 */
export function environmentSteps(from: NodeJS.ProcessEnv, to: NodeJS.ProcessEnv): string[] | null {
  const steps: string[] = [];
  for (const name of new Set([...Object.keys(from), ...Object.keys(to)])) {
    if (name === processTagVariable || name === RUN_VARIABLE || name === EVAL_VARIABLE) continue;
    const before = from[name];
    const after = to[name];
    if (before === after) continue;
    if (!/^CRUCIBLE_[A-Z0-9_]+$/.test(name)) return null;
    if (after === undefined) steps.push(`unset ${name}`);
    else if (/[\n\r\0]/.test(after)) return null;
    else steps.push(`set ${name}=${after}`);
  }
  return steps;
}

// Sandboxes started ahead of the next experiment in their folder, by what they were started for.
const waiting = new Map<string, { started: StartedSandbox; expiry: NodeJS.Timeout }>();
/** A waiting sandbox older than this is ended: whatever it bound may have been replaced since. */
const waitingMaxMs = 10_000;
const waitingMax = 8;
let exitHook = false;
/** Moves on at each endWaitingSandboxes: a start scheduled before a run ended does not happen after. */
let generation = 0;

function end(started: StartedSandbox): void {
  signalGroup(started.pgid, 'SIGKILL');
  started.stepsIn.destroy();
  for (const stream of started.outputs) stream.destroy();
}

function setWaiting(started: StartedSandbox, waits: boolean): void {
  const method = waits ? 'unref' : 'ref';
  started.child[method]();
  for (const stream of [started.stepsIn, ...started.outputs]) (stream as Partial<Record<'ref' | 'unref', () => void>>)[method]?.();
}

/**
 * Starts a sandbox for the next experiment like `request` and keeps it waiting (unless one
 * already waits): its start and setup happen now, while crucible settles the last trial and the
 * agent proposes the next, not when the experiment starts. It never holds crucible's process open.
 */
export function startAhead(request: SandboxRequest): void {
  const key = keyOf(request);
  if (waiting.has(key)) return;
  const started = startSandbox(request);
  if (started instanceof Promise) return;
  setWaiting(started, true);
  const expiry = setTimeout(() => {
    if (waiting.get(key)?.started === started) waiting.delete(key);
    end(started);
  }, waitingMaxMs);
  expiry.unref();
  waiting.set(key, { started, expiry });
  if (!exitHook) {
    exitHook = true;
    process.once('exit', endWaitingSandboxes);
  }
  if (waiting.size > waitingMax) {
    const [oldest] = waiting.keys();
    if (oldest !== undefined) takeOut(oldest, true);
  }
}

function takeOut(key: string, discard: boolean): StartedSandbox | null {
  const entry = waiting.get(key);
  if (entry === undefined) return null;
  waiting.delete(key);
  clearTimeout(entry.expiry);
  if (discard) {
    end(entry.started);
    return null;
  }
  return entry.started;
}

/**
 * The sandbox waiting for an experiment like `request`, with the steps that give it the
 * experiment's environment; null when none waits or the one waiting cannot serve (it ended, its
 * folder was replaced, another environment), and then it is ended.
 */
export function takeWaiting(request: SandboxRequest): { started: StartedSandbox; steps: string[] } | null {
  const started = takeOut(keyOf(request), false);
  if (started === null) return null;
  const steps = environmentSteps(started.env, request.env);
  if (started.exited !== null || started.folder === null || started.folder !== folderIdentity(request.cwd) || steps === null) {
    end(started);
    return null;
  }
  setWaiting(started, false);
  return { started, steps };
}

/** startAhead once what runs now is done (setImmediate), unless the waiting sandboxes are ended first. */
export function startAheadSoon(request: SandboxRequest): void {
  const scheduled = generation;
  setImmediate(() => {
    if (scheduled === generation) startAhead(request);
  });
}

/** Ends every sandbox kept waiting (a run's end, the process's exit). */
export function endWaitingSandboxes(): void {
  generation += 1;
  for (const key of [...waiting.keys()]) takeOut(key, true);
}
