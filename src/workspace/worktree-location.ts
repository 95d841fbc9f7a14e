import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ProjectError } from '../errors.js';
import type { Git } from './git.js';

/**
 * Where an agent worktree lives, and how crucible finds and removes it again.
 *
 * Each worktree sits in a private folder crucible makes for it (mkdtemp: a name nobody can compute
 * in advance, owner only, 0700) under a shared parent such as /tmp, where anyone may plant files.
 * The folder holds a marker with a random token; the worktree's registration in the project's
 * repository is locked with a reason naming the run and the same token. A later run finds a killed
 * run's worktree through that registration, and deletes the folder only when it is still the one
 * crucible made: a real folder (no symbolic link anywhere in its path), the user's, private, and
 * holding the token.
 */

export interface PrivateFolder {
  /** Real path. */
  readonly dir: string;
  readonly token: string;
}

const MARKER = '.crucible-worktree';
const REASON = /^crucible agent worktree ([0-9a-f]{16}) ([0-9a-f]{32})$/;

/**
 * The folder under which crucible makes its private folders: `baseDir`, else
 * `$CRUCIBLE_WORKTREE_DIR`, else the system temp folder. Created when missing; its real path.
 */
export async function worktreeParent(baseDir: string | undefined, env: NodeJS.ProcessEnv, repoTop: string): Promise<string> {
  const wanted = path.resolve(baseDir || env['CRUCIBLE_WORKTREE_DIR'] || os.tmpdir());
  const inside = (dir: string): boolean => `${dir}${path.sep}`.startsWith(`${repoTop}${path.sep}`);
  const refuse = (dir: string): ProjectError =>
    new ProjectError(`the agent worktree would be inside the repository ${repoTop} (under ${dir})`, {
      hints: ['Set CRUCIBLE_WORKTREE_DIR to a folder outside the project.'],
    });
  if (inside(wanted)) throw refuse(wanted);
  const real = await mkdir(wanted, { recursive: true })
    .then(() => realpath(wanted))
    .catch((error: NodeJS.ErrnoException) => {
      throw new ProjectError(`cannot make the agent worktree folder under ${wanted}: ${error.code ?? error.message}`, {
        hints: ['Set CRUCIBLE_WORKTREE_DIR to a folder you can write to.'],
      });
    });
  if (inside(real)) throw refuse(real);
  return real;
}

/** Names a run's worktrees among all of a repository's: one project (its path in the repository) and tag. */
export function worktreeId(prefix: string, tag: string): string {
  return createHash('sha256').update(`${prefix}\0${tag}`).digest('hex').slice(0, 16);
}

/** A folder name for the tag: the tag itself when it is a safe name, else a sanitised one made unique by a hash. */
export function worktreeName(tag: string): string {
  const safe = tag.replace(/[^\w.-]+/g, '-');
  if (safe === tag && !tag.startsWith('.')) return tag;
  return `${safe.replace(/^\.+/, '')}-${createHash('sha256').update(tag).digest('hex').slice(0, 8)}`;
}

/** The reason a worktree's registration is locked with: it keeps `git worktree prune` off it and says whose it is. */
export function lockReason(id: string, token: string): string {
  return `crucible agent worktree ${id} ${token}`;
}

