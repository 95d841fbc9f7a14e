// node:fs/promises through `promises`, read at the first call: a read command that calls none
// of these never loads it (2.5 ms of its start).
import { accessSync, constants, promises as fsp, statSync } from 'node:fs';
import { delimiter, isAbsolute, join as joinPath, resolve as resolvePath } from 'node:path';
import { GitError } from '../errors.js';
import { childProcess } from '../child-process.js';
import { outputOf, readyHostRoute, type HostRoute } from '../runner/host-route.js';

/**
 * A thin adapter over the git CLI: one process per operation, no shell. Every invocation turns
 * off the user's hooks and signing (so neither can stall or fail the loop) and runs in the C
 * locale (so output parses the same everywhere).
 */

export interface GitRunOptions {
  /** Written to git's standard input. */
  input?: string;
  /** Return a non-zero exit as data instead of throwing GitError. */
  allowFail?: boolean;
  /** Variables added to the environment of this one command. */
  env?: NodeJS.ProcessEnv;
}

export interface GitRunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface GitOptions {
  /** Base environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Extra `-c key=value` settings passed to every command. */
  config?: readonly string[];
  /** Extra global options placed before the subcommand (e.g. --git-dir=..., --work-tree=...). */
  globalArgs?: readonly string[];
  /** The folder's place in its repository, where it is known already: showPrefix answers it without git. */
  prefix?: string;
}

export interface Git {
  readonly cwd: string;
  run(args: readonly string[], options?: GitRunOptions): Promise<GitRunResult>;
  /** Full sha of HEAD. */
  headSha(): Promise<string>;
  /** This Git's folder relative to the top of its repository ('' or 'sub/dir/'); asked once. */
  showPrefix(): Promise<string>;
  branchExists(name: string): Promise<boolean>;
  /** Branch `name`'s commit and whether HEAD is on it (one process); null when there is no such branch. */
  branchState(name: string): Promise<{ sha: string; current: boolean } | null>;
  createBranch(name: string, startPoint: string): Promise<void>;
  checkoutBranch(name: string): Promise<void>;
  /**
   * Tracked paths with staged or unstaged changes, relative to this Git's folder and below it.
   * Untracked files belong to the user and never count.
   */
  uncommittedTrackedChanges(): Promise<string[]>;
  /**
   * Commits exactly `paths` (new, modified or deleted) on the current branch, whatever else is
   * staged or changed, and returns the new commit's full sha. Hooks are skipped; the message is
   * passed verbatim through stdin.
   */
  commitFiles(paths: readonly string[], message: string): Promise<string>;
  /**
   * Commits every change to tracked files (`git commit -a`) and returns the new sha. Cheaper than
   * commitFiles; only for a work tree whose every change is known to belong in the commit.
   */
  commitTracked(message: string): Promise<string>;
  /** Points tag `name` at `sha`, replacing a tag of that name. */
  tagCommit(name: string, sha: string): Promise<void>;
  diffBetween(fromSha: string, toSha: string, paths?: readonly string[]): Promise<string>;
  /** Makes `paths` (working tree and index) equal to `sha`; paths absent there are deleted. */
  restorePaths(sha: string, paths: readonly string[]): Promise<void>;
  isAncestor(ancestor: string, descendant: string): Promise<boolean>;
  commitExists(sha: string): Promise<boolean>;
  /** Tag names starting with `prefix`, in git's order. */
  listTags(prefix: string): Promise<string[]>;
  /** Environment additions for commits: empty when the repository has an identity, crucible's otherwise. */
  identityEnv(): Promise<NodeJS.ProcessEnv>;
  /**
   * `git var -l` with identityEnv's additions (settings, and the identities git writes): asked
   * once per Git, as the identity is. Its exit code says whether git could answer.
   */
  listVars(): Promise<GitRunResult>;
}

export const CRUCIBLE_IDENTITY = { name: 'crucible', email: 'crucible@localhost' } as const;

const BASE_CONFIG = ['commit.gpgsign=false', 'tag.gpgsign=false', 'core.hooksPath=/dev/null'];

// Variables that would point git at another repository than the one we mean (set when crucible
// itself runs inside a git hook, for instance).
const REDIRECTING_ENV = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_PREFIX'];

const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/** The first 7 characters of a sha, as git shows it by default. */
export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

