import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { storageErrorFrom } from '../errors.js';
import { openAppendOnlyFile } from './append-only-file.js';
import { CompressedLines } from './compressed-lines.js';
import { replaceFile } from './replace-file.js';
import type { AppendOnlyFile } from './append-only-file.js';
import { RESULT_COLUMNS, RESULTS_FILE } from './result-row.js';
import type { ResultRow } from './result-row.js';
import { formatResultRow, normalizeResultRow, parseResultsTable } from './results-format.js';
import type { ResultsTable } from './results-format.js';

export { formatResultRow, parseResultsText, sanitizeDescription } from './results-format.js';

/**
 * `results.tsv` at the project root, open for appending. One file is shared by every run (tag)
 * of the project, possibly by several processes at once; rows are keyed by (tag, trial).
 *
 * The file is read once at open; afterwards what this handle keeps answers `rows` and `has`, so
 * a long run never re-reads it. `has` is a lookup; `rows` reads the kept rows back once the run
 * has appended (decisions 58): for opening a run, not for every trial. Rows appended by other
 * processes after open are not seen here.
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
  return createResultsFile(file, table.columns, table.rows, table.problems, repaired, upgraded, rowLinesOf(text, table));
}

/**
 * The file's lines after its header, as one text, when each is exactly one of the rows read: no
 * row skipped, no blank line, no carriage return. Those lines can then stand for the rows
 * without being formatted again; null when they cannot.
 */
function rowLinesOf(text: string, table: ResultsTable): string | null {
  if (table.legacy || table.problems.length > 0 || text.includes('\r')) return null;
  const headerEnd = text.indexOf('\n');
  if (headerEnd < 0 || text.slice(0, headerEnd) !== table.columns.join('\t')) return null;
  const body = text.slice(headerEnd + 1);
  let lineCount = 0;
  for (let at = body.indexOf('\n'); at >= 0; at = body.indexOf('\n', at + 1)) lineCount += 1;
  const ended = body === '' || body.endsWith('\n');
  return ended && lineCount === table.rows.length ? body : null;
}

function createResultsFile(
  file: AppendOnlyFile,
  columns: readonly string[],
  initialRows: readonly ResultRow[],
  problems: readonly string[],
  repaired: string | null,
  upgraded: boolean,
  initialRowLines: string | null,
): ResultsFile {
  // The rows as read at open serve the reconciliation at open; from the first append on, the
  // rows are kept as their lines, compressed (decisions 58): a run only appends, checks for a
  // row already there, and puts the file back when something else changed it.
  let parsed: ResultRow[] | null = [];
  let lines: CompressedLines | null = null;
  // The rows' own lines as read, while they still stand for `parsed`: the first append keeps them
  // instead of formatting every row again (15 ms at four thousand rows, once a run's start).
  let rowLines: string | null = null;
  let trialsByTag = new Map<string, Set<number>>();
  const remember = (row: ResultRow): void => {
    let trials = trialsByTag.get(row.tag);
    if (trials === undefined) {
      trials = new Set();
      trialsByTag.set(row.tag, trials);
    }
    trials.add(row.trial);
  };
  const setRows = (rows: ResultRow[]): void => {
    parsed = rows;
    lines = null;
    rowLines = null;
    trialsByTag = new Map();
    rows.forEach(remember);
  };
  setRows([...initialRows]);
  rowLines = initialRowLines;
  const allRows = (): ResultRow[] => parsed ?? parseResultsTable(`${columns.join('\t')}\n${lines!.text()}`).rows;
  const keptLines = (): CompressedLines => {
    if (lines === null) {
      lines = new CompressedLines();
      if (rowLines === null) {
        for (const row of parsed!) lines.push(formatResultRow(row, columns));
      } else {
        const read = rowLines.split('\n');
        read.pop();
        for (const line of read) lines.push(line);
        // Slices of the file's text would keep all of it alive (decisions 60).
        lines.copyPending();
      }
      parsed = null;
      rowLines = null;
    }
    return lines;
  };
  const rewrite = (): void => {
    const body = parsed === null ? lines!.text() : rowLines ?? parsed.map((row) => `${formatResultRow(row, columns)}\n`).join('');
    file.replace(`${columns.join('\t')}\n${body}`);
  };

  return {
    path: file.path,
    problems,
    repaired,
    upgraded,
    rows(tag?: string): ResultRow[] {
      const all = allRows();
      return tag === undefined ? all.slice() : all.filter((row) => row.tag === tag);
    },
    has(tag: string, trial: number): boolean {
      return trialsByTag.get(tag)?.has(trial) ?? false;
    },
    append(row: ResultRow): boolean {
      if (trialsByTag.get(row.tag)?.has(row.trial) === true) return false;
      const clean = normalizeResultRow(row);
      // Written in the file's own column order, so a file begun by another version stays aligned.
      // No fsync: the file is a rendering of the ledger, whose trial.end (or decide) row a run
      // rebuilds it from when it opens (reconcile-results.ts). One flush a trial saved.
      const line = formatResultRow(clean, columns);
      file.appendLine(line);
      keptLines().push(line);
      remember(clean);
      return true;
    },
    replaceRows(tag: string, rows: readonly ResultRow[]): void {
      setRows([...allRows().filter((row) => row.tag !== tag), ...rows.map(normalizeResultRow)]);
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
