import { checkExhaustive } from '../errors.js';
import type { Access, AccessPolicy } from './access-policy.js';
import type { WorktreeChange } from './worktree-change.js';

export type GuardVerdict =
  /** Every change is to an editable regular file; `files` sorted by path. */
  | { outcome: 'ok'; files: string[] }
  /** Nothing changed. */
  | { outcome: 'skip'; reason: string }
  /** The first offending change, by path; `reason` is one line for the agent's next prompt. */
  | { outcome: 'violation'; reason: string; file: string };

/** Decides whether the agent's changes may be applied to the project. Pure. */
export function checkChanges(changes: readonly WorktreeChange[], policy: AccessPolicy): GuardVerdict {
  if (changes.length === 0) return { outcome: 'skip', reason: 'no files were changed' };
  const sorted = [...changes].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const change of sorted) {
    const reason = isOutside(change.path)
      ? `${change.path} is outside the project folder`
      : (accessProblem(change.path, policy.classify(change.path)) ?? typeProblem(change));
    if (reason !== null) return { outcome: 'violation', reason, file: change.path };
  }
  return { outcome: 'ok', files: sorted.map((change) => change.path) };
}

// The access policy matches globs against the path as written, so "../x.py" could match "**/*.py".
function isOutside(file: string): boolean {
  return file.startsWith('/') || file.split(/[\\/]/).includes('..');
}

function accessProblem(file: string, access: Access): string | null {
  switch (access) {
    case 'editable':
      return null;
    case 'hidden':
      return `${file} is hidden and may not be created or changed`;
    case 'protected':
      return /(^|\/)\.git(\/|$)/.test(file) ? `${file} belongs to git and may not be changed` : `${file} is crucible's own file`;
    case 'readonly':
      return `${file} is read-only`;
    case 'unlisted':
      return `${file} is not in files.editable`;
    default:
      return checkExhaustive(access);
  }
}

function typeProblem(change: WorktreeChange): string | null {
  if (change.kind === 'deleted' || change.special === undefined) return null;
  return change.special === 'symlink'
    ? `${change.path} is a symbolic link; only regular files may be changed`
    : `${change.path} is not a regular file`;
}
