import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder crucible is installed in (it holds package.json, examples/ and .claude/skills/): the
 * nearest folder above `moduleUrl` with a package.json. Found by walking up, because the same code
 * runs at a different depth from src/ (tests run the sources), from dist/<layer>/ (the library) and
 * from a chunk of the bundled command in dist/cli/chunks/: a fixed '../../' is right in only some.
 * A package.json without a name is not the package's: dist/cli/package.json only tells Node the
 * bundle is CommonJS.
 */
export function packageRoot(moduleUrl: string = import.meta.url): string {
  let dir = path.dirname(fileURLToPath(moduleUrl));
  for (;;) {
    if (namedPackage(path.join(dir, 'package.json'))) return dir;
    const parent = path.dirname(dir);
    // The package always has a package.json: none above means a broken install, not bad input.
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(moduleUrl)}`);
    dir = parent;
  }
}

function namedPackage(file: string): boolean {
  try {
    const name = (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name;
    return typeof name === 'string' && name !== '';
  } catch {
    return false;
  }
}
