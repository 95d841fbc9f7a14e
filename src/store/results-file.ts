import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { storageErrorFrom } from '../errors.js';
import { openAppendOnlyFile } from './append-only-file.js';
import { replaceFile } from './replace-file.js';
import type { AppendOnlyFile } from './append-only-file.js';
import { RESULT_COLUMNS, RESULTS_FILE } from './result-row.js';
import type { ResultRow } from './result-row.js';
import { formatResultRow, normalizeResultRow, parseResultsTable } from './results-format.js';

export { formatResultRow, parseResultsText, sanitizeDescription } from './results-format.js';

/**
 * `results.tsv` at the project root, open for appending. One file is shared by every run (tag)
 * of the project, possibly by several processes at once; rows are keyed by (tag, trial).
 *
 * The file is read once at open; afterwards the in-memory index answers `rows` and `has`, so a
 * long run never re-reads it. Rows appended by other processes after open are not seen here.
 */
export interface ResultsFile {
  readonly path: string;
  /** Rows skipped or cells ignored at open, one line each ("line N: ..."). */
  readonly problems: readonly string[];
  /** The torn last line (a write cut short by a crash) removed at open, or null. */
  readonly repaired: string | null;
  /** True when the file was in the reference tool's 4-column format and was rewritten as ours. */
  readonly upgraded: boolean;
  /** All rows in file order, or those of one run. */
  rows(tag?: string): ResultRow[];
  has(tag: string, trial: number): boolean;
  get(tag: string, trial: number): ResultRow | undefined;
  /**
   * Appends the row and flushes it to disk. Idempotent: when (tag, trial) is already present
   * nothing is written and the result is false.
   */
  append(row: ResultRow): boolean;
  /** Replaces the rows of run `tag` with `rows` (in that order, after the other runs' rows); rewrites the file. */
  replaceRows(tag: string, rows: readonly ResultRow[]): void;
  /** Puts the file back as this handle wrote it when anyone else changed it; true when it had to. */
  restoreIfChanged(): boolean;
  close(): void;
}

export function resultsPath(projectDir: string): string {
  return join(projectDir, RESULTS_FILE);
}

export function openResultsFile(projectDir: string): ResultsFile {
  const path = resultsPath(projectDir);
  let file = openAppendOnlyFile(path);
  let text = file.takeText();
  let table = parseResultsTable(text);
  const repaired = file.torn;
  let upgraded = false;
  if (table.legacy && text !== '') {
    file.close();
    upgradeLegacyFile(path, table.rows);
    file = openAppendOnlyFile(path);
    text = file.takeText();
    table = parseResultsTable(text);
    upgraded = true;
  }
  if (text === '') file.appendLine(RESULT_COLUMNS.join('\t'));
  return createResultsFile(file, table.columns, table.rows, table.problems, repaired, upgraded);
}

function createResultsFile(
  file: AppendOnlyFile,
  columns: readonly string[],
  initialRows: readonly ResultRow[],
  problems: readonly string[],
  repaired: string | null,
  upgraded: boolean,
): ResultsFile {
  let all: ResultRow[] = [];
  let byTag = new Map<string, Map<number, ResultRow>>();
  const remember = (row: ResultRow): void => {
    all.push(row);
    let trials = byTag.get(row.tag);
    if (trials === undefined) {
      trials = new Map();
      byTag.set(row.tag, trials);
    }
    trials.set(row.trial, row);
  };
  initialRows.forEach(remember);
  const rewrite = (): void => {
    file.replace([columns.join('\t'), ...all.map((row) => formatResultRow(row, columns))].map((line) => `${line}\n`).join(''));
  };

  return {
    path: file.path,
    problems,
    repaired,
    upgraded,
    rows(tag?: string): ResultRow[] {
      if (tag === undefined) return all.slice();
      return [...(byTag.get(tag)?.values() ?? [])];
    },
    has(tag: string, trial: number): boolean {
      return byTag.get(tag)?.has(trial) ?? false;
    },
    get(tag: string, trial: number): ResultRow | undefined {
      return byTag.get(tag)?.get(trial);
    },
    append(row: ResultRow): boolean {
      if (byTag.get(row.tag)?.has(row.trial) === true) return false;
      const clean = normalizeResultRow(row);
      // Written in the file's own column order, so a file begun by another version stays aligned.
      // No fsync: the file is a rendering of the ledger, whose trial.end (or decide) row a run
      // rebuilds it from when it opens (reconcile-results.ts). One flush a trial saved.
      file.appendLine(formatResultRow(clean, columns));
      remember(clean);
      return true;
    },
    replaceRows(tag: string, rows: readonly ResultRow[]): void {
      const kept = all.filter((row) => row.tag !== tag);
      all = [];
      byTag = new Map();
      kept.forEach(remember);
      rows.map(normalizeResultRow).forEach(remember);
      rewrite();
    },
    restoreIfChanged(): boolean {
      if (file.intact()) return false;
      rewrite();
      return true;
    },
    close(): void {
      file.close();
    },
  };
}

// Rewrites a reference-format file as ours, through a temporary file and a rename so that a crash
// leaves either the old file or the new one, never half of each.
function upgradeLegacyFile(path: string, rows: readonly ResultRow[]): void {
  const lines = [RESULT_COLUMNS.join('\t'), ...rows.map((row) => formatResultRow(row))];
  try {
    replaceFile(path, `${lines.join('\n')}\n`, { sync: true });
  } catch (error) {
    throw storageErrorFrom(error, path) ?? error;
  }
}

/**
 * Reads results.tsv without changing it, for the read-only commands. A missing file reads as
 * no rows; an unfinished last line (a write in progress or a crash) is left out.
 */
export function readResults(projectDir: string): Promise<{ rows: ResultRow[]; problems: string[] }> {
  return new Promise((resolve) => resolve(readResultsNow(projectDir)));
}

function readResultsNow(projectDir: string): { rows: ResultRow[]; problems: string[] } {
  let text: string;
  try {
    // Synchronously: a read command then never loads node:fs/promises (2.5 ms of its start).
    text = readFileSync(resultsPath(projectDir), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { rows: [], problems: [] };
    throw error;
  }
  const { rows, problems } = parseResultsTable(text.slice(0, text.lastIndexOf('\n') + 1));
  return { rows, problems };
}
