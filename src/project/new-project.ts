/**
 * `crucible new` as a library: a project from a bundled example, or an empty scaffold. Both
 * refuse a folder that already holds anything and never overwrite a file; neither prints.
 */
import { constants, copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ProjectError, UsageError } from '../errors.js';
import { examplesDir, listExamples } from './examples.js';
import { DEFAULT_GITIGNORE, renderScaffoldFiles, type ProjectFile } from './scaffold.js';

export interface CreatedProject {
  /** Absolute path of the new project. */
  dest: string;
  /** What was written, relative to `dest` with "/" separators, sorted. */
  files: string[];
}

// Outputs of earlier runs of an example (or of someone trying it in place) are not part of it.
const SKIPPED_NAMES = new Set(['node_modules', '.git', 'results.tsv', 'run.log']);
const SKIPPED_PATHS = new Set(['.crucible/runs', '.crucible/slots']);

/** Copies the bundled example `name` into `dest`, which must not exist or be an empty folder. */
export function createFromExample(dest: string, name: string, options: { examplesDir?: string } = {}): CreatedProject {
  const dir = options.examplesDir ?? examplesDir();
  const available = listExamples(dir).map((example) => example.name);
  if (!available.includes(name)) {
    throw new UsageError(`unknown example "${name}"; available: ${available.join(', ') || '(none)'}`);
  }
  const target = prepareDestination(dest);
  const files: string[] = [];
  copyTree(path.join(dir, name), target, '', files);
  // npm never packs a file named .gitignore, so an installed example arrives without one.
  if (!files.includes('.gitignore')) {
    writeFiles(target, [{ path: '.gitignore', content: DEFAULT_GITIGNORE }]);
    files.push('.gitignore');
  }
  return { dest: target, files: files.sort() };
}

/** Writes an empty Node project into `dest`, which must not exist or be an empty folder. */
export function createScaffold(dest: string, options: { name?: string } = {}): CreatedProject {
  const name = options.name ?? (path.basename(path.resolve(dest)) || 'my-experiment');
  const rendered = renderScaffoldFiles(name);
  const target = prepareDestination(dest);
  writeFiles(target, rendered);
  return { dest: target, files: rendered.map((file) => file.path).sort() };
}

/** Checks that `dest` can take a new project and creates it; throws before writing anything. */
function prepareDestination(dest: string): string {
  const target = path.resolve(dest);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new ProjectError(`${dest} exists and is not a folder; choose a new folder`);
    if (readdirSync(target).length > 0) throw new ProjectError(`${dest} is not empty; choose a new folder`);
  }
  mkdirSync(target, { recursive: true });
  return target;
}

function copyTree(fromDir: string, toDir: string, relative: string, written: string[]): void {
  mkdirSync(toDir, { recursive: true });
  for (const entry of readdirSync(fromDir, { withFileTypes: true })) {
    const rel = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (SKIPPED_NAMES.has(entry.name) || SKIPPED_PATHS.has(rel)) continue;
    const from = path.join(fromDir, entry.name);
    const to = path.join(toDir, entry.name);
    if (entry.isDirectory()) copyTree(from, to, rel, written);
    else if (entry.isFile()) {
      copyExclusive(from, to, rel);
      written.push(rel);
    }
    // Links and special files are not part of any example: skipping them keeps the copy inside dest.
  }
}

function writeFiles(root: string, files: readonly ProjectFile[]): void {
  for (const file of files) {
    const to = path.join(root, ...file.path.split('/'));
    mkdirSync(path.dirname(to), { recursive: true });
    try {
      writeFileSync(to, file.content, { flag: 'wx' });
    } catch (error) {
      throw refuseOverwrite(error, file.path);
    }
  }
}

function copyExclusive(from: string, to: string, rel: string): void {
  try {
    copyFileSync(from, to, constants.COPYFILE_EXCL);
  } catch (error) {
    throw refuseOverwrite(error, rel);
  }
}

// Something else wrote into the folder after it was found empty: leave its file alone.
function refuseOverwrite(error: unknown, rel: string): unknown {
  if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
    return new ProjectError(`${rel} appeared in the destination while it was being written; it was left as it is`, { cause: error });
  }
  return error;
}
