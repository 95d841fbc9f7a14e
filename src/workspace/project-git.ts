import { realpath, stat } from 'node:fs/promises';
import { ProjectError } from '../errors.js';
import { createGit, type GitOptions } from './git.js';

/** Repository-level questions asked before there is a Git for the project: is it one, where is its root. */

export async function isInsideRepo(dir: string, options?: GitOptions): Promise<boolean> {
  if (!(await isDirectory(dir))) return false;
  const result = await createGit(dir, options).run(['rev-parse', '--is-inside-work-tree'], { allowFail: true });
  return result.exitCode === 0 && result.stdout.trim() === 'true';
}

export interface WorkTreeProbe {
  /** Whether `dir` is inside a work tree (not a plain folder, not a git folder). */
  inside: boolean;
  /** `dir` relative to the top of the work tree ('' or 'sub/dir/'), as `git rev-parse --show-prefix`. */
  prefix: string;
  /** The full sha of HEAD; null before the first commit. */
  head: string | null;
  /** Where the work tree and its git folders are (as repoLayout, and the work tree's own git folder); null outside one. */
  layout: (RepoLayout & { gitDir: string }) | null;
}

/**
 * What a run asks of its folder before it starts, in one git process: whether it is in a work
 * tree, where in it, where its git folders are, and the commit HEAD names (git prints the rest
 * even where HEAD has no commit yet, and exits 1).
 */
export async function probeWorkTree(dir: string, options?: GitOptions): Promise<WorkTreeProbe> {
  const outside = { inside: false, prefix: '', head: null, layout: null };
  if (!(await isDirectory(dir))) return outside;
  const result = await createGit(dir, options).run(
    ['rev-parse', '--is-inside-work-tree', '--show-prefix', '--path-format=absolute', '--show-toplevel', '--git-common-dir', '--absolute-git-dir', '--verify', '--quiet', 'HEAD'],
    { allowFail: true },
  );
  const [inside, prefix = '', top, commonDir, gitDir, head] = result.stdout.split('\n');
  if (inside !== 'true' || !top || !commonDir || !gitDir) return outside;
  return {
    inside: true,
    prefix,
    head: result.exitCode === 0 && head ? head : null,
    layout: { top: await realpath(top), commonDir, gitDir, prefix: prefix.replace(/\/$/, '') },
  };
}

/** The real path of the top folder of the work tree that holds `dir`. */
export async function repoRoot(dir: string, options?: GitOptions): Promise<string> {
  return (await repoLayout(dir, options)).top;
}

export interface RepoLayout {
  /** Top of the work tree, real path. */
  top: string;
  /** The repository's shared git folder (`.git` of the main work tree), absolute. */
  commonDir: string;
  /** `dir` relative to `top` with "/" separators; "" when they are the same. */
  prefix: string;
}

export async function repoLayout(dir: string, options?: GitOptions): Promise<RepoLayout> {
  if (!(await isDirectory(dir))) throw new ProjectError(`${dir} is not a folder`);
  const result = await createGit(dir, options).run(
    ['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir', '--show-prefix'],
    { allowFail: true },
  );
  const [top, commonDir, prefix] = result.stdout.split('\n');
  if (result.exitCode !== 0 || !top || !commonDir) {
    throw new ProjectError(`${dir} is not inside a git repository`, { hints: ['Run `git init` there, or let `crucible run` create one.'] });
  }
  return { top: await realpath(top), commonDir, prefix: (prefix ?? '').replace(/\/$/, '') };
}

/**
 * Turns `dir` into a repository on branch main whose first commit ("initial") holds every file
 * not ignored by a .gitignore; used when crucible is pointed at a folder that is not one yet.
 * Returns the sha of that commit.
 */
export async function initRepo(dir: string, options?: GitOptions): Promise<string> {
  const git = createGit(dir, options);
  await git.run(['init', '-q', '-b', 'main']);
  await git.run(['add', '-A']);
  await git.run(['commit', '-q', '--no-verify', '--allow-empty', '-m', 'initial'], { env: await git.identityEnv() });
  return git.headSha();
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}