export function createGit(cwd: string, options: GitOptions = {}): Git {
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), LC_ALL: 'C', GIT_TERMINAL_PROMPT: '0' };
  for (const name of REDIRECTING_ENV) delete env[name];
  const prefixArgs = [...(options.config ?? []), ...BASE_CONFIG].flatMap((setting) => ['-c', setting]);
  prefixArgs.push(...(options.globalArgs ?? []));
  let identity: Promise<Identity> | undefined;
  let vars: Promise<GitRunResult> | undefined;

  const run = (args: readonly string[], opts: GitRunOptions = {}) =>
    execGit({ cwd, fullArgs: [...prefixArgs, ...args], env: opts.env ? { ...env, ...opts.env } : env, opts, shownArgs: args });

  const succeeds = async (args: readonly string[]) => (await run(args, { allowFail: true })).exitCode === 0;

  const detected = () => {
    identity ??= detectIdentity(run, env);
    return identity;
  };
  const identityEnv = async () => (await detected()).env;
  const listVars = () => {
    vars ??= detected().then((found) => found.listed ?? run(['var', '-l'], { allowFail: true, env: found.env }));
    return vars;
  };

  const headSha = async () => (await run(['rev-parse', '--verify', 'HEAD'])).stdout.trim();
  // A folder's place in its repository does not change while crucible works in it: one process, not one per check.
  let prefix: Promise<string> | undefined = options.prefix === undefined ? undefined : Promise.resolve(options.prefix);
  const showPrefix = () => {
    if (prefix === undefined) {
      prefix = run(['rev-parse', '--show-prefix']).then((r) => r.stdout.trim());
      // A failure (no repository yet) is not remembered: the next call asks git again.
      prefix.catch(() => (prefix = undefined));
    }
    return prefix;
  };

  return {
    cwd,
    run,
    identityEnv,
    listVars,
    headSha,
    showPrefix,
    branchExists: (name) => succeeds(['show-ref', '--verify', '--quiet', `refs/heads/${name}`]),
    async branchState(name) {
      const ref = `refs/heads/${name}`;
      // A pattern names a ref and those below it: the exact name is picked out of what it lists.
      const { stdout } = await run(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(HEAD)', ref]);
      for (const line of stdout.split('\n')) {
        const [refname, sha, head] = line.split('\0');
        if (refname === ref && sha) return { sha, current: head === '*' };
      }
      return null;
    },
    async createBranch(name, startPoint) {
      await run(['branch', '--no-track', '--', name, startPoint]);
    },
    async checkoutBranch(name) {
      await run(['switch', '--no-guess', '-q', name]);
    },
    async uncommittedTrackedChanges() {
      // Relative to this Git's folder (a project may be a subfolder of its repository), as
      // config paths are; files outside it are not the project's.
      const { stdout } = await run(['status', '--porcelain=v1', '-z', '--untracked-files=no', '--ignore-submodules=untracked', '--', '.']);
      const prefix = await showPrefix();
      return parseStatusPaths(stdout).map((p) => (prefix !== '' && p.startsWith(prefix) ? p.slice(prefix.length) : p));
    },
    async commitFiles(paths, message) {
      if (paths.length === 0) throw new Error('commitFiles needs at least one path');
      // `--only` commits just these paths and leaves whatever else the user staged staged.
      // With core.abbrev=no the summary line "[branch sha] subject" holds the full sha.
      const commit = async () => {
        // Automatic gc would start after some commits, in the middle of a trial: the loop runs
        // `git gc --auto` itself when a session ends instead.
        const args = ['-c', 'core.abbrev=no', '-c', 'gc.auto=0', '-c', 'maintenance.auto=false', '--literal-pathspecs', 'commit', '--only', '--no-verify',
          '--cleanup=verbatim', '--allow-empty-message', '-F', '-', '--', ...paths];
        return run(args, { input: message, env: await identityEnv(), allowFail: true });
      };
      let result = await commit();
      if (result.exitCode !== 0 && /did not match any file\(s\) known to git/.test(result.stderr)) {
        // A new (or ignored) file: make it known to git, then commit again. Trials that only
        // modify files cost one process; those that add files, three.
        await run(['--literal-pathspecs', 'add', '-A', '-f', '--', ...paths]);
        result = await commit();
      }
      if (result.exitCode !== 0) throw new GitError(['commit', '--only', '--', ...paths], result.stderr || result.stdout, result.exitCode);
      return /^\[.*?([0-9a-f]{40}(?:[0-9a-f]{24})?)\]/m.exec(result.stdout)?.[1] ?? (await headSha());
    },
    async commitTracked(message) {
      const args = ['-c', 'core.abbrev=no', '-c', 'gc.auto=0', '-c', 'maintenance.auto=false', 'commit', '-a', '--no-verify',
        '--cleanup=verbatim', '--allow-empty-message', '-F', '-'];
      const result = await run(args, { input: message, env: await identityEnv(), allowFail: true });
      if (result.exitCode !== 0) throw new GitError(['commit', '-a'], result.stderr || result.stdout, result.exitCode);
      return /^\[.*?([0-9a-f]{40}(?:[0-9a-f]{24})?)\]/m.exec(result.stdout)?.[1] ?? (await headSha());
    },
    async tagCommit(name, sha) {
      await run(['tag', '-f', name, sha]);
    },
    async diffBetween(fromSha, toSha, paths) {
      const args = ['--literal-pathspecs', 'diff', '--no-color', '--no-ext-diff', '--no-renames', fromSha, toSha];
      if (paths) args.push('--', ...paths);
      return (await run(args)).stdout;
    },
    async restorePaths(sha, paths) {
      if (paths.length === 0) return;
      const present = new Set(
        // Names relative to this Git's folder, like `paths` (a project may be a subfolder).
        (await run(['--literal-pathspecs', 'ls-tree', '-r', '-z', '--name-only', sha, '--', ...paths])).stdout
          .split('\0')
          .filter(Boolean),
      );
      const inCommit = paths.filter((p) => present.has(p));
      const absent = paths.filter((p) => !present.has(p));
      if (inCommit.length > 0) await run(['--literal-pathspecs', 'checkout', '-q', sha, '--', ...inCommit]);
      if (absent.length > 0) {
        // Remove them from the index too (a commit may have staged them), then from disk.
        await run(['--literal-pathspecs', 'rm', '-q', '-f', '-r', '--ignore-unmatch', '--', ...absent]);
        await Promise.all(absent.map((p) => fsp.rm(resolvePath(cwd, p), { force: true })));
      }
    },
    isAncestor: (ancestor, descendant) => succeeds(['merge-base', '--is-ancestor', ancestor, descendant]),
    commitExists: (sha) => succeeds(['cat-file', '-e', `${sha}^{commit}`]),
    async listTags(prefix) {
      const { stdout } = await run(['for-each-ref', '--format=%(refname)', 'refs/tags/']);
      return stdout
        .split('\n')
        .map((ref) => ref.slice('refs/tags/'.length))
        .filter((name) => name !== '' && name.startsWith(prefix));
    },
  };
}

