import { createHash } from 'node:crypto';
import { constants, createReadStream, lstatSync, type Stats } from 'node:fs';
import { copyFile, lstat, mkdir, readdir, realpath, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { normalizeRelative, type AccessPolicy } from './access-policy.js';
import type { WorktreeChange } from './worktree-change.js';

/**
 * Read-only files that git does not track (data sets, often gitignored) are not in a worktree,
 * yet the agent must be able to read them: they are copied in. Git cannot see changes to them,
 * so they are checked here, by content hash behind a cheap stat test.
 */

export interface ReadonlyCopy {
  /** Project-relative, "/" separators. */
  readonly path: string;
  readonly source: string;
  readonly target: string;
  hash: string;
  /** lstat fingerprint of the copy when it was last known to equal `hash`. */
  stamp: string;
}

/** Files under the readonly entries that exist in the project and classify as readonly. */
export async function listReadonlyFiles(projectDir: string, policy: AccessPolicy): Promise<string[]> {
  const found = new Set<string>();
  for (const entry of policy.readonly) {
    const normal = normalizeRelative(entry);
    if (normal.split('/').includes('..')) continue;
    const segments = normal.split('/');
    const firstGlob = segments.findIndex((s) => /[*?[]/.test(s));
    const base = firstGlob === -1 ? normal : segments.slice(0, firstGlob).join('/');
    await walkFiles(projectDir, base, new Set(), (rel) => {
      if (policy.classify(rel) === 'readonly') found.add(rel);
    });
  }
  return [...found].sort();
}

/** Copies `paths` from the project into the worktree, skipping those the worktree already has (tracked files). */
export async function createReadonlyCopies(projectDir: string, root: string, paths: readonly string[]): Promise<ReadonlyCopy[]> {
  const copies: ReadonlyCopy[] = [];
  for (const rel of paths) {
    const target = path.join(root, rel);
    if (await exists(target)) continue;
    const copy: ReadonlyCopy = { path: rel, source: path.join(projectDir, rel), target, hash: '', stamp: '' };
    await refreshCopy(root, copy, false);
    copies.push(copy);
  }
  return copies;
}

/** Copies the agent modified, deleted or replaced. */
export async function changedCopies(copies: readonly ReadonlyCopy[]): Promise<WorktreeChange[]> {
  const changes = await Promise.all(copies.map(async (copy): Promise<WorktreeChange | null> => {
    // Stat'ed at once, each trial: a thread pool round trip a copy cost more than the stat.
    const info = lstatOrNull(copy.target);
    if (!info) return { path: copy.path, kind: 'deleted' };
    if (info.isSymbolicLink()) return { path: copy.path, kind: 'modified', special: 'symlink' };
    if (!info.isFile()) return { path: copy.path, kind: 'modified', special: 'other' };
    if (fingerprint(info) === copy.stamp) return null;
    if ((await hashFile(copy.target)) !== copy.hash) return { path: copy.path, kind: 'modified' };
    copy.stamp = fingerprint(info);
    return null;
  }));
  return changes.filter((c): c is WorktreeChange => c !== null);
}

/** Puts back every copy the agent changed, and the folders holding them. */
export async function restoreCopies(root: string, copies: readonly ReadonlyCopy[]): Promise<void> {
  const changed = new Set((await changedCopies(copies)).map((c) => c.path));
  for (const copy of copies) if (changed.has(copy.path)) await refreshCopy(root, copy, true);
}

/**
 * (Re)writes one copy. Nothing is deleted or written through a symbolic link: a folder on the way
 * that the agent swapped for a link would carry the deletion out of the worktree (the link is
 * replaced by a real folder when `replaceLinks`, else refused).
 */
async function refreshCopy(root: string, copy: ReadonlyCopy, replaceLinks: boolean): Promise<void> {
  let dir = root;
  for (const segment of path.posix.dirname(copy.path).split('/').filter((s) => s !== '.')) {
    dir = path.join(dir, segment);
    const info = await lstat(dir).catch(() => null);
    if (info?.isDirectory()) continue;
    if (info && !replaceLinks) throw new Error(`refusing to copy ${copy.path} through ${path.relative(root, dir)}, which is not a folder in the agent worktree`);
    // rm removes a link itself, never what it points to.
    if (info) await rm(dir, { recursive: true, force: true });
    await mkdir(dir);
  }
  await rm(copy.target, { recursive: true, force: true });
  await copyFile(copy.source, copy.target, constants.COPYFILE_FICLONE);
  copy.hash = await hashFile(copy.target);
  copy.stamp = fingerprint(await lstat(copy.target));
}

function fingerprint(info: { size: number; mtimeMs: number; ctimeMs: number; ino: number }): string {
  // ctime cannot be set by a process, so an unchanged stamp means unchanged content.
  return `${info.size}:${info.mtimeMs}:${info.ctimeMs}:${info.ino}`;
}

function hashFile(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('error', reject)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')));
  });
}

function lstatOrNull(file: string): Stats | null {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

async function exists(file: string): Promise<boolean> {
  return (await lstat(file).catch(() => null)) !== null;
}

/** Calls `visit` with every file (following symbolic links, once per real folder) at or below `rel`. */
async function walkFiles(projectDir: string, rel: string, seen: Set<string>, visit: (rel: string) => void): Promise<void> {
  const full = path.join(projectDir, rel);
  const info = await stat(full).catch(() => null);
  if (!info) return;
  if (info.isFile()) {
    if (rel !== '') visit(rel);
    return;
  }
  if (!info.isDirectory()) return;
  const real = await realpath(full);
  if (seen.has(real)) return;
  seen.add(real);
  for (const name of await readdir(full)) {
    if (name === '.git') continue;
    await walkFiles(projectDir, rel === '' ? name : `${rel}/${name}`, seen, visit);
  }
}
