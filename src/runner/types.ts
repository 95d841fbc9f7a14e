import type { SandboxWrap } from './spawn-args.js';

/** What to run: one shell command in one folder, with a time limit. */
export interface RunSpec {
  command: string;
  cwd: string;
  /**
   * The complete environment of the child (build it with `experimentEnv`); runCommand adds
   * CRUCIBLE_PROCESS_TAG.
   */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** When set, stdout and stderr are also appended to this file, in full (bounded by maxLogBytes). */
  logPath?: string;
  /** Bytes kept in memory of each of stdout and stderr (the tail). Default 256 KiB. */
  maxCaptureBytes?: number;
  /** Bytes written to logPath at most. Default 64 MiB. */
  maxLogBytes?: number;
  /** Between SIGTERM and SIGKILL to the process group at the timeout. Default 5000. */
  killGraceMs?: number;
  /**
   * Called once the child is spawned, with the id of its process group and the tag that it and
   * everything it starts carry in CRUCIBLE_PROCESS_TAG (record both to end them after a crash).
   */
  onSpawn?: (pgid: number, processTag: string) => void;
  /** Called once the command runs, with the handle that names it for `Executor.cancel`. */
  onStart?: (handle: ExecutionHandle) => void;
  /** Called with each chunk of standard output as it arrives, in full (the capture keeps a tail). */
  onStdout?: (chunk: Buffer) => void;
  /** Runs the command inside bubblewrap (see spawn-args.ts); unset: plain `/bin/sh -c`. */
  sandbox?: SandboxWrap;
  /**
   * A file the command reads as its standard input (a command agent's prompt); unset: none. Handed
   * over as an open descriptor, so the command needs no second shell to redirect it.
   */
  stdinPath?: string;
}

/**
 * What happened. A failed, crashed or timed-out command is a normal result, never an exception:
 * only a broken crucible throws.
 */
export interface RunResult {
  command: string;
  cwd: string;
  /** null when the process was ended by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Stopped through the AbortSignal (Ctrl+C). */
  canceled: boolean;
  durationMs: number;
  /** Tail of standard output (at most maxCaptureBytes). */
  stdout: string;
  /** Tail of standard error (at most maxCaptureBytes). */
  stderr: string;
  /** One line for the console: "exit code 1", "timed out after 60s", "killed by SIGKILL". */
  shortMessage: string;
  pgid: number | null;
  /** The command's CRUCIBLE_PROCESS_TAG; null when it never started. */
  processTag: string | null;
}

/**
 * One running command, named so that any later process can end it wherever it runs: the ledger
 * records it when the command starts. `local`: its process group (null when that number may
 * belong to someone else by now) and the tag all its processes carry. Other executors (a Slurm
 * job id) add their own kind.
 */
export type ExecutionHandle =
  | { executor: 'local'; pgid: number | null; processTag: string }
  /**
   * A Slurm batch job: its id, and its name (`crucible-<tag>-<trial>-<project hash>`), by which a
   * later run finds a job whose id never reached the ledger. `dir`: the folder its output goes to.
   */
  | { executor: 'slurm'; jobId: string; name: string; dir: string };

/** A Slurm job's state as the executor saw it change (PENDING, RUNNING, ...), for `status`. */
export interface JobStateChange {
  jobId: string;
  state: string;
}

/**
 * One experiment as one submission: the run command, then (when it exits 0) the eval command,
 * their outputs kept apart. Executors that pay per submission (a batch job) implement it.
 */
export interface ExperimentSpec {
  runCommand: string;
  evalCommand: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Covers the run and eval commands together; time waiting in a queue is not counted. */
  timeoutMs: number;
  logPath?: string;
  killGraceMs?: number;
  sandbox?: SandboxWrap;
  /** Called as each command starts (see RunSpec.onSpawn). */
  onSpawn?: (pgid: number, processTag: string) => void;
  /** Called as each command starts: twice, the run's then the eval's, with the same handle when they share a process. */
  onStart?: (handle: ExecutionHandle) => void;
  /** Called with the eval command's standard output, in full, once it is known. */
  onEvalStdout?: (chunk: Buffer) => void;
  /** Called as the job's state changes (queued, running). */
  onJobState?: (change: JobStateChange) => void;
}

/**
 * What one submission gave. `infrastructure`: the experiment never got a fair run (never left
 * the queue, the node failed twice, the job ended without running): not the change's failure.
 */
export interface ExperimentRun {
  run: RunResult;
  eval: RunResult | null;
  infrastructure?: string;
  /** Time spent waiting in the queue, not counted as experiment time. */
  queuedMs?: number;
}

export interface Executor {
  run(spec: RunSpec, signal?: AbortSignal): Promise<RunResult>;
  /**
   * Ends what `handle` names if it still runs (the experiment of a crucible that was killed):
   * recovery goes through here, never around the executor. Never throws for one that is gone.
   */
  cancel(handle: ExecutionHandle): Promise<void>;
  /**
   * Runs a whole experiment as one submission; runExperiment uses it where it exists. null: it
   * cannot here, and nothing ran; the two commands are run one by one instead.
   */
  runExperiment?(spec: ExperimentSpec, signal?: AbortSignal): Promise<ExperimentRun | null>;
  /**
   * Runs a whole experiment in one sandbox, the run and eval commands one after the other inside
   * it (sandboxedExecutor uses it where the executor has no runExperiment of its own): one
   * sandbox to set up an experiment, not two (decisions 54).
   */
  runSandboxedExperiment?(spec: ExperimentSpec & { sandbox: SandboxWrap }, signal?: AbortSignal): Promise<ExperimentRun | null>;
  /**
   * The result of an experiment a killed crucible left behind (`handle` from its ledger): waits for
   * the job to end, then reads its output. null when there is nothing to adopt (gone, no output).
   */
  adopt?(handle: ExecutionHandle, spec: ExperimentSpec, signal?: AbortSignal): Promise<ExperimentRun | null>;
  /**
   * What names anything this executor may have started for `trial` of this run without the ledger
   * hearing of it (a crucible killed between submitting a job and recording its id).
   */
  orphanHandle?(trial: number): ExecutionHandle;
}
