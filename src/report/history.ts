import type { Outcome } from '../core/outcome.js';
import type { ResultRow } from '../store/result-row.js';
import { formatMetric } from './format.js';
import { sortByTrial } from './summary.js';
import { measureWidth, padEndToWidth, padStartToWidth, truncateToWidth } from './text-width.js';
import { largest } from '../core/statistics.js';

export interface HistoryOptions {
  /** How many of the latest trials to show; 1 or more (the CLI rejects anything else). */
  last: number;
  /** Terminal columns; no line is wider, unless the fixed columns alone are. */
  width: number;
  metricName: string;
}

// Descriptions get at least this many columns, even in a very narrow terminal.
const minDescriptionWidth = 10;
const gap = '  ';

/** The latest `last` rows in trial order. */
export function selectLatest(rows: readonly ResultRow[], last: number): ResultRow[] {
  // `--last 0` meant "everything" in the reference tool by accident of Python slicing; here it
  // is the caller's bug.
  if (!Number.isInteger(last) || last < 1) throw new RangeError(`history needs last >= 1, got ${last}`);
  return sortByTrial(rows).slice(-last);
}

/** The table of `crucible history`. */
export function renderHistory(rows: readonly ResultRow[], opts: HistoryOptions): string {
  const shown = selectLatest(rows, opts.last);
  if (shown.length === 0) return 'No trials yet.';

  const cells = shown.map((row) => ({
    trial: String(row.trial),
    commit: row.commit === '' ? '-' : row.commit,
    metric: formatMetric(row.metric),
    status: row.status,
    description: row.description,
  }));
  const widthOf = (header: string, values: string[]): number =>
    Math.max(measureWidth(header), largest(values.map(measureWidth)));
  const trialWidth = widthOf('Trial', cells.map((cell) => cell.trial));
  const commitWidth = widthOf('Commit', cells.map((cell) => cell.commit));
  const metricWidth = widthOf(opts.metricName, cells.map((cell) => cell.metric));
  const statusWidth = widthOf('Status', cells.map((cell) => cell.status));
  const fixedWidth = trialWidth + commitWidth + metricWidth + statusWidth + gap.length * 4;
  const descriptionWidth = Math.max(minDescriptionWidth, opts.width - fixedWidth);

  const formatLine = (trial: string, commit: string, metric: string, status: string, description: string): string =>
    [
      padStartToWidth(trial, trialWidth),
      padEndToWidth(commit, commitWidth),
      padStartToWidth(metric, metricWidth),
      padEndToWidth(status, statusWidth),
      truncateToWidth(description, descriptionWidth),
    ].join(gap);

  const header = formatLine('Trial', 'Commit', opts.metricName, 'Status', 'Description');
  const body = cells.map((cell) => formatLine(cell.trial, cell.commit, cell.metric, cell.status, cell.description));
  const ruleWidth = Math.min(opts.width, Math.max(measureWidth(header), largest(body.map(measureWidth))));
  const lines = [header, '-'.repeat(ruleWidth), ...body];
  if (shown.length < rows.length) lines.push(`(last ${shown.length} of ${rows.length}; --last N shows more)`);
  return lines.join('\n');
}

/** One entry of `crucible history --json`. */
export interface HistoryEntryJson {
  trial: number;
  /** null when the trial made no commit (skip, violation, agent error). */
  commit: string | null;
  metric: number | null;
  status: Outcome;
  description: string;
  tag: string;
  timestamp: string;
  /** Where the trial came from, when its record says (absent for runs of older versions). */
  parent?: string;
  base?: string;
  slot?: number;
  remeasure_of?: number;
}

export function historyJson(rows: readonly ResultRow[], last: number): HistoryEntryJson[] {
  return selectLatest(rows, last).map((row) => ({
    trial: row.trial,
    commit: row.commit === '' ? null : row.commit,
    metric: row.metric,
    status: row.status,
    description: row.description,
    tag: row.tag,
    timestamp: row.timestamp,
    ...originOf(row),
  }));
}

/** parent, base, slot and remeasure_of as far as the row knows them; nothing for a row of an older version. */
export function originOf(row: Pick<ResultRow, 'parent' | 'base' | 'slot' | 'remeasureOf'>): Pick<HistoryEntryJson, 'parent' | 'base' | 'slot' | 'remeasure_of'> {
  const origin: Pick<HistoryEntryJson, 'parent' | 'base' | 'slot' | 'remeasure_of'> = {};
  if (row.parent !== undefined) origin.parent = row.parent;
  if (row.base !== undefined) origin.base = row.base;
  if (row.slot !== undefined) origin.slot = row.slot;
  if (row.remeasureOf !== undefined) origin.remeasure_of = row.remeasureOf;
  return origin;
}