/** Makes a new private folder under `parent` and marks it as crucible's. */
export async function createPrivateFolder(parent: string, label: string): Promise<PrivateFolder> {
  // mkdtemp never reuses a name that exists (a planted link or folder) and makes the folder 0700.
  const name = `crucible-${label.replace(/[^\w.-]+/g, '-').slice(0, 40)}-`;
  const dir = await mkdtemp(path.join(parent, name)).catch((error: NodeJS.ErrnoException) => {
    throw new ProjectError(`cannot make the agent worktree folder under ${parent}: ${error.code ?? error.message}`, {
      hints: ['Set CRUCIBLE_WORKTREE_DIR to a folder you can write to.'],
    });
  });
  if (!(await isPrivateFolder(dir))) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${dir} was not made private (owner only, 0700)`);
  }
  const token = randomBytes(16).toString('hex');
  await writeFile(path.join(dir, MARKER), `${token}\n`, { flag: 'wx', mode: 0o600 });
  return { dir, token };
}

/**
 * Deletes `dir` when it is the private folder crucible made with `token`, and says whether it is
 * gone. Anything else there (a symbolic link, someone else's folder, one without the token) stays.
 */
export async function removePrivateFolder(dir: string, token: string): Promise<boolean> {
  const info = await lstat(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? null : undefined));
  if (info === null) return true;
  if (info === undefined || !(await isPrivateFolder(dir)) || (await readMarker(dir)) !== token) return false;
  // rm never follows the links inside; the folder itself was checked just above.
  await rm(dir, { recursive: true, force: true });
  return true;
}

/**
 * Removes the worktree at `top` (its private folder, when it is crucible's) and then its
 * registration. Returns false, touching nothing, when the folder is not crucible's.
 */
export async function removeRegisteredWorktree(projectGit: Git, top: string, token: string): Promise<boolean> {
  if (!(await removePrivateFolder(path.dirname(top), token))) return false;
  // With its folder gone this drops exactly this registration, locked or not; `git worktree
  // prune` would drop every registration whose folder is missing, the user's too.
  await projectGit.run(['worktree', 'remove', '--force', '--force', top], { allowFail: true });
  return true;
}

/**
 * Removes what killed runs of run `id` left: each worktree registered with its lock reason, found
 * in the repository's worktree records (`<common dir>/worktrees/<name>/{locked,gitdir}`, as
 * gitrepository-layout(5) documents them), when its folder is still crucible's.
 */
export async function removeStaleWorktrees(projectGit: Git, commonDir: string, id: string): Promise<void> {
  const records = path.join(commonDir, 'worktrees');
  for (const name of await readdir(records).catch(() => [])) {
    const reason = (await readFile(path.join(records, name, 'locked'), 'utf8').catch(() => '')).trim().match(REASON);
    if (!reason || reason[1] !== id) continue;
    const gitFile = (await readFile(path.join(records, name, 'gitdir'), 'utf8').catch(() => '')).trim();
    // One that cannot be deleted (an agent made a folder in it read-only) stays; it must not stop the run.
    if (path.isAbsolute(gitFile)) await removeRegisteredWorktree(projectGit, path.dirname(gitFile), reason[2]!).catch(() => false);
  }
}

/** The worktree's own git folder when `top` is a live worktree of this repository; null otherwise. */
export async function registeredGitDir(top: string, commonDir: string): Promise<string | null> {
  const pointer = await readFile(path.join(top, '.git'), 'utf8').catch(() => null);
  const gitDir = pointer?.match(/^gitdir: (.+)$/m)?.[1];
  if (!gitDir || path.dirname(gitDir) !== path.join(commonDir, 'worktrees')) return null;
  const backLink = await readFile(path.join(gitDir, 'gitdir'), 'utf8').catch(() => null);
  const realTop = await realpath(top).catch(() => top);
  const linkedTop = backLink === null ? null : path.dirname(backLink.trim());
  if (linkedTop !== realTop && linkedTop !== top) return null;
  return gitDir;
}

/** A real folder at its real path (no link on the way), the user's, that nobody else may enter. */
async function isPrivateFolder(dir: string): Promise<boolean> {
  const info = await lstat(dir).catch(() => null);
  if (!info?.isDirectory() || (info.mode & 0o077) !== 0) return false;
  if (process.getuid !== undefined && info.uid !== process.getuid()) return false;
  return (await realpath(dir).catch(() => null)) === dir;
}

async function readMarker(dir: string): Promise<string | null> {
  const handle = await open(path.join(dir, MARKER), constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => null);
  if (!handle) return null;
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64), 0, 64, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').trim();
  } finally {
    await handle.close();
  }
}
