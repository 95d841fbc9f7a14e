import type { Readable, Writable } from 'node:stream';
import { experimentShellInSandbox } from '../sandbox/experiment-shell.js';
import type { SandboxWrap } from './spawn-args.js';
import { startDetached, type ProcessExit } from './spawn-host.js';
import { markPids, newProcessTag, processTagVariable, type PidMark } from './stray-processes.js';

/**
 * The shell script that runs inside the sandbox as its first process (PID 1, bubblewrap's
 * --as-pid-1), from the unreadable copy of /bin/sh (src/sandbox/experiment-shell.ts): nothing
 * else in the sandbox can trace it, read its memory or open its descriptors, and as a namespace's
 * init it gets only the signals it handles from inside. The commands come in two variables it
 * keeps to itself, not in its arguments, which any user can read in /proc.
 * Descriptors: 0 crucible's steps, 1 and 2 the run's output, 3 and 4 the eval's, 5 what the
 * shell tells crucible ("ready", "run <status>", "eval <status>"). Each command gets none of
 * the others; the eval reads /dev/null, the run the file named in a third variable (a command
 * agent's prompt, decisions 73), else /dev/null too.
 *
 * It runs experiments one after the other for as long as crucible keeps it (decisions 73). For
 * each: "set NAME=value" lines (the variables that differ from one experiment to the next, which
 * crucible checks), "mark <text>", then "run"; after the run's status, "eval", or "done" when
 * there is none; anything else, or the end, stops it. After each command, everything it left is
 * killed (kill -1 from a namespace's init reaches every other process in it) and what it added
 * to the private /tmp, /dev/shm and /run is removed with `rm`: the next command starts as it would in a
 * sandbox of its own. That `rm` may be one the command put first on PATH: it gets none of the
 * shell's descriptors (it could otherwise read crucible's steps, write the next command's output
 * or a status; decisions 77), and the second kill ends anything it started. The standard folders
 * follow the experiment's PATH for that `rm`: the cleanup holds where its PATH has none. Then the
 * mark goes to both of the command's output descriptors: nothing of the command can write after
 * it, so crucible knows where its output ends on descriptors the next command shares. Each
 * command runs in a subshell that execs it, so that the shell's own report of its end ("Killed")
 * goes nowhere: each command's error output is its own, as in a sandbox of its own.
 *
 * TERM, INT and HUP are caught so that the shell waits for the command, which gets them with
 * the default action, through its grace period; SIGKILL from crucible ends the whole sandbox.
 * Once crucible has sent one (a timeout, a cancel), the shell also waits, after the command's
 * own shell has ended, for every other process in the sandbox to end before it kills anything or
 * exits (which would end them all): `python train.py | tee log`, or the first of `a; b`, gets
 * the same grace to save its work as a command run alone, until crucible's SIGKILL. Such a
 * sandbox is never kept: the shell stops after that experiment.
 */
const EXPERIMENT_SCRIPT = `trap 'ending=1' TERM INT HUP
ending=
settle() { if [ -n "$ending" ]; then while kill -s 0 -- -1; do PATH="$PATH:/usr/bin:/bin" sleep 0.05 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- || break; done; fi; }
if [ "$$" != 1 ]; then echo "crucible: the sandbox has no process namespace of its own" >&2; exit 125; fi
run_command=$CRUCIBLE_EXPERIMENT_RUN
eval_command=$CRUCIBLE_EXPERIMENT_EVAL
run_input=\${CRUCIBLE_EXPERIMENT_INPUT:-/dev/null}
unset CRUCIBLE_EXPERIMENT_RUN CRUCIBLE_EXPERIMENT_EVAL CRUCIBLE_EXPERIMENT_INPUT
exec 6>&2 7>&1 2>/dev/null >/dev/null
before=
for f in /tmp/* /tmp/.[!.]* /tmp/..?* /dev/shm/* /dev/shm/.[!.]* /dev/shm/..?* /run/* /run/.[!.]* /run/..?*; do before="$before|$f|"; done
clean() {
  settle
  kill -s KILL -- -1
  for f in /tmp/* /tmp/.[!.]* /tmp/..?* /dev/shm/* /dev/shm/.[!.]* /dev/shm/..?* /run/* /run/.[!.]* /run/..?*; do
    case "$before" in *"|$f|"*) continue ;; esac
    if [ -e "$f" ] || [ -L "$f" ]; then PATH="$PATH:/usr/bin:/bin" rm -rf -- "$f" </dev/null 3>&- 4>&- 5>&- 6>&- 7>&-; fi
  done
  kill -s KILL -- -1
}
echo ready >&5
while :; do
  mark=
  step=
  while IFS= read -r step; do
    case "$step" in
      run) break ;;
      "mark "*) mark=\${step#mark } ;;
      "set CRUCIBLE_"*=*) export "\${step#set }" ;;
      *) exit 0 ;;
    esac
  done
  [ "$step" = run ] || exit 0
  (exec /bin/sh -c "$run_command" <"$run_input" >&7 2>&6 3>&- 4>&- 5>&- 6>&- 7>&-)
  s=$?
  clean
  printf %s "$mark" >&7
  printf %s "$mark" >&6
  echo "run $s" >&5
  IFS= read -r step || exit 0
  [ "$step" = done ] && continue
  [ "$step" = eval ] || exit 0
  (exec /bin/sh -c "$eval_command" </dev/null >&3 2>&4 3>&- 4>&- 5>&- 6>&- 7>&-)
  s=$?
  clean
  printf %s "$mark" >&3
  printf %s "$mark" >&4
  echo "eval $s" >&5
  [ -z "$ending" ] || exit 0
done
`;

