/**
 * Finding files and text in the agent workspace. Hidden and protected files are never listed or
 * searched (grep skips them entirely, whatever the pattern), and symbolic links are listed only
 * when they lead to an allowed file inside the workspace.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createGlobMatcher } from './glob-match.js';
import { ToolDenied, type PathGuard } from './workspace-paths.js';

const MAX_GLOB_RESULTS = 500;
const MAX_GREP_MATCHES = 200;
const MAX_GREP_LINE_CHARS = 300;
const MAX_GREP_FILE_BYTES = 2_000_000;
/** A walk stops after this many entries: a workspace with a dataset inside must not stall a step. */
const MAX_WALK_ENTRIES = 50_000;
/** Folders of installed packages and caches: never what the model is looking for. */
const SKIPPED_FOLDERS = new Set(['.git', 'node_modules', '.venv', 'venv', '__pycache__', '.mypy_cache', '.pytest_cache', '.tox']);

export interface GlobInput {
  pattern: string;
  /** Folder to search, relative to the workspace; default the whole workspace. */
  path?: string;
}

export async function globWorkspace(guard: PathGuard, input: GlobInput): Promise<string> {
  const base = await folderOf(guard, input.path);
  const matches = createGlobMatcher(input.pattern);
  const found: string[] = [];
  for await (const file of walkFiles(guard, base)) {
    if (matches(relativeTo(base, file))) found.push(file);
  }
  if (found.length === 0) return `no files match ${input.pattern}`;
  found.sort();
  const shown = found.slice(0, MAX_GLOB_RESULTS).join('\n');
  return found.length > MAX_GLOB_RESULTS ? `${shown}\n[${found.length - MAX_GLOB_RESULTS} more not shown: narrow the pattern]` : shown;
}

export interface GrepInput {
  /** A JavaScript regular expression. */
  pattern: string;
  /** File or folder to search, relative to the workspace; default the whole workspace. */
  path?: string;
  /** Only files whose path matches this glob, e.g. "*.py". */
  glob?: string;
  ignore_case?: boolean;
}

export async function grepWorkspace(guard: PathGuard, input: GrepInput): Promise<string> {
  let re: RegExp;
  try {
    re = new RegExp(input.pattern, input.ignore_case === true ? 'i' : '');
  } catch (error) {
    throw new ToolDenied(`pattern is not a valid regular expression: ${error instanceof Error ? error.message : String(error)}`);
  }
  const target = guard.readable(input.path ?? '.');
  const info = await stat(target.absolute).catch(() => null);
  if (!info) throw new ToolDenied(`${target.relative} does not exist`);
  const files: string[] = [];
  if (info.isDirectory()) {
    const filter = input.glob === undefined ? () => true : createGlobMatcher(input.glob);
    for await (const file of walkFiles(guard, target.relative)) if (filter(relativeTo(target.relative, file))) files.push(file);
    files.sort();
  } else {
    files.push(target.relative);
  }
  const lines: string[] = [];
  let total = 0;
  for (const file of files) {
    const text = await readSearchable(path.join(guard.root, file));
    if (text === null) continue;
    text.split('\n').forEach((line, i) => {
      if (!re.test(line)) return;
      total++;
      if (lines.length < MAX_GREP_MATCHES) lines.push(`${file}:${i + 1}: ${clip(line.trimEnd())}`);
    });
  }
  if (total === 0) return `no matches for ${input.pattern}`;
  return total > lines.length ? `${lines.join('\n')}\n[${total - lines.length} more matches not shown: narrow the pattern or the path]` : lines.join('\n');
}

/** A folder the model may list, as a workspace-relative path ("." for the root). */
async function folderOf(guard: PathGuard, input: string | undefined): Promise<string> {
  const target = guard.readable(input ?? '.');
  const info = await stat(target.absolute).catch(() => null);
  if (!info) throw new ToolDenied(`${target.relative} does not exist`);
  if (!info.isDirectory()) throw new ToolDenied(`${target.relative} is a file, not a folder`);
  return target.relative;
}

/** Workspace-relative paths of the files under `folder` the model may see. */
async function* walkFiles(guard: PathGuard, folder: string): AsyncGenerator<string> {
  const pending = [folder];
  let seen = 0;
  while (pending.length > 0 && seen < MAX_WALK_ENTRIES) {
    const current = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = await readdir(path.join(guard.root, current), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      seen++;
      const relative = current === '.' ? entry.name : `${current}/${entry.name}`;
      const access = guard.classify(relative);
      if (access === 'hidden' || access === 'protected') continue;
      if (entry.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(entry.name)) pending.push(relative);
      } else if (entry.isFile()) {
        yield relative;
      } else if (entry.isSymbolicLink() && (await isAllowedLinkToFile(guard, relative))) {
        yield relative;
      }
    }
  }
}

async function isAllowedLinkToFile(guard: PathGuard, relative: string): Promise<boolean> {
  try {
    const target = guard.readable(relative);
    return (await stat(target.absolute)).isFile();
  } catch {
    return false;
  }
}

/** Text of a file worth searching; null for large or binary files. */
async function readSearchable(file: string): Promise<string | null> {
  try {
    const info = await stat(file);
    if (info.size > MAX_GREP_FILE_BYTES) return null;
    const buffer = await readFile(file);
    return buffer.subarray(0, 8192).includes(0) ? null : buffer.toString('utf8');
  } catch {
    return null;
  }
}

function relativeTo(base: string, file: string): string {
  return base === '.' ? file : file.slice(base.length + 1);
}

function clip(line: string): string {
  return line.length > MAX_GREP_LINE_CHARS ? `${line.slice(0, MAX_GREP_LINE_CHARS)}…` : line;
}
