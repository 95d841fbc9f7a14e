import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The end-to-end tests spawn the built CLI (dist/). Build it once before the run when it is
 * missing or older than the sources, so `npm test` after an edit tests the edit.
 */
export default function buildWhenStale(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const cli = path.join(root, 'dist', 'cli', 'main.js');
  const newest = (folder: string): number =>
    Math.max(0, ...readdirSync(folder, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(path.join(folder, e.name)) : statSync(path.join(folder, e.name)).mtimeMs)));
  if (existsSync(cli) && statSync(cli).mtimeMs >= newest(path.join(root, 'src'))) return;
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
}