const RUN_VARIABLE = 'CRUCIBLE_EXPERIMENT_RUN';
const EVAL_VARIABLE = 'CRUCIBLE_EXPERIMENT_EVAL';
const INPUT_VARIABLE = 'CRUCIBLE_EXPERIMENT_INPUT';

/** What an experiment's sandbox is started for: the folder, the sandbox, the commands, the environment. */
export interface SandboxRequest {
  sandbox: SandboxWrap;
  /** The unreadable shell's path on this machine (experimentShell). */
  shell: string;
  cwd: string;
  runCommand: string;
  evalCommand: string;
  env: NodeJS.ProcessEnv;
  /** A file the run command reads as its standard input (in the sandbox's view); unset: /dev/null. */
  input?: string;
}

/** The sandbox's exit: `lost` set when the spawn host ended and the sandbox was killed. */
export type SandboxExit = ProcessExit;

/** A sandbox started: its shell waits for its first step. */
export interface StartedSandbox {
  readonly stepsIn: Writable;
  /** Descriptors 1 to 5 of the shell, in order: run out, run err, eval out, eval err, what it says. */
  readonly outputs: readonly [Readable, Readable, Readable, Readable, Readable];
  readonly pgid: number;
  readonly processTag: string;
  readonly pidsBefore: PidMark | null;
  readonly exit: Promise<SandboxExit>;
}

/** Starts a sandbox for `request`; the spawn error when it cannot start at all (bubblewrap missing, the folder gone). */
export async function startSandbox(request: SandboxRequest): Promise<StartedSandbox | NodeJS.ErrnoException> {
  const processTag = newProcessTag();
  const env = {
    ...request.env,
    [processTagVariable]: processTag,
    [RUN_VARIABLE]: request.runCommand,
    [EVAL_VARIABLE]: request.evalCommand,
    ...(request.input === undefined ? {} : { [INPUT_VARIABLE]: request.input }),
  };
  const args = [
    ...request.sandbox.args,
    '--ro-bind', request.shell, experimentShellInSandbox,
    '--as-pid-1',
    '--chdir', request.cwd,
    '--', experimentShellInSandbox, '-c', EXPERIMENT_SCRIPT, 'crucible-experiment',
  ];
  const pidsBefore = markPids();
  const child = await startDetached({ file: request.sandbox.bwrap, args, cwd: request.cwd, env, stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
  if (child instanceof Error) return child;
  const [stepsIn, ...outputs] = child.stdio;
  if (!stepsIn || outputs.length !== 5 || outputs.some((stream) => !stream)) throw new Error('a sandbox started without its pipes');
  return {
    stepsIn,
    outputs: outputs as unknown as StartedSandbox['outputs'],
    pgid: child.pid,
    processTag,
    pidsBefore,
    exit: child.exit,
  };
}

/** From here on, `onOutput` gets what the sandbox's shell writes (what came before waits in the streams). */
export function listenToSandbox(started: StartedSandbox, onOutput: (index: number, chunk: Buffer) => void): void {
  started.outputs.forEach((stream, index) => stream.on('data', (chunk: Buffer) => onOutput(index, chunk)));
}
