import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { normalizeRelative } from './access-policy.js';
import type { Git } from './git.js';

/** A shared entry: project-relative path, and the real path in the project its link in a slot points to. */
export interface SharedLink {
  rel: string;
  source: string;
}

/**
 * files.shared, checked: each entry inside the project (never `.crucible/` or `.git`), present
 * in the project (missing ones are skipped), and holding nothing git tracks at `commit` (every
 * slot has those already; a link in their place would fight the checkout). ConfigError otherwise.
 */
export async function sharedLinks(projectDir: string, projectGit: Git, prefix: string, commit: string, entries: readonly string[]): Promise<SharedLink[]> {
  const wanted: string[] = [];
  for (const entry of entries) {
    const rel = normalizeRelative(entry);
    if (rel === '' || path.isAbsolute(entry) || rel.split('/').includes('..') || rel === '.crucible' || rel.startsWith('.crucible/') || rel.split('/').includes('.git')) {
      throw new ConfigError([`files.shared: "${entry}" must name a file or folder inside the project (not .crucible/ or .git)`]);
    }
    if (await lstat(path.join(projectDir, rel)).catch(() => null)) wanted.push(rel);
  }
  if (wanted.length === 0) return [];
  const topRelative = (rel: string): string => (prefix === '' ? rel : `${prefix}/${rel}`);
  const tracked = (await projectGit.run(['--literal-pathspecs', 'ls-tree', '-r', '--name-only', '-z', commit, '--', ...wanted.map(topRelative)])).stdout.split('\0');
  for (const rel of wanted) {
    const top = topRelative(rel);
    if (tracked.some((file) => file === top || file.startsWith(`${top}/`))) {
      throw new ConfigError([`files.shared: "${rel}" holds files git tracks, which every slot has already; list what git does not track in it instead`]);
    }
  }
  return wanted.map((rel) => ({ rel, source: path.join(projectDir, rel) }));
}
