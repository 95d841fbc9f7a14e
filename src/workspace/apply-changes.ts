import { copyFile, lstat, mkdir, realpath, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { ProjectError } from '../errors.js';
import type { WorktreeChange } from './worktree-change.js';

/**
 * Copies the agent's changes from its worktree into the project: new contents for added and
 * modified files, deletion for deleted ones, and nothing else. Call it only with changes the
 * guard accepted. A path that would lead outside either folder, or through a symbolic link, is
 * refused before anything is written.
 */
export async function applyChanges(projectDir: string, worktreeRoot: string, changes: readonly WorktreeChange[]): Promise<void> {
  const project = await realpath(projectDir);
  const worktree = await realpath(worktreeRoot);
  for (const change of changes) {
    assertRelative(change.path);
    if (change.kind !== 'deleted') await assertRegularFile(worktree, change.path);
    await assertNoLinkOnTheWay(project, change.path);
  }
  for (const change of changes) {
    const target = path.join(project, change.path);
    if (change.kind === 'deleted') {
      await rm(target, { force: true });
      await removeEmptyParents(project, path.dirname(target));
      continue;
    }
    await mkdir(path.dirname(target), { recursive: true });
    // The parents were checked above but may have been created just now: check once more.
    await assertNoLinkOnTheWay(project, change.path);
    // Replace rather than write through: a symbolic link at the target is never followed.
    if ((await lstat(target).catch(() => null))?.isSymbolicLink()) await rm(target);
    await copyFile(path.join(worktree, change.path), target);
  }
}

function assertRelative(rel: string): void {
  const parts = rel.split(/[\\/]/);
  if (rel === '' || path.isAbsolute(rel) || parts.includes('..') || parts.includes('.git')) {
    throw new ProjectError(`refusing to apply ${JSON.stringify(rel)}: not a path inside the project`);
  }
}

async function assertRegularFile(worktree: string, rel: string): Promise<void> {
  const info = await lstat(path.join(worktree, rel)).catch(() => null);
  if (!info?.isFile()) throw new ProjectError(`refusing to apply ${rel}: not a regular file in the agent worktree`);
  await assertNoLinkOnTheWay(worktree, rel);
}

/** Every existing parent folder of `rel` must be a real folder at its own path (no symbolic link). */
async function assertNoLinkOnTheWay(base: string, rel: string): Promise<void> {
  let dir = path.dirname(path.join(base, rel));
  // Find the deepest parent that exists; it must resolve to itself.
  while (dir !== base && !(await lstat(dir).catch(() => null))) dir = path.dirname(dir);
  if (!dir.startsWith(base) || (await realpath(dir)) !== dir) {
    throw new ProjectError(`refusing to apply ${rel}: its folder is reached through a symbolic link`);
  }
}

async function removeEmptyParents(project: string, dir: string): Promise<void> {
  while (dir !== project && dir.startsWith(`${project}${path.sep}`)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
    dir = path.dirname(dir);
  }
}
