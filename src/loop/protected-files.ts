import { lstatSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { AccessPolicy } from '../workspace/access-policy.js';
import type { Git } from '../workspace/git.js';

/**
 * Everything the evaluation depends on: the hidden harness, the read-only files (and every file in
 * their folders, so a new test case planted there counts), the config and the agent's
 * instructions. The experiment runs the agent's code where all of it lives, and a shell agent or a
 * daemon can write there by absolute path at any time. So it is fingerprinted once, when the
 * session starts (the reference), and compared with the reference before every decision: a check
 * against the state just before an experiment would miss a change made between two of them.
 *
 * ctime changes on every write and on every attempt to reset the times, so no content hashing is
 * needed, even for large data files.
 */
export interface ProtectedFiles {
  /** Project-relative paths that differ from the reference (changed, created or deleted), sorted. */
  changed(): string[];
  /**
   * Puts `files` back as they were: the config and instructions from what this session read,
   * tracked files from HEAD, files created since the reference deleted. Returns the ones it
   * cannot restore (changed files git does not track). The reference then holds their new state.
   */
  restore(files: readonly string[]): Promise<string[]>;
  /** Stops watching files that the unmodified experiment itself rewrites (a harness's own cache). */
  ignore(files: readonly string[]): void;
}

export interface WatchOptions {
  /** Files found earlier to be rewritten by the unmodified experiment: not watched. */
  volatile?: readonly string[];
  /** Project-relative files the evaluation reads besides the policy's (config, instructions), kept in memory to restore. */
  inputs?: readonly string[];
}

// A data folder may hold very many files; past this many, later files are not watched one by one
// (their folders' ctime still shows a file created or deleted directly in them).
const MAX_WATCHED = 50_000;

export async function watchProtectedFiles(projectDir: string, policy: AccessPolicy, git: Git, options: WatchOptions = {}): Promise<ProtectedFiles> {
  const tracked = (await git.run(['ls-files', '-z', '--full-name', '--', '.'])).stdout.split('\0').filter(Boolean);
  const prefix = await git.showPrefix();
  const relative = tracked.map((p) => (prefix && p.startsWith(prefix) ? p.slice(prefix.length) : p));
  const isProtected = (p: string): boolean => {
    const access = policy.classify(p);
    return access === 'hidden' || access === 'readonly';
  };
  const trackedSet = new Set(relative);
  // Listed paths (files or folders, tracked or not); globs are covered by the tracked files they match.
  const roots = [...policy.hidden, ...policy.readonly].filter((entry) => !/[*?[]/.test(entry)).map((e) => e.replace(/^\.\//, '').replace(/\/$/, ''));
  const skip = new Set(options.volatile ?? []);
  // The config and the instructions are small: their bytes are kept to put them back exactly.
  const remembered = new Map<string, Buffer | null>();
  for (const input of options.inputs ?? []) remembered.set(input, readOrNull(path.join(projectDir, input)));

  // The tracked files do not change during a session (a run's commits only edit editable files):
  // classified once, not at every check (8 ms a trial in a project of 5,000 files).
  const trackedProtected = relative.filter(isProtected);
  const list = (): string[] => {
    const files = new Set<string>(trackedProtected);
    for (const root of roots) walk(projectDir, root, files);
    for (const input of remembered.keys()) files.add(input);
    return [...files].filter((file) => !skip.has(file)).sort();
  };
  const take = (): Map<string, string> => new Map(list().map((file) => [file, fingerprint(path.join(projectDir, file))]));
  let reference = take();

  const changed = (): string[] => {
    const now = take();
    const out = new Set<string>();
    for (const [file, print] of now) if (reference.get(file) !== print) out.add(file);
    for (const [file, print] of reference) if (!now.has(file) && print !== 'missing' && !skip.has(file)) out.add(file);
    return [...out].sort();
  };

  return {
    changed,
    ignore(files) {
      for (const file of files) {
        skip.add(file);
        reference.delete(file);
      }
    },
    async restore(files) {
      const unrestored: string[] = [];
      const fromGit: string[] = [];
      for (const file of files) {
        const full = path.join(projectDir, file);
        const saved = remembered.get(file);
        if (saved !== undefined) {
          if (saved === null) rmSync(full, { force: true });
          else writeFileSync(full, saved);
        } else if (trackedSet.has(file)) {
          fromGit.push(file);
        } else if ((reference.get(file) ?? 'missing') === 'missing') {
          // Created since the reference (a test case planted in a hidden folder): not the user's.
          rmSync(full, { recursive: true, force: true });
        } else {
          unrestored.push(file);
        }
      }
      if (fromGit.length > 0) await git.restorePaths('HEAD', fromGit);
      reference = take();
      return unrestored;
    },
  };
}

/** Adds `rel` and, when it is a folder, every file below it (no symbolic link followed). */
function walk(projectDir: string, rel: string, into: Set<string>): void {
  if (into.size >= MAX_WATCHED) return;
  const info = lstatOrNull(path.join(projectDir, rel));
  if (info === null || !info.isDirectory()) {
    into.add(rel);
    return;
  }
  let names: string[];
  try {
    names = readdirSync(path.join(projectDir, rel));
  } catch {
    into.add(rel);
    return;
  }
  for (const name of names) {
    if (name === '.git') continue;
    walk(projectDir, `${rel}/${name}`, into);
  }
}

function fingerprint(file: string): string {
  try {
    const s = statSync(file, { bigint: true });
    if (s.isDirectory()) return `dir:${s.ctimeNs}`;
    return `${s.size}:${s.mtimeNs}:${s.ctimeNs}:${s.ino}`;
  } catch {
    return 'missing';
  }
}

function lstatOrNull(file: string): Stats | null {
  try {
    return lstatSync(file);
  } catch {
    return null;
  }
}

function readOrNull(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch {
    return null;
  }
}
