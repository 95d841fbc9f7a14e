import type { TrialSummary } from '../core/trial-record.js';
import { shortSha } from '../workspace/git.js';
import type { RunView } from './fold-run.js';
import type { ResultRow } from './result-row.js';
import { normalizeResultRowInPlace } from './results-format.js';

// A ledger edited by hand may name anything: only a commit id makes a cell (and reaches a terminal).
const isSha = (text: string): boolean => /^[0-9a-f]{4,64}$/i.test(text);

/** The results.tsv row of a finished trial: written by finishTrial, rebuilt from the ledger's `trial.end`. */
export function resultRowOf(tag: string, summary: TrialSummary, timestamp: string): ResultRow {
  const row: ResultRow = {
    commit: summary.commit === '' ? '' : shortSha(summary.commit),
    metric: summary.metric,
    status: summary.outcome,
    description: summary.description,
    tag,
    trial: summary.trial,
    timestamp,
    agentSeconds: summary.agentMs / 1000,
    runSeconds: summary.runMs / 1000,
    totalSeconds: summary.totalMs / 1000,
    costUsd: summary.costUsd,
    inputTokens: summary.usage?.inputTokens ?? null,
    outputTokens: summary.usage?.outputTokens ?? null,
    cacheReadTokens: summary.usage?.cacheReadTokens ?? null,
    cacheWriteTokens: summary.usage?.cacheWriteTokens ?? null,
  };
  // Only what the record names: a row of a serial run of an older version reads as it did.
  if (summary.parent !== undefined && isSha(summary.parent)) row.parent = shortSha(summary.parent);
  if (summary.base !== undefined && isSha(summary.base)) row.base = shortSha(summary.base);
  if (summary.slot !== undefined) row.slot = summary.slot;
  if (summary.remeasureOf !== undefined) row.remeasureOf = summary.remeasureOf;
  if (summary.samples !== undefined) {
    row.measurements = summary.samples.length;
    row.samples = summary.samples;
  }
  if (summary.incumbentSamples !== undefined) row.incumbentSamples = summary.incumbentSamples;
  if (summary.margin !== undefined) row.margin = summary.margin;
  if (summary.p !== undefined) row.p = summary.p;
  return row;
}

/**
 * The rows a run's finished trials stand for, in trial order, exactly as results.tsv would read
 * them back (description on one line, durations and cost rounded): what the reports show.
 */
export function rowsOfView(tag: string, view: RunView): ResultRow[] {
  const rows: ResultRow[] = [];
  for (const node of view.trials) {
    if (node.summary === null) continue;
    const row = resultRowOf(tag, node.summary, oneCell(node.endedAt ?? ''));
    row.commit = oneCell(row.commit);
    rows.push(normalizeResultRowInPlace(row));
  }
  return rows;
}

// A ledger edited by hand may hold anything: a cell must not hold a tab or a line break.
function oneCell(text: string): string {
  return text.replace(/[\t\r\n]/g, ' ');
}
