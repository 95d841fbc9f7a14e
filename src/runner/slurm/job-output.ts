import { appendFileSync, closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import type { RunResult } from '../types.js';

/** What crucible itself did to the job, and what Slurm said last. */
export interface JobEnding {
  /** Slurm's last word on the job ('gone' when the controller forgot it). */
  state: string;
  timedOut: boolean;
  canceled: boolean;
  timeoutMs: number;
  /** From the job first seen running to its end, by crucible's clock: used when the files have no times. */
  observedMs: number;
}

/** One command's evidence, as the job script left it. */
interface Step {
  started: number | null;
  exit: { code: number; at: number | null } | null;
  stdout: string;
  stderr: string;
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The last `max` bytes of a file ('' when it is missing): the capture keeps a tail, as locally. */
export function readTail(file: string, max: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, max);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function readStep(dir: string, which: 'run' | 'eval', maxCapture: number): Step {
  const startedText = readText(path.join(dir, `${which}.started`));
  const started = startedText === null ? null : Number.parseFloat(startedText.trim()) * 1000;
  const exitText = readText(path.join(dir, `${which}.exit`));
  const match = exitText === null ? null : /^(\d+)(?:\s+([\d.]+))?\s*$/.exec(exitText);
  return {
    started: started !== null && Number.isFinite(started) ? started : startedText === null ? null : Number.NaN,
    exit: match ? { code: Number(match[1]), at: match[2] ? Number.parseFloat(match[2]) * 1000 : null } : null,
    stdout: readTail(path.join(dir, `${which}.out`), maxCapture),
    stderr: readTail(path.join(dir, `${which}.err`), maxCapture),
  };
}

function describe(step: Step, ending: JobEnding, cut: boolean): string {
  if (cut && ending.canceled) return 'canceled';
  if (cut && ending.timedOut) return `timed out after ${String(Math.round(ending.timeoutMs) / 1000)}s`;
  if (step.exit) return `exit code ${String(step.exit.code)}`;
  return `the Slurm job ended ${ending.state} before the command finished`;
}

/** `active`: this command was the one running when crucible cancelled the job (timeout, abort). */
function toResult(command: string, cwd: string, step: Step, ending: JobEnding, fallbackMs: number, active: boolean): RunResult {
  const measured = step.exit?.at != null && step.started !== null && Number.isFinite(step.started) ? step.exit.at - step.started : null;
  // A command killed by scancel may still have its exit status written by the script (143): the
  // cancellation, not that status, is what ended it.
  const cut = active && (ending.timedOut || ending.canceled);
  const killed = step.exit === null || cut;
  return {
    command,
    cwd,
    // A command the job never saw finish has no exit status: like a process ended by a signal.
    exitCode: cut ? null : (step.exit?.code ?? null),
    signal: killed && !ending.timedOut && !ending.canceled ? 'SIGKILL' : null,
    timedOut: killed && ending.timedOut,
    canceled: killed && ending.canceled,
    durationMs: measured !== null && measured >= 0 ? measured : fallbackMs,
    stdout: step.stdout,
    stderr: step.stderr,
    shortMessage: describe(step, ending, cut),
    pgid: null,
    processTag: null,
  };
}

export interface JobOutcome {
  run: RunResult;
  eval: RunResult | null;
  /** The job never ran the experiment: why (not the change's failure). */
  notRun: string | null;
}

/**
 * What the job did, from its own files alone: Slurm's state is never taken as evidence. A job
 * that ended (whatever Slurm calls it) without starting the run command did not run the
 * experiment; one that started it and left no exit status was killed while it ran.
 */
export function readJobOutcome(dir: string, commands: { run: string; eval: string | null; cwd: string }, ending: JobEnding, maxCapture: number): JobOutcome {
  const run = readStep(dir, 'run', maxCapture);
  const evalStep = commands.eval === null ? null : readStep(dir, 'eval', maxCapture);
  const evalStarted = evalStep !== null && evalStep.started !== null;
  const runResult = toResult(commands.run, commands.cwd, run, ending, ending.observedMs, !evalStarted);
  let notRun: string | null = null;
  if (run.started === null && !ending.timedOut && !ending.canceled) {
    const jobLog = readTail(path.join(dir, 'slurm.out'), 2000).trim();
    notRun = `the Slurm job ended ${ending.state} without running the experiment (no output from it: not trusted)${jobLog ? `; the job said: ${jobLog.split('\n').slice(-3).join(' | ')}` : ''}`;
  }
  if (commands.eval === null || evalStep === null || runResult.exitCode !== 0) return { run: runResult, eval: null, notRun };
  const runMs = runResult.durationMs;
  return { run: runResult, eval: toResult(commands.eval, commands.cwd, evalStep, ending, Math.max(0, ending.observedMs - runMs), evalStarted), notRun };
}

/** Appends the commands' output to the trial's log, as a local run would have written it. */
export function appendJobLog(dir: string, logPath: string): void {
  for (const name of ['run.out', 'run.err', 'eval.out', 'eval.err', 'slurm.out']) {
    const file = path.join(dir, name);
    if (!existsSync(file)) continue;
    try {
      const text = readFileSync(file);
      if (text.length > 0) appendFileSync(logPath, Buffer.concat([Buffer.from(`--- ${name} ---\n`), text]));
    } catch {
      // the log is for people; the result does not depend on it
    }
  }
}
