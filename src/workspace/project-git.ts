import { realpath, stat } from 'node:fs/promises';
import { ProjectError } from '../errors.js';
import { createGit, type GitOptions } from './git.js';

/** Repository-level questions asked before there is a Git for the project: is it one, where is its root. */

export async function isInsideRepo(dir: string, options?: GitOptions): Promise<boolean> {
  if (!(await isDirectory(dir))) return false;
  const result = await createGit(dir, options).run(['rev-parse', '--is-inside-work-tree'], { allowFail: true });
  return result.exitCode === 0 && result.stdout.trim() === 'true';
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
