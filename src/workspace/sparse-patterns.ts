import { normalizeRelative } from './access-policy.js';

/**
 * The non-cone sparse-checkout patterns that check out everything except the hidden entries.
 * `prefix` is the project folder relative to the top of the work tree ("" when they coincide).
 * Access-policy entries are anchored at the project root, so every pattern is anchored too;
 * plain paths are escaped so that their characters are never read as globs.
 */
export function sparsePatterns(hidden: readonly string[], prefix = ''): string {
  const lines = ['/*'];
  const base = prefix === '' ? '' : `${escapeLiteral(normalizeRelative(prefix))}/`;
  for (const entry of hidden) {
    const normal = normalizeRelative(entry);
    if (normal === '' || normal.split('/').includes('..')) continue;
    const pattern = /[*?[]/.test(normal) ? escapeTrailingSpaces(normal) : escapeLiteral(normal);
    lines.push(`!/${base}${pattern}`);
  }
  return `${lines.join('\n')}\n`;
}

function escapeLiteral(path: string): string {
  return escapeTrailingSpaces(path.replace(/[\\*?[]/g, '\\$&'));
}

function escapeTrailingSpaces(pattern: string): string {
  return pattern.replace(/ +$/, (spaces) => spaces.replace(/ /g, '\\ '));
}

/** The same escaping, for a `git clean -e` pattern naming exactly one path below the work-tree top. */
export function literalPattern(topRelativePath: string): string {
  return `/${escapeLiteral(topRelativePath)}`;
}