/** Paths from `git status --porcelain=v1 -z` output; both sides of a rename. */
function parseStatusPaths(stdout: string): string[] {
  const fields = stdout.split('\0');
  const paths: string[] = [];
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.length < 4) continue;
    paths.push(field.slice(3));
    // A rename or copy is followed by its source path in the next field.
    if (/[RC]/.test(field.slice(0, 2)) && fields[i + 1]) paths.push(fields[++i]!);
  }
  return paths;
}

interface Identity {
  /** What commits need added to the environment. */
  env: NodeJS.ProcessEnv;
  /** `git var -l` as run with that environment, when it was run on the way. */
  listed: GitRunResult | null;
}

/**
 * Whether git has an identity to commit with, for the author and for the committer, as git's
 * strict check (`git var GIT_AUTHOR_IDENT`, `git var GIT_COMMITTER_IDENT`) says, but without a
 * process of its own where the settings answer: `git var -l` (which every in-process commit
 * reads anyway) lists them, and a name and an email given by the environment or the settings are
 * what the strict check accepts. Anything else (an email git would guess from the host name) is
 * left to git's check; a role it refuses commits as crucible.
 */
async function detectIdentity(
  run: (args: readonly string[], opts?: GitRunOptions) => Promise<GitRunResult>,
  env: NodeJS.ProcessEnv,
): Promise<Identity> {
  const listed = await run(['var', '-l'], { allowFail: true });
  const values = listed.exitCode === 0 ? parseVars(listed.stdout) : null;
  const fallback: NodeJS.ProcessEnv = {};
  for (const role of ['AUTHOR', 'COMMITTER'] as const) {
    if (values !== null && hasExplicitIdentity(values, env, role)) continue;
    if ((await run(['var', `GIT_${role}_IDENT`], { allowFail: true })).exitCode === 0) continue;
    const wanted = { [`GIT_${role}_NAME`]: CRUCIBLE_IDENTITY.name, [`GIT_${role}_EMAIL`]: CRUCIBLE_IDENTITY.email };
    for (const [key, value] of Object.entries(wanted)) if (!env[key]) fallback[key] = value;
  }
  return { env: fallback, listed: Object.keys(fallback).length === 0 ? listed : null };
}

/** `git var -l` output: lower-cased names (settings are case-insensitive) to values; the last wins. */
export function parseVars(stdout: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq).toLowerCase(), line.slice(eq + 1));
  }
  return values;
}

