/**
 * Errors crucible reports to its user. Each carries a stable code and the exit code the CLI
 * uses; the message is one line that says what went wrong and where. Anything else thrown is a
 * bug in crucible and is reported with its stack.
 *
 * The table of exit codes is published in docs/exit-codes.md; keep the two in agreement.
 */

export const ExitCode = {
  ok: 0,
  /** A command ran and reported failure (validate found problems, setup command failed). */
  failure: 1,
  /** Bad command line: unknown flag, missing argument. */
  usage: 2,
  /** The config file is missing, unreadable or invalid. */
  config: 3,
  /** The project is not in a state the command can work with (no runs, dirty tree, not empty). */
  project: 4,
  /** Another `crucible run` holds the lock on this run. */
  locked: 5,
  /** A git command failed in a way crucible cannot recover from. */
  git: 6,
  /** The agent backend cannot work at all (missing command, bad credentials). */
  agent: 7,
  /** A bug in crucible itself. */
  internal: 70,
  /** Stopped by Ctrl+C (SIGINT) or SIGTERM. */
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode =
  | 'CRUCIBLE_USAGE'
  | 'CRUCIBLE_CONFIG_INVALID'
  | 'CRUCIBLE_PROJECT'
  | 'CRUCIBLE_LOCKED'
  | 'CRUCIBLE_GIT'
  | 'CRUCIBLE_AGENT'
  | 'CRUCIBLE_FAILURE';

const exitCodeOf: Record<ErrorCode, ExitCodeValue> = {
  CRUCIBLE_USAGE: ExitCode.usage,
  CRUCIBLE_CONFIG_INVALID: ExitCode.config,
  CRUCIBLE_PROJECT: ExitCode.project,
  CRUCIBLE_LOCKED: ExitCode.locked,
  CRUCIBLE_GIT: ExitCode.git,
  CRUCIBLE_AGENT: ExitCode.agent,
  CRUCIBLE_FAILURE: ExitCode.failure,
};

export class CrucibleError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCodeValue;
  /** Extra lines shown under the message (hints); never a stack trace. */
  readonly hints: readonly string[];

  constructor(code: ErrorCode, message: string, options: { hints?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CrucibleError';
    this.code = code;
    this.exitCode = exitCodeOf[code];
    this.hints = options.hints ?? [];
  }
}

export class UsageError extends CrucibleError {
  constructor(message: string, options?: { hints?: readonly string[] }) {
    super('CRUCIBLE_USAGE', message, options);
    this.name = 'UsageError';
  }
}

export class ConfigError extends CrucibleError {
  /** Every problem found, each already one self-contained line. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[], options?: { hints?: readonly string[] }) {
    super('CRUCIBLE_CONFIG_INVALID', problems[0] ?? 'invalid config', options);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export class ProjectError extends CrucibleError {
  constructor(message: string, options?: { hints?: readonly string[]; cause?: unknown }) {
    super('CRUCIBLE_PROJECT', message, options);
    this.name = 'ProjectError';
  }
}

export class LockedError extends CrucibleError {
  constructor(message: string, options?: { hints?: readonly string[] }) {
    super('CRUCIBLE_LOCKED', message, options);
    this.name = 'LockedError';
  }
}

export class GitError extends CrucibleError {
  readonly args: readonly string[];
  readonly stderr: string;

  constructor(args: readonly string[], stderr: string, exitCode: number | null) {
    const firstLine = stderr.trim().split('\n').find((line) => line.trim() !== '') ?? `exit code ${String(exitCode)}`;
    super('CRUCIBLE_GIT', `git ${args.join(' ')} failed: ${firstLine}`);
    this.name = 'GitError';
    this.args = args;
    this.stderr = stderr;
  }
}

/** Why an agent could not produce a proposal. The loop decides what each kind means. */
export type AgentErrorKind =
  /** Credentials or configuration are wrong: retrying cannot help, the run stops. */
  | 'fatal'
  /** Rate limit, overload, network hiccup: worth retrying with backoff. */
  | 'transient'
  /** The agent ran past its time limit. */
  | 'timeout'
  /** The agent failed on this trial (crashed, bad reply); the trial is recorded as an agent error. */
  | 'failed';

/** Tokens and cost a failed attempt still used (the shape of AgentUsage in agents/types.ts). */
export interface FailedAttemptUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number | null;
}

export class AgentError extends CrucibleError {
  readonly kind: AgentErrorKind;
  /** What the failed attempt cost, when the backend knows: budgets count it too. */
  usage: FailedAttemptUsage | undefined;

  constructor(kind: AgentErrorKind, message: string, options?: { hints?: readonly string[]; cause?: unknown; usage?: FailedAttemptUsage }) {
    super('CRUCIBLE_AGENT', message, options);
    this.name = 'AgentError';
    this.kind = kind;
    this.usage = options?.usage;
  }
}

/** A failure that has already been reported to the user: the CLI only has to exit. */
export class ExitError extends Error {
  readonly exitCode: number;

  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = 'ExitError';
    this.exitCode = exitCode;
  }
}

export function isCrucibleError(error: unknown): error is CrucibleError {
  return error instanceof CrucibleError;
}

/** For exhaustive switches over unions: a new member becomes a compile error here. */
export function checkExhaustive(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}
