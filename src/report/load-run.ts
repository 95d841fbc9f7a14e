import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { readConfigEssentials, type ConfigEssentials } from '../config/read-essentials.js';
import { ProjectError } from '../errors.js';
import type { ResultRow } from '../store/result-row.js';
import { readResults } from '../store/results-file.js';
import { isProcessAlive } from '../store/process-identity.js';
import { parseLockRecord } from '../store/run-lock.js';
import { listRunTags, runPaths } from '../store/run-paths.js';

/** What the read-only commands (status, history, compare, postmortem) work from. */
export interface ProjectRecords {
  projectDir: string;
  config: ConfigEssentials;
  rows: ResultRow[];
  problems: string[];
}

export async function loadProjectRecords(projectDir: string): Promise<ProjectRecords> {
  if (!existsSync(projectDir)) throw new ProjectError(`${projectDir} does not exist`);
  const dir = realpathSync(projectDir);
  const config = await readConfigEssentials(dir);
  const { rows, problems } = await readResults(dir);
  return { projectDir: dir, config, rows, problems };
}

/**
 * The run a read command is about: `--tag` when given; else the run whose branch is checked out;
 * else the run that changed last.
 */
export async function resolveTag(records: ProjectRecords, tag: string | undefined): Promise<string> {
  const known = new Set(records.rows.map((r) => r.tag));
  if (tag !== undefined) {
    if (!known.has(tag)) {
      const others = [...known].filter((t) => t !== '');
      throw new ProjectError(`no trials recorded for run "${tag}"${others.length > 0 ? `; runs with trials: ${others.join(', ')}` : ''}`);
    }
    return tag;
  }
  const prefix = `${records.config.git.branch_prefix}/`;
  const branch = currentBranch(records.projectDir);
  if (branch?.startsWith(prefix) && known.has(branch.slice(prefix.length))) return branch.slice(prefix.length);
  const byActivity = await listRunTags(records.projectDir);
  for (let i = byActivity.length - 1; i >= 0; i--) if (known.has(byActivity[i]!)) return byActivity[i]!;
  const last = records.rows.at(-1);
  if (last) return last.tag;
  throw new ProjectError(`no runs yet in ${records.projectDir}`, { hints: ['Start one with: crucible run --tag run1'] });
}

export function rowsOf(records: ProjectRecords, tag: string): ResultRow[] {
  return records.rows.filter((r) => r.tag === tag);
}

/** The `crucible run` working on this run right now, if any. */
export function runningProcess(projectDir: string, tag: string): { pid: number; since: string } | null {
  const file = runPaths(projectDir, tag).lock;
  if (!existsSync(file)) return null;
  try {
    const record = parseLockRecord(readFileSync(file, 'utf8'));
    if (!record || record.host !== hostname()) return null;
    return isProcessAlive(record) ? { pid: record.pid, since: record.startedAt } : null;
  } catch {
    return null;
  }
}

function currentBranch(dir: string): string | null {
  // Read .git/HEAD directly when possible: status must stay instant.
  try {
    const head = readFileSync(`${dir}/.git/HEAD`, 'utf8').trim();
    return head.startsWith('ref: refs/heads/') ? head.slice('ref: refs/heads/'.length) : null;
  } catch {
    try {
      return execFileSync('git', ['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
    } catch {
      return null;
    }
  }
}
