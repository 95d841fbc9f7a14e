import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout this bench runs from. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * `relative` (a path under dist/) of this checkout's build; exits saying how to build it when
 * dist/ is missing. `script`: the npm script that builds first, for the message.
 */
export function builtFile(relative, script) {
  const file = path.join(repoRoot, 'dist', relative);
  if (!existsSync(file)) {
    process.stderr.write(`dist/ is missing: run \`npm run ${script}\` (it builds first) or \`npm run build\`.\n`);
    process.exit(1);
  }
  return file;
}
