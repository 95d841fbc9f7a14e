import { createHash } from 'node:crypto';
import { readdir, readFile, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ProjectError } from '../errors.js';

/** Where an agent worktree lives, and whether what is there is a live worktree of the project. */

/**
 * The folder holding a project's worktrees: `baseDir` when given, else
 * `$CRUCIBLE_WORKTREE_DIR` (or `<tmp>/crucible-worktrees`) plus `<project name>-<hash of its path>`.
 */
export function worktreeBase(projectDir: string, baseDir: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (baseDir) return path.resolve(baseDir);
  const hash = createHash('sha256').update(projectDir).digest('hex').slice(0, 12);
  const parent = env['CRUCIBLE_WORKTREE_DIR'] || path.join(os.tmpdir(), 'crucible-worktrees');
  return path.join(path.resolve(parent), `${path.basename(projectDir).replace(/[^\w.-]+/g, '-')}-${hash}`);
}

/** A folder name for the tag: the tag itself when it is a safe name, else a sanitised one made unique by a hash. */
export function worktreeName(tag: string): string {
  const safe = tag.replace(/[^\w.-]+/g, '-');
  if (safe === tag && !tag.startsWith('.')) return tag;
  return `${safe.replace(/^\.+/, '')}-${createHash('sha256').update(tag).digest('hex').slice(0, 8)}`;
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

/** Removes what a killed run left at `top`, but never a folder that is not a worktree of ours. */
export async function clearStaleFolder(top: string): Promise<void> {
  const entries = await readdir(top).catch(() => null);
  if (entries === null || entries.length === 0) {
    await rm(top, { recursive: true, force: true });
    return;
  }
  if (!entries.includes('.git')) {
    throw new ProjectError(`${top} exists and is not a crucible worktree`, {
      hints: ['Remove it, or set CRUCIBLE_WORKTREE_DIR to another folder.'],
    });
  }
  await rm(top, { recursive: true, force: true });
}
