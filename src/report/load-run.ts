import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { readConfigEssentials, type ConfigEssentials } from '../config/read-essentials.js';
import { ProjectError } from '../errors.js';
import type { RunView, TrialNode } from '../store/fold-run.js';
import type { ResultRow } from '../store/result-row.js';
import { isProcessAlive } from '../store/process-identity.js';
import { openProjectRuns, type ProjectRuns } from '../store/project-runs.js';
import { parseLockRecord } from '../store/run-lock.js';
import { isValidTag, runPaths } from '../store/run-paths.js';
import { childProcess } from '../child-process.js';

/** What the read-only commands (status, history, compare, postmortem) work from. */
export interface ProjectRecords {
  projectDir: string;
  config: ConfigEssentials;
  /** The runs, each read from its ledger (results.tsv only for runs without one). */
  runs: ProjectRuns;
  /** Lines of results.tsv that could not be read (when it had to be read). */
  problems: string[];
}

/**
 * `tags` are the runs the command names (undefined: the one `resolveTag` picks); `whole`: the
 * command wants their whole view (`viewOf`), not only rows. results.tsv is
 * read now, so that its problems can be shown first, when one of them has no ledger or no run
 * has one; otherwise only if the resolution falls back to it.
 */
export async function loadProjectRecords(projectDir: string, tags: ReadonlyArray<string | undefined> = [undefined], options: { whole?: boolean } = {}): Promise<ProjectRecords> {
  if (!existsSync(projectDir)) throw new ProjectError(`${projectDir} does not exist`);
  const dir = realpathSync(projectDir);
  const config = await readConfigEssentials(dir);
  const withLedger = (tag: string): boolean => isValidTag(tag) && existsSync(runPaths(dir, tag).ledger);
  const runs = await openProjectRuns(dir, { direction: config.metric.direction, whole: options.whole === true });
  if (tags.some((tag) => (tag === undefined ? !runs.folders.some(withLedger) : !withLedger(tag)))) await runs.legacyRows();
  return { projectDir: dir, config, runs, problems: runs.problems };
}

/**
 * The run a read command is about: `--tag` when given; else the run whose branch is checked out;
 * else the run that changed last. A run counts once a trial has started. Its rows are read on the
 * way (see `rowsOf`).
 */
export async function resolveTag(records: ProjectRecords, tag: string | undefined): Promise<string> {
  const { runs } = records;
  // A run whose first trials are still in flight (the baseline measuring, agents at work) is a run too: status shows them.
  const hasTrials = async (candidate: string): Promise<boolean> => (await runs.rows(candidate)).length > 0 || (runs.loadedInFlight(candidate)?.length ?? 0) > 0;
  if (tag !== undefined) {
    if (!(await hasTrials(tag))) {
      const others = (await runs.tagsWithTrials()).filter((t) => t !== '');
      throw new ProjectError(`no trials recorded for run "${tag}"${others.length > 0 ? `; runs with trials: ${others.join(', ')}` : ''}`);
    }
    return tag;
  }
  const prefix = `${records.config.git.branch_prefix}/`;
  const branch = currentBranch(records.projectDir);
  if (branch?.startsWith(prefix) && (await hasTrials(branch.slice(prefix.length)))) return branch.slice(prefix.length);
  for (let i = runs.folders.length - 1; i >= 0; i--) if (await hasTrials(runs.folders[i]!)) return runs.folders[i]!;
  const last = (await runs.legacyRows()).at(-1);
  if (last && (await hasTrials(last.tag))) return last.tag;
  throw new ProjectError(`no runs yet in ${records.projectDir}`, { hints: ['Start one with: crucible run --tag run1'] });
}

/** The rows of a run `resolveTag` has returned, in trial order. */
export function rowsOf(records: ProjectRecords, tag: string): ResultRow[] {
  const rows = records.runs.loadedRows(tag);
  if (rows === undefined) throw new Error(`rowsOf("${tag}") before resolveTag read that run`);
  return rows;
}

/** The ledger's whole view of a run `resolveTag` has returned; null for a run recorded only in results.tsv. */
export function viewOf(records: ProjectRecords, tag: string): RunView | null {
  if (records.runs.loadedRows(tag) === undefined) throw new Error(`viewOf("${tag}") before resolveTag read that run`);
  return records.runs.view(tag);
}

/** The trials in flight of a run `resolveTag` has returned, by trial number; [] for a run recorded only in results.tsv. */
export function inFlightOf(records: ProjectRecords, tag: string): readonly TrialNode[] {
  const inFlight = records.runs.loadedInFlight(tag);
  if (inFlight === undefined) throw new Error(`inFlightOf("${tag}") before resolveTag read that run`);
  return inFlight;
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
      return childProcess().execFileSync('git', ['symbolic-ref', '--quiet', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
    } catch {
      return null;
    }
  }
}