// git strips these from both ends of a name or an email; one made only of them is refused.
const IDENT_CRUD = /^[\s.,:;<>"'\\]*$/;

function hasExplicitIdentity(values: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv, role: 'AUTHOR' | 'COMMITTER'): boolean {
  // user.useConfigOnly makes git refuse what it would otherwise guess: leave every case of it to git.
  if (values.has('user.useconfigonly')) return false;
  const given = (value: string | undefined) => value !== undefined && !IDENT_CRUD.test(value);
  // In git's order: the role's variable, the role's setting, then user.* (and EMAIL for an email).
  // The first one set decides; an empty one (which git treats in ways of its own) leaves it to git.
  const first = (...candidates: Array<string | undefined>) => candidates.find((value) => value !== undefined);
  const setting = role.toLowerCase();
  const name = first(env[`GIT_${role}_NAME`], values.get(`${setting}.name`), values.get('user.name'));
  const email = first(env[`GIT_${role}_EMAIL`], values.get(`${setting}.email`), values.get('user.email'), env['EMAIL']);
  return given(name) && given(email);
}

/** One git process: where, its whole argument list, its environment, the caller's options, and the arguments its errors show. */
interface GitCall {
  cwd: string;
  fullArgs: readonly string[];
  env: NodeJS.ProcessEnv;
  opts: GitRunOptions;
  shownArgs: readonly string[];
}

function execGit(call: GitCall): Promise<GitRunResult> {
  const { cwd, fullArgs, env, opts, shownArgs } = call;
  // During a run, through its spawn host: Node's spawn forks crucible, 5 to 15 ms a process on
  // this project's machines (decisions 63, 64, 66). posix_spawn needs git's path.
  const route = readyHostRoute();
  const file = route === null ? null : gitOnPath(env['PATH']);
  if (route !== null && file !== null) return execGitThrough(route, file, call);
  return new Promise((resolve, reject) => {
    const child = childProcess().execFile(
      'git',
      fullArgs,
      { cwd, env, encoding: 'utf8', maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        if (error && exitCode === null) {
          // git missing, cwd missing, output too large: nothing a retry or the caller can fix.
          const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? `cannot run git in ${cwd}` : error.message;
          reject(new GitError(shownArgs, reason, null));
          return;
        }
        const result = { stdout, stderr, exitCode: exitCode ?? 0 };
        if (result.exitCode !== 0 && !opts.allowFail) reject(new GitError(shownArgs, stderr, result.exitCode));
        else resolve(result);
      },
    );
    child.stdin?.on('error', () => {
      // git may exit before reading all of its input; the exit code tells what happened.
    });
    child.stdin?.end(opts.input ?? '');
  });
}

/**
 * `git` as execvp would find it on `path` (the first executable regular file named git), cached
 * by PATH; null when there is none (Node's spawn then reports it as before).
 */
function gitOnPath(path: string | undefined): string | null {
  const key = path ?? '';
  const known = gitPaths.get(key);
  if (known !== undefined) return known;
  let found: string | null = null;
  for (const dir of key.split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue;
    const candidate = joinPath(dir, 'git');
    try {
      accessSync(candidate, constants.X_OK);
      if (!statSync(candidate).isFile()) continue;
      found = candidate;
      break;
    } catch {
      // not here
    }
  }
  gitPaths.set(key, found);
  return found;
}

const gitPaths = new Map<string, string | null>();

/**
 * execGit through the run's spawn host: the same result, the same errors. git runs in a session
 * of its own there: it has no terminal to prompt on, as GIT_TERMINAL_PROMPT=0 already asks.
 */
async function execGitThrough(route: HostRoute, file: string, { cwd, fullArgs, env, opts, shownArgs }: GitCall): Promise<GitRunResult> {
  const input = opts.input ?? '';
  const child = await route.start({ file, args: fullArgs, cwd, env, stdio: [input === '' ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (child instanceof Error) throw new GitError(shownArgs, child.code === 'ENOENT' ? `cannot run git in ${cwd}` : child.message, null);
  const { exit, stdout: out, stderr: err, overflow } = await outputOf(child, input, MAX_OUTPUT_BYTES);
  if (overflow) throw new GitError(shownArgs, 'its output was too large', null);
  if (exit.code === null) throw new GitError(shownArgs, exit.lost ?? `git was killed by ${exit.signal ?? 'a signal'}`, null);
  const result = { stdout: out.toString('utf8'), stderr: err.toString('utf8'), exitCode: exit.code };
  if (result.exitCode !== 0 && !opts.allowFail) throw new GitError(shownArgs, result.stderr, result.exitCode);
  return result;
}
