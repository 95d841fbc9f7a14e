/** One file the agent changed in its worktree, relative to the commit the worktree was reset to. */
export interface WorktreeChange {
  /** Project-relative, "/" separators. A path outside the project folder starts with "../". */
  path: string;
  kind: 'added' | 'modified' | 'deleted';
  /**
   * Set when the path is now something other than a regular file: a symbolic link, or a folder
   * git cannot look into (a nested repository). Such a change can never be applied.
   */
  special?: 'symlink' | 'other';
}

export interface StatusEntry {
  /** Index status (X) and work-tree status (Y) of `git status --porcelain=v1`. */
  x: string;
  y: string;
  /** Path relative to the top of the work tree, as git prints it (a trailing "/" for a nested repository). */
  path: string;
}

/** Parses `git status --porcelain=v1 -z` output. Renames are expected to be off (--no-renames). */
export function parseStatus(stdout: string): StatusEntry[] {
  const entries: StatusEntry[] = [];
  const fields = stdout.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    if (field.length < 4) continue;
    const x = field[0]!;
    const y = field[1]!;
    entries.push({ x, y, path: field.slice(3) });
    if (x === 'R' || x === 'C') i++;
  }
  return entries;
}

/**
 * What each status entry means against HEAD. Only valid when the agent left the index alone
 * (every X is " " or "?"); otherwise compare trees with `git diff` instead.
 */
export function classifyStatus(entries: readonly StatusEntry[]): Array<{ path: string; kind: WorktreeChange['kind'] }> {
  return entries.map(({ x, y, path }) => ({
    path: path.replace(/\/$/, ''),
    kind: x === '?' ? 'added' : y === 'D' ? 'deleted' : 'modified',
  }));
}

/** Whether the index differs from HEAD anywhere (the agent ran `git add`, `git rm`, ...). */
export function touchesIndex(entries: readonly StatusEntry[]): boolean {
  return entries.some(({ x }) => x !== ' ' && x !== '?');
}

/** Parses `git diff --name-status -z --no-renames` output into changes. */
export function parseNameStatus(stdout: string): Array<{ path: string; kind: WorktreeChange['kind'] }> {
  const fields = stdout.split('\0');
  const out: Array<{ path: string; kind: WorktreeChange['kind'] }> = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const status = fields[i]!;
    const path = fields[i + 1]!;
    if (status === '') break;
    out.push({ path, kind: status.startsWith('A') ? 'added' : status.startsWith('D') ? 'deleted' : 'modified' });
  }
  return out;
}
