import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Makes sure each pattern is a line of `<projectDir>/.gitignore`, appending the missing ones at
 * the end. Existing content is never rewritten or reordered: the file belongs to the user.
 */
export async function ensureGitignored(
  projectDir: string,
  patterns: readonly string[],
): Promise<{ changed: boolean; added: string[] }> {
  const file = join(projectDir, '.gitignore');
  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const present = new Set(text.split('\n').map((line) => line.trim()));
  const added: string[] = [];
  for (const raw of patterns) {
    const pattern = raw.trim();
    if (pattern === '' || present.has(pattern)) continue;
    present.add(pattern);
    added.push(pattern);
  }
  if (added.length === 0) return { changed: false, added };
  // Keep the file's own line ending, so a Windows-edited file does not become mixed.
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const separator = text === '' || text.endsWith('\n') ? '' : eol;
  await appendFile(file, `${separator}${added.map((pattern) => `${pattern}${eol}`).join('')}`, 'utf8');
  return { changed: true, added };
}
