/**
 * Writing the wizard's project: into a folder that does not exist or is empty (like
 * `crucible new`), never over a file, never outside the folder, whatever a path or a symbolic
 * link says.
 */
import { existsSync, mkdirSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ProjectError } from '../../errors.js';
import type { ProjectFile } from '../scaffold.js';

/** The absolute destination; throws when it is a file or a folder with something in it. Creates nothing. */
export function checkDestination(dest: string): string {
  const target = path.resolve(dest);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new ProjectError(`${dest} exists and is not a folder; choose a new folder`);
    if (readdirSync(target).length > 0) throw new ProjectError(`${dest} is not empty; choose a new folder`);
  }
  return target;
}

/** Writes `files` (already checked by planProjectFiles) under `dest`; returns their paths. */
export function writeProjectFiles(dest: string, files: readonly ProjectFile[]): string[] {
  const target = checkDestination(dest);
  mkdirSync(target, { recursive: true });
  const root = realpathSync(target);
  for (const file of files) {
    const to = path.resolve(root, ...file.path.split('/'));
    if (!isInside(root, to)) throw new Error(`wizard: unchecked path ${file.path} leaves ${root}`);
    mkdirSync(path.dirname(to), { recursive: true });
    // A link created in the folder meanwhile must not carry a write elsewhere.
    if (!isInside(root, realpathSync(path.dirname(to)))) throw new ProjectError(`${file.path}: its folder leads outside ${dest}; nothing more was written`);
    try {
      writeFileSync(to, file.content, { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new ProjectError(`${file.path} appeared in ${dest} while the project was being written; it was left as it is`, { cause: error });
      }
      throw error;
    }
  }
  return files.map((file) => file.path);
}

function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}
