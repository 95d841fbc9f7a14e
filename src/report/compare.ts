import { formatMetric, formatPercent, formatSignedMetric } from './format.js';
import { isBetter, measureGain } from '../core/objective.js';
import type { RunSummary } from './summary.js';
import { measureWidth, padEndToWidth, padStartToWidth } from './text-width.js';

/**
 * `crucible compare A B`: two runs side by side. Both summaries must come from the same
 * objective; `a`'s direction decides which best is better.
 */
export function renderCompare(a: RunSummary, b: RunSummary, metricName: string): string {
  const rows: Array<[string, string, string]> = [
    ['Trials', String(a.trials), String(b.trials)],
    ['Kept', String(a.kept), String(b.kept)],
    ['Discarded', String(a.discarded), String(b.discarded)],
    ['Crashed', String(a.crashed), String(b.crashed)],
  ];
  // The rarer outcomes only take a line when one of the runs had them.
  const rare: Array<[string, (summary: RunSummary) => number]> = [
    ['Skipped', (summary) => summary.skipped],
    ['Violations', (summary) => summary.violations],
    ['Agent errors', (summary) => summary.agentErrors],
    ['Stale', (summary) => summary.stale],
  ];
  for (const [label, pick] of rare) if (pick(a) + pick(b) > 0) rows.push([label, String(pick(a)), String(pick(b))]);
  const both = (pick: (summary: RunSummary) => string): [string, string] => [pick(a), pick(b)];
  rows.push(
    [`Baseline ${metricName}`, ...both((summary) => formatMetric(summary.baseline?.metric ?? null))],
    [`Best ${metricName}`, ...both((summary) => formatMetric(summary.best?.metric ?? null))],
    ['Best commit', ...both((summary) => bestCommit(summary))],
    ['Improvement', ...both((summary) => formatImprovement(summary))],
  );
  if (a.totalCostUsd !== null || b.totalCostUsd !== null) {
    rows.push(['Cost (USD)', ...both((summary) => (summary.totalCostUsd === null ? '-' : summary.totalCostUsd.toFixed(2)))]);
  }

  const labelWidth = Math.max(...rows.map(([label]) => measureWidth(label)));
  const columnWidth = Math.max(8, measureWidth(a.tag), measureWidth(b.tag), ...rows.flatMap(([, x, y]) => [measureWidth(x), measureWidth(y)]));
  const formatRow = (label: string, x: string, y: string): string =>
    `${padEndToWidth(label, labelWidth)}  ${padStartToWidth(x, columnWidth)}  ${padStartToWidth(y, columnWidth)}`;
  const lines = [formatRow('', a.tag, b.tag), ...rows.map(([label, x, y]) => formatRow(label, x, y))];
  const verdict = renderVerdict(a, b);
  if (verdict !== null) lines.push('', verdict);
  return lines.join('\n');
}

function bestCommit(summary: RunSummary): string {
  if (summary.best === null) return '-';
  return summary.best.trial === 0 ? `${summary.best.commit} (baseline)` : summary.best.commit;
}

function formatImprovement(summary: RunSummary): string {
  const gain = summary.improvement;
  if (gain === null) return '-';
  return gain.percent === null ? formatSignedMetric(gain.absolute) : formatPercent(gain.percent);
}

/** Which run reached the better best, and by how much; null unless both have a best. */
function renderVerdict(a: RunSummary, b: RunSummary): string | null {
  if (a.best === null || b.best === null) return null;
  const [bestA, bestB] = [a.best.metric, b.best.metric];
  if (bestA === bestB) return `Both runs reach the same best: ${formatMetric(bestA)}.`;
  const aWins = isBetter(bestA, bestB, a.direction);
  const [winner, winnerBest, loserBest] = aWins ? [a, bestA, bestB] : [b, bestB, bestA];
  const gain = measureGain(loserBest, winnerBest, a.direction);
  const margin = gain.percent === null ? formatSignedMetric(gain.absolute) : formatPercent(gain.percent);
  return `${winner.tag} is better: ${formatMetric(winnerBest)} vs ${formatMetric(loserBest)} (${margin})`;
}

/** One run in `crucible compare --json`. */
export interface CompareRunJson {
  /** Trials, baseline excluded (the reference tool counted the baseline here but not in status). */
  iterations: number;
  kept: number;
  discarded: number;
  crashed: number;
  skipped: number;
  violations: number;
  agent_errors: number;
  stale: number;
  best_metric: number | null;
  best_commit: string | null;
  best_trial: number | null;
  baseline_metric: number | null;
  improvement_absolute: number | null;
  improvement_percent: number | null;
  cost_usd: number | null;
}

/** Keyed by tag, as the reference tool did; the two tags must differ. */
export function compareJson(a: RunSummary, b: RunSummary): Record<string, CompareRunJson> {
  if (a.tag === b.tag) throw new Error(`compareJson needs two different runs, got "${a.tag}" twice`);
  return { [a.tag]: toCompareRunJson(a), [b.tag]: toCompareRunJson(b) };
}

function toCompareRunJson(summary: RunSummary): CompareRunJson {
  return {
    iterations: summary.trials,
    kept: summary.kept,
    discarded: summary.discarded,
    crashed: summary.crashed,
    skipped: summary.skipped,
    violations: summary.violations,
    agent_errors: summary.agentErrors,
    stale: summary.stale,
    best_metric: summary.best?.metric ?? null,
    best_commit: summary.best?.commit ?? null,
    best_trial: summary.best?.trial ?? null,
    baseline_metric: summary.baseline?.metric ?? null,
    improvement_absolute: summary.improvement?.absolute ?? null,
    improvement_percent: summary.improvement?.percent ?? null,
    cost_usd: summary.totalCostUsd,
  };
}
