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
  /** The machine refused a write crucible needs: disk full, read-only, no permission, I/O error (sysexits' EX_IOERR). */
  storage: 74,
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
  | 'CRUCIBLE_STORAGE'
  | 'CRUCIBLE_FAILURE';

const exitCodeOf: Record<ErrorCode, ExitCodeValue> = {
  CRUCIBLE_USAGE: ExitCode.usage,
  CRUCIBLE_CONFIG_INVALID: ExitCode.config,
  CRUCIBLE_PROJECT: ExitCode.project,
  CRUCIBLE_LOCKED: ExitCode.locked,
  CRUCIBLE_GIT: ExitCode.git,
  CRUCIBLE_AGENT: ExitCode.agent,
  CRUCIBLE_STORAGE: ExitCode.storage,
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

// git's own words for a lock it cannot take: "fatal: Unable to create '/repo/.git/index.lock': File exists."
const GIT_LOCK_EXISTS = /Unable to create '([^'\n]+\.lock)': File exists/;

/** The errno codes of a machine that refuses a write, and what a user can do about each. */
const STORAGE_PROBLEMS = {
  ENOSPC: { what: 'no space left on device', advice: 'Free some space on that disk, then run again: the run resumes where it stopped.' },
  EDQUOT: { what: 'disk quota exceeded', advice: 'Free some space (or have the quota raised), then run again: the run resumes where it stopped.' },
  EFBIG: { what: 'file too large for the file size limit', advice: 'Raise the file size limit (ulimit -f unlimited), then run again: the run resumes where it stopped.' },
  EROFS: { what: 'read-only file system', advice: 'Remount that file system writable, or work on a copy of the project on a writable disk.' },
  EACCES: { what: 'permission denied', advice: 'Give your user write access to it (check its owner and mode), then run again.' },
  EPERM: { what: 'operation not permitted', advice: 'Check its owner and attributes (lsattr; `chattr -i` removes an immutable flag), then run again.' },
  EIO: { what: 'input/output error', advice: 'The disk may be failing: check the system log (dmesg) before running again.' },
  EISDIR: { what: 'it is a folder, where crucible needs a file', advice: 'Move that folder away (crucible creates the file), then run again.' },
  ENOTDIR: { what: 'part of that path is a file, where crucible needs a folder', advice: 'Move that file away (crucible creates the folder), then run again.' },
} as const;

type StorageCode = keyof typeof STORAGE_PROBLEMS;

// strerror(3) in the C locale: what git prints for the same codes.
// git's own words where it says no errno: writing an index or a pack it checksums (csum-file.c).
const STRERROR: Partial<Record<StorageCode, readonly string[]>> = {
  ENOSPC: ['No space left on device', 'Out of diskspace'],
  EDQUOT: ['Disk quota exceeded'],
  EFBIG: ['File too large'],
  EROFS: ['Read-only file system'],
  EIO: ['Input/output error'],
};

const ACTIONS: Record<string, string> = {
  open: 'cannot open',
  write: 'cannot write',
  fsync: 'cannot write',
  fdatasync: 'cannot write',
  ftruncate: 'cannot write',
  copyfile: 'cannot copy to',
  mkdir: 'cannot create folder',
  mkdtemp: 'cannot create folder',
  rename: 'cannot rename',
  unlink: 'cannot remove',
  rmdir: 'cannot remove',
  rm: 'cannot remove',
  link: 'cannot create',
  symlink: 'cannot create',
  chmod: 'cannot change',
  utime: 'cannot change',
  read: 'cannot read',
  scandir: 'cannot read folder',
  opendir: 'cannot read folder',
  stat: 'cannot access',
  lstat: 'cannot access',
  access: 'cannot access',
  realpath: 'cannot access',
};

export class GitError extends CrucibleError {
  readonly args: readonly string[];
  readonly stderr: string;
  /** The lock file git could not create because it exists (another git, or one that was killed), or null. */
  readonly lockFile: string | null;

  constructor(args: readonly string[], stderr: string, exitCode: number | null) {
    const firstLine = stderr.trim().split('\n').find((line) => line.trim() !== '') ?? `exit code ${String(exitCode)}`;
    const lockFile = GIT_LOCK_EXISTS.exec(stderr)?.[1] ?? null;
    // git gives no error code, only the C library's text (crucible runs it with LC_ALL=C).
    const storage = Object.entries(STRERROR).find(([, texts]) => texts.some((text) => stderr.includes(text)))?.[0] as StorageCode | undefined;
    const hints = lockFile
      ? [`Another git process may be running in this repository; wait for it to finish. If none is, remove ${lockFile} (left behind by a git that was killed), then run again.`]
      : storage
        ? [STORAGE_PROBLEMS[storage].advice]
        : [];
    // Said in the words crucible's own storage errors use, where git's are its own.
    const said = storage && !firstLine.toLowerCase().includes(STORAGE_PROBLEMS[storage].what) ? ` (${STORAGE_PROBLEMS[storage].what}, ${storage})` : '';
    super(storage ? 'CRUCIBLE_STORAGE' : 'CRUCIBLE_GIT', `git ${args.join(' ')} failed: ${firstLine}${said}`, { hints });
    this.name = 'GitError';
    this.args = args;
    this.stderr = stderr;
    this.lockFile = lockFile;
  }
}

/** The machine refused a file operation crucible needs (a full disk, a read-only file, an I/O error). */
export class StorageError extends CrucibleError {
  /** The errno code, e.g. "ENOSPC". */
  readonly errno: StorageCode;
  /** The file or folder, when known. */
  readonly file: string | null;

  constructor(errno: StorageCode, file: string | null, action: string, options: { cause?: unknown } = {}) {
    const problem = STORAGE_PROBLEMS[errno];
    super('CRUCIBLE_STORAGE', `${action}${file ? ` ${file}` : ''}: ${problem.what} (${errno})`, { hints: [problem.advice], cause: options.cause });
    this.name = 'StorageError';
    this.errno = errno;
    this.file = file;
  }
}

/**
 * A StorageError for a Node file-system error whose `code` says the machine refused (see
 * STORAGE_PROBLEMS); null for anything else. `file` and `action` stand in for what the error does
 * not say itself (a write on a descriptor names no path).
 */
export function storageErrorFrom(error: unknown, file?: string, action?: string): StorageError | null {
  if (error instanceof StorageError) return error;
  if (typeof error !== 'object' || error === null) return null;
  const { code, path, dest, syscall } = error as NodeJS.ErrnoException & { dest?: unknown };
  if (typeof code !== 'string' || !(code in STORAGE_PROBLEMS)) return null;
  // Only file-system calls: an EACCES from spawn or an EPERM from kill is another story.
  const verb = action ?? (syscall === undefined ? undefined : ACTIONS[syscall]);
  if (verb === undefined) return null;
  const where = file ?? (typeof dest === 'string' && syscall !== 'open' ? dest : path) ?? null;
  return new StorageError(code as StorageCode, where, verb, { cause: error });
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
