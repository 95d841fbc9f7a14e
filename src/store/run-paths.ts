import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

/** Where a run keeps its files: `.crucible/runs/<tag>/`. */
export interface RunPaths {
  runDir: string;
  ledger: string;
  /** The read commands' cache of the ledger's start (run-checkpoint.ts). */
  checkpoint: string;
  lock: string;
  trialsDir: string;
  /** `trials/<n>/` of trial n. */
  trialDir(n: number): string;
}

export const RUNS_DIR = join('.crucible', 'runs');

/**
 * Tags become git branch names and folder names, so they are kept to a strict, portable set:
 * letters, digits, ".", "_", "-"; 1 to 100 characters; not starting with "." or "-"; and
 * nothing git refuses in a ref ("..", a final "." or ".lock").
 */
export function isValidTag(tag: string): boolean {
  return (
    /^[A-Za-z0-9_][A-Za-z0-9._-]{0,99}$/.test(tag) &&
    !tag.includes('..') &&
    !tag.endsWith('.') &&
    !tag.endsWith('.lock')
  );
}

/** Throws a UsageError naming the rule when `tag` is not a valid run tag. */
export function checkTag(tag: string): void {
  if (!isValidTag(tag)) {
    throw new UsageError(
      `invalid run tag ${JSON.stringify(tag)}: use 1-100 letters, digits, ".", "_" or "-", not starting with "." or "-"`,
    );
  }
}

export function runPaths(projectDir: string, tag: string): RunPaths {
  checkTag(tag);
  const runDir = resolve(projectDir, RUNS_DIR, tag);
  const trialsDir = join(runDir, 'trials');
  return {
    runDir,
    ledger: join(runDir, 'ledger.jsonl'),
    checkpoint: join(runDir, 'checkpoint.json'),
    lock: join(runDir, 'lock'),
    trialsDir,
    trialDir(n: number): string {
      if (!Number.isInteger(n) || n < 0) throw new Error(`trial number must be a count, got ${n}`);
      return join(trialsDir, String(n));
    },
  };
}

/** Tags of the runs that have a folder, oldest ledger change first (folder time when no ledger). */
export function listRunTags(projectDir: string): Promise<string[]> {
  // A handful of entries, read synchronously: a read command then never loads node:fs/promises.
  return new Promise((resolve) => resolve(runTagsNow(projectDir)));
}

function runTagsNow(projectDir: string): string[] {
  const runsDir = resolve(projectDir, RUNS_DIR);
  let entries;
  try {
    entries = readdirSync(runsDir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const tags = entries.filter((entry) => entry.isDirectory() && isValidTag(entry.name)).map((entry) => entry.name);
  const dated = tags.map((tag) => {
    const dir = join(runsDir, tag);
    let info;
    try {
      info = statSync(join(dir, 'ledger.jsonl'));
    } catch {
      info = statSync(dir);
    }
    return { tag, time: info.mtimeMs };
  });
  dated.sort((a, b) => a.time - b.time || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
  return dated.map((entry) => entry.tag);
}
