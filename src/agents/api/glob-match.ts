/**
 * Glob patterns as coding models write them: "**" spans folders, "*" and "?" stay within one
 * name, "[abc]" is a class and "{js,ts}" an alternative. A pattern without "/" matches a file's
 * name at any depth ("*.py" finds every Python file), as in .gitignore.
 */
export function createGlobMatcher(pattern: string): (relativePath: string) => boolean {
  const normal = pattern.trim().replace(/\\/g, '/').replace(/^\.\//, '').replace(/^\/+/, '');
  const re = new RegExp(`^${globSource(normal)}$`);
  if (!normal.includes('/')) return (p) => re.test(p.slice(p.lastIndexOf('/') + 1));
  return (p) => re.test(p);
}

function globSource(glob: string): string {
  let out = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // "**/" is zero or more folders; a "**" elsewhere is anything at all.
        if (glob[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) out += '\\[';
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else if (c === '{') {
      braces++;
      out += '(?:';
    } else if (c === '}' && braces > 0) {
      braces--;
      out += ')';
    } else if (c === ',' && braces > 0) {
      out += '|';
    } else {
      out += c.replace(/[.+^$()|\\{}]/g, '\\$&');
    }
  }
  return out + ')'.repeat(braces);
}
