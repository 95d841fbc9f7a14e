import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import path from 'node:path';
import { createAccessPolicy, normalizeRelative } from './access-policy.js';

/** Names looked at per entry before giving up (and not warning): a huge data folder stays cheap. */
const MAX_VISITS = 50_000;

/**
 * The entries of a `files` list that match no file or folder in the project: usually a typo
 * (`solutoin.py`, `src/*.rs` in a Python project), which would otherwise go unnoticed: the agent
 * is then told it may edit a file that is not there. Entries that leave the project are left to
 * the config rules.
 */
export function findUnmatchedEntries(projectDir: string, entries: readonly string[]): string[] {
  return entries.filter((entry) => {
    const normal = normalizeRelative(entry);
    if (normal === '' || normal.split('/').includes('..') || path.isAbsolute(entry)) return false;
    if (!/[*?[]/.test(normal)) return !exists(path.join(projectDir, normal));
    const policy = createAccessPolicy({ editable: [entry], readonly: [], hidden: [] });
    const segments = normal.split('/');
    const base = segments.slice(0, segments.findIndex((s) => /[*?[]/.test(s))).join('/');
    return !someFileBelow(projectDir, base, (rel) => policy.classify(rel) === 'editable');
  });
}

function exists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Whether a file under `base` (project-relative) passes `matches`; links are not followed, .git is skipped. */
function someFileBelow(projectDir: string, base: string, matches: (rel: string) => boolean): boolean {
  const pending = [base];
  let visits = 0;
  while (pending.length > 0) {
    const rel = pending.pop()!;
    let children: Dirent[];
    try {
      children = readdirSync(path.join(projectDir, rel), { withFileTypes: true });
    } catch {
      continue;
    }
    visits += children.length;
    if (visits > MAX_VISITS) return true;
    for (const child of children) {
      if (child.name === '.git') continue;
      const childRel = rel === '' ? child.name : `${rel}/${child.name}`;
      if (matches(childRel)) return true;
      if (child.isDirectory()) pending.push(childRel);
    }
  }
  return false;
}

/** One warning line per `files` entry that matches nothing, naming the config file, the list and the entry. */
export function describeUnmatchedEntries(projectDir: string, files: { editable: readonly string[]; readonly: readonly string[]; hidden: readonly string[] }, shownConfig: string): string[] {
  return (['editable', 'readonly', 'hidden'] as const).flatMap((kind) =>
    findUnmatchedEntries(projectDir, files[kind]).map((entry) => `${shownConfig}: files.${kind}: "${entry}" matches no file in the project`),
  );
}
