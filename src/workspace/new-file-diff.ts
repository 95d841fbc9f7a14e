import { lstat, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * The `git diff` text of a file git does not track yet, built here instead of by a git process
 * per file. Paths are written unquoted: this text is an artefact for people, not a patch to apply.
 */
export async function formatNewFileDiff(root: string, rel: string): Promise<string> {
  const file = path.join(root, rel);
  const info = await lstat(file).catch(() => null);
  const header = `diff --git a/${rel} b/${rel}\n`;
  if (!info) return '';
  if (info.isSymbolicLink()) return header + 'new file mode 120000\n' + hunk(rel, await readlink(file));
  if (!info.isFile()) return `${header}# not a regular file\n`;
  const mode = info.mode & 0o111 ? '100755' : '100644';
  // An agent can create a file of any size: past this one the diff names it instead of holding it.
  if (info.size > MAX_SHOWN_BYTES) return `${header}new file mode ${mode}\n# ${rel}: ${info.size} bytes, too large to show\n`;
  const content = await readFile(file);
  if (content.length === 0) return `${header}new file mode ${mode}\n`;
  if (content.includes(0)) return `${header}new file mode ${mode}\nBinary files /dev/null and b/${rel} differ\n`;
  return `${header}new file mode ${mode}\n${hunk(rel, content.toString('utf8'))}`;
}

const MAX_SHOWN_BYTES = 1024 * 1024;

function hunk(rel: string, text: string): string {
  const endsWithNewline = text.endsWith('\n');
  const lines = (endsWithNewline ? text.slice(0, -1) : text).split('\n');
  const count = lines.length === 1 ? '' : `,${lines.length}`;
  let out = `--- /dev/null\n+++ b/${rel}\n@@ -0,0 +1${count} @@\n`;
  out += lines.map((line) => `+${line}\n`).join('');
  if (!endsWithNewline) out += '\\ No newline at end of file\n';
  return out;
}
