import { existsSync } from 'node:fs';
import type { Direction } from '../core/objective.js';
import type { RunView, TrialNode } from './fold-run.js';
import { readRunRecord, readRunView } from './read-run.js';
import type { ResultRow } from './result-row.js';
import { readResults } from './results-file.js';
import { isValidTag, listRunTags, runPaths } from './run-paths.js';

/**
 * A project's runs as the read-only side sees them. A run with a ledger is read from its ledger
 * only: results.tsv is a rendering of it for people and other tools, and a line forged there
 * changes nothing here. results.tsv is read for the runs without a ledger (the reference tool's
 * file, a run whose folder was deleted), and only when one of those is asked for.
 */
export interface ProjectRuns {
  readonly projectDir: string;
  /** Runs with a folder, oldest activity first. */
  readonly folders: readonly string[];
  /** Lines of results.tsv that could not be read; filled when results.tsv is read. */
  readonly problems: string[];
  /** The run's rows, in trial order; [] for a run nothing records. Read once, then kept. */
  rows(tag: string): Promise<ResultRow[]>;
  /** Rows already read by `rows`, or undefined. */
  loadedRows(tag: string): ResultRow[] | undefined;
  /** The trials in flight of a run `rows` has read; [] for a run without a ledger. */
  loadedInFlight(tag: string): TrialNode[] | undefined;
  /**
   * The ledger's whole view of a run (every record, the tree, sessions); null for a run without a
   * ledger. Read whole when `rows` read it from a checkpoint.
   */
  view(tag: string): RunView | null;
  /** Runs with at least one recorded trial: in results.tsv's order, then the other ledgers' by activity. */
  tagsWithTrials(): Promise<string[]>;
  /** results.tsv's rows of the runs that have no ledger, in file order (reads results.tsv). */
  legacyRows(): Promise<ResultRow[]>;
}

/** `whole`: every run read is read whole (its `view` is wanted), never through its checkpoint. */
export async function openProjectRuns(projectDir: string, options: { direction?: Direction; whole?: boolean } = {}): Promise<ProjectRuns> {
  const folders = await listRunTags(projectDir);
  const problems: string[] = [];
  const cache = new Map<string, ResultRow[]>();
  const views = new Map<string, RunView | null>();
  const inFlight = new Map<string, TrialNode[]>();
  const readOptions = options.direction ? { direction: options.direction } : {};
  let results: Promise<ResultRow[]> | undefined;
  const hasLedger = (tag: string): boolean => isValidTag(tag) && existsSync(runPaths(projectDir, tag).ledger);
  const resultRows = (): Promise<ResultRow[]> =>
    (results ??= readResults(projectDir).then((read) => {
      problems.push(...read.problems);
      return read.rows;
    }));

  const runs: ProjectRuns = {
    projectDir,
    folders,
    problems,
    async rows(tag: string): Promise<ResultRow[]> {
      const known = cache.get(tag);
      if (known !== undefined) return known;
      const record = isValidTag(tag) ? readRunRecord(projectDir, tag, { ...readOptions, whole: options.whole === true }) : null;
      const rows = record !== null ? record.rows : (await resultRows()).filter((row) => row.tag === tag);
      cache.set(tag, rows);
      inFlight.set(tag, record?.inFlight ?? []);
      if (record === null) views.set(tag, null);
      else if (record.view !== null) views.set(tag, record.view);
      return rows;
    },
    loadedRows: (tag) => cache.get(tag),
    loadedInFlight: (tag) => inFlight.get(tag),
    view(tag: string): RunView | null {
      let view = views.get(tag);
      if (view === undefined) {
        view = isValidTag(tag) ? readRunView(projectDir, tag, readOptions) : null;
        views.set(tag, view);
      }
      return view;
    },
    async tagsWithTrials(): Promise<string[]> {
      const tags = [...new Set([...(await resultRows()).map((row) => row.tag), ...folders])];
      const withTrials: string[] = [];
      for (const tag of tags) if ((await runs.rows(tag)).length > 0) withTrials.push(tag);
      return withTrials;
    },
    async legacyRows(): Promise<ResultRow[]> {
      return (await resultRows()).filter((row) => !hasLedger(row.tag));
    },
  };
  return runs;
}
