import type { Direction } from '../config/schema.js';
import type { ResultRow } from '../store/result-row.js';
import { findBestKept, measureGain, type Gain } from '../core/objective.js';

/** The facts every report starts from: counts, baseline, best and totals of one run. */
export interface RunSummary {
  tag: string;
  direction: Direction;
  /** Trials after the baseline: the baseline is a measurement, not an attempt. */
  trials: number;
  kept: number;
  discarded: number;
  crashed: number;
  skipped: number;
  violations: number;
  agentErrors: number;
  stopped: number;
  interrupted: number;
  /** Proposals whose change no longer applied to a moved incumbent: not measured, not failures. */
  stale: number;
  baseline: { metric: number | null; commit: string } | null;
  /** Best metric among `keep` and `baseline` rows; the earliest trial wins a tie. */
  best: { metric: number; commit: string; description: string; trial: number } | null;
  /** Best against baseline; null until both exist with a metric. */
  improvement: Gain | null;
  /** kept / trials, from 0 to 1; null before the first trial. */
  keepRate: number | null;
  /** Timestamp of the latest row, baseline included; null for an empty run. */
  lastTrialAt: string | null;
  /** Sum of the known costs; null when no row reports one (no LLM backend). */
  totalCostUsd: number | null;
  /** Token totals over the trials that report them; all 0 when none does. */
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number };
  durations: { agentSeconds: number; runSeconds: number; totalSeconds: number };
}

/** Rows in trial order; ties keep their file order (a stable sort). */
export function sortByTrial(rows: readonly ResultRow[]): ResultRow[] {
  return [...rows].sort((a, b) => a.trial - b.trial);
}

/**
 * The best `keep` or `baseline` row with a metric, or undefined. Crashes and the rest never
 * qualify, even when a stray metric is present.
 */
export function findBestRow(rows: readonly ResultRow[], direction: Direction): ResultRow | undefined {
  return findBestKept(sortByTrial(rows), direction, (row) => row.status);
}

/** `rows` must all belong to one run (one tag): mixing runs would give meaningless totals. */
export function summarizeRun(rows: readonly ResultRow[], direction: Direction): RunSummary {
  const tag = rows[0]?.tag ?? '';
  const stranger = rows.find((row) => row.tag !== tag);
  if (stranger !== undefined) throw new Error(`summarizeRun got rows of two runs: "${tag}" and "${stranger.tag}"`);

  const ordered = sortByTrial(rows);
  const count = (status: ResultRow['status']): number => ordered.filter((row) => row.status === status).length;
  const trials = ordered.filter((row) => row.status !== 'baseline').length;
  const kept = count('keep');

  const baselineRow = ordered.find((row) => row.status === 'baseline');
  const baseline = baselineRow === undefined ? null : { metric: baselineRow.metric, commit: baselineRow.commit };
  const bestRow = findBestRow(ordered, direction);
  const best =
    bestRow?.metric == null
      ? null
      : { metric: bestRow.metric, commit: bestRow.commit, description: bestRow.description, trial: bestRow.trial };
  const improvement =
    best === null || baseline?.metric == null ? null : measureGain(baseline.metric, best.metric, direction);

  return {
    tag,
    direction,
    trials,
    kept,
    discarded: count('discard'),
    crashed: count('crash'),
    skipped: count('skip'),
    violations: count('violation'),
    agentErrors: count('agent-error'),
    stopped: count('stopped'),
    interrupted: count('interrupted'),
    stale: count('stale'),
    baseline,
    best,
    improvement,
    keepRate: trials === 0 ? null : kept / trials,
    lastTrialAt: latestTimestamp(ordered),
    totalCostUsd: roundCost(sumKnown(ordered.map((row) => row.costUsd))),
    tokens: {
      input: sumKnown(ordered.map((row) => row.inputTokens ?? null)) ?? 0,
      output: sumKnown(ordered.map((row) => row.outputTokens ?? null)) ?? 0,
      cacheRead: sumKnown(ordered.map((row) => row.cacheReadTokens ?? null)) ?? 0,
      cacheWrite: sumKnown(ordered.map((row) => row.cacheWriteTokens ?? null)) ?? 0,
    },
    durations: {
      agentSeconds: sumKnown(ordered.map((row) => row.agentSeconds)) ?? 0,
      runSeconds: sumKnown(ordered.map((row) => row.runSeconds)) ?? 0,
      totalSeconds: sumKnown(ordered.map((row) => row.totalSeconds)) ?? 0,
    },
  };
}

function sumKnown(values: ReadonlyArray<number | null>): number | null {
  const known = values.filter((value): value is number => value !== null);
  return known.length === 0 ? null : known.reduce((sum, value) => sum + value, 0);
}

// Sums of many float costs drift (0.49999999999999994); a millionth of a dollar is plenty.
function roundCost(usd: number | null): number | null {
  return usd === null ? null : Math.round(usd * 1e6) / 1e6;
}

// ISO 8601 UTC strings of one writer sort as text; the latest is not always the last row when
// several workers decide trials out of order.
function latestTimestamp(rows: readonly ResultRow[]): string | null {
  let latest: string | null = null;
  for (const row of rows) if (row.timestamp !== '' && (latest === null || row.timestamp > latest)) latest = row.timestamp;
  return latest;
}
