import { globToRegExpSource } from './glob.js';

/**
 * Which files the agent may touch. Entries are paths relative to the project root; an entry
 * ending in "/" (or naming a folder by its path prefix with "/") covers everything below it, and
 * "*", "?" and "**" glob as in git pathspecs.
 */
export type Access = 'editable' | 'readonly' | 'hidden' | 'protected' | 'unlisted';

export interface AccessPolicy {
  readonly editable: readonly string[];
  readonly readonly: readonly string[];
  readonly hidden: readonly string[];
  /** What a project-relative path is to the agent. Hidden wins over everything, then protected. */
  classify(relativePath: string): Access;
}

/** Paths crucible itself owns: never editable, whatever the config says. */
const PROTECTED = [/^\.crucible(\/|$)/, /^\.git(\/|$)/, /(^|\/)\.git$/];

export function createAccessPolicy(files: { editable: readonly string[]; readonly: readonly string[]; hidden: readonly string[] }): AccessPolicy {
  const editable = files.editable.map(compileEntry);
  const readonlyEntries = files.readonly.map(compileEntry);
  const hidden = files.hidden.map(compileEntry);
  return {
    editable: files.editable,
    readonly: files.readonly,
    hidden: files.hidden,
    classify(relativePath) {
      const p = normalizeRelative(relativePath);
      // Outside the project: never editable, whatever a glob like "**/*.py" would match.
      if (p.split('/').includes('..') || relativePath.startsWith('/')) return 'unlisted';
      if (hidden.some((matches) => matches(p))) return 'hidden';
      if (PROTECTED.some((re) => re.test(p))) return 'protected';
      if (readonlyEntries.some((matches) => matches(p))) return 'readonly';
      if (editable.some((matches) => matches(p))) return 'editable';
      return 'unlisted';
    },
  };
}

/** "./a//b/" → "a/b"; backslashes become slashes. */
export function normalizeRelative(relativePath: string): string {
  return relativePath
    .replace(/\\/g, '/')
    .split('/')
    .filter((part) => part !== '' && part !== '.')
    .join('/');
}

function compileEntry(entry: string): (p: string) => boolean {
  const isDir = /[\\/]$/.test(entry);
  const normal = normalizeRelative(entry);
  if (!/[*?[]/.test(normal)) {
    // A plain path matches itself and, like a folder, everything below it.
    return (p) => p === normal || p.startsWith(`${normal}/`) || (isDir && p === normal);
  }
  const re = new RegExp(`^${globToRegExpSource(normal)}(/.*)?$`);
  return (p) => re.test(p);
}
