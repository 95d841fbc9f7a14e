import { globToRegExpSource } from '../../workspace/glob.js';

/**
 * Glob patterns as coding models write them: "**" spans folders, "*" and "?" stay within one
 * name, "[abc]" is a class and "{js,ts}" an alternative. A pattern without "/" matches a file's
 * name at any depth ("*.py" finds every Python file), as in .gitignore.
 */
export function createGlobMatcher(pattern: string): (relativePath: string) => boolean {
  const normal = pattern.trim().replace(/\\/g, '/').replace(/^\.\//, '').replace(/^\/+/, '');
  const re = new RegExp(`^${globToRegExpSource(normal)}$`);
  if (!normal.includes('/')) return (p) => re.test(p.slice(p.lastIndexOf('/') + 1));
  return (p) => re.test(p);
}
