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
  const ordered = isSortedByTrial(rows) ? rows : sortByTrial(rows);
  // One pass (a long run has 100,000 rows); sums in trial order, as before.
  const counts: Record<ResultRow['status'], number> = { baseline: 0, keep: 0, discard: 0, crash: 0, violation: 0, skip: 0, 'agent-error': 0, stopped: 0, interrupted: 0, stale: 0 };
  const cost = new KnownSum();
  const input = new KnownSum();
  const output = new KnownSum();
  const cacheRead = new KnownSum();
  const cacheWrite = new KnownSum();
  const agent = new KnownSum();
  const run = new KnownSum();
  const total = new KnownSum();
  let baselineRow: ResultRow | undefined;
  let lastTrialAt: string | null = null;
  for (const row of ordered) {
    if (row.tag !== tag) throw new Error(`summarizeRun got rows of two runs: "${tag}" and "${row.tag}"`);
    counts[row.status] += 1;
    if (row.status === 'baseline') baselineRow ??= row;
    // ISO 8601 UTC strings of one writer sort as text; the latest is not always the last row when
    // several workers decide trials out of order.
    if (row.timestamp !== '' && (lastTrialAt === null || row.timestamp > lastTrialAt)) lastTrialAt = row.timestamp;
    cost.add(row.costUsd);
    input.add(row.inputTokens ?? null);
    output.add(row.outputTokens ?? null);
    cacheRead.add(row.cacheReadTokens ?? null);
    cacheWrite.add(row.cacheWriteTokens ?? null);
    agent.add(row.agentSeconds);
    run.add(row.runSeconds);
    total.add(row.totalSeconds);
  }
  const trials = ordered.length - counts.baseline;
  const kept = counts.keep;

  const baseline = baselineRow === undefined ? null : { metric: baselineRow.metric, commit: baselineRow.commit };
  const bestRow = findBestKept(ordered, direction, (row) => row.status);
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
    discarded: counts.discard,
    crashed: counts.crash,
    skipped: counts.skip,
    violations: counts.violation,
    agentErrors: counts['agent-error'],
    stopped: counts.stopped,
    interrupted: counts.interrupted,
    stale: counts.stale,
    baseline,
    best,
    improvement,
    keepRate: trials === 0 ? null : kept / trials,
    lastTrialAt,
    totalCostUsd: roundCost(cost.value()),
    tokens: { input: input.value() ?? 0, output: output.value() ?? 0, cacheRead: cacheRead.value() ?? 0, cacheWrite: cacheWrite.value() ?? 0 },
    durations: { agentSeconds: agent.value() ?? 0, runSeconds: run.value() ?? 0, totalSeconds: total.value() ?? 0 },
  };
}

function isSortedByTrial(rows: readonly ResultRow[]): boolean {
  for (let i = 1; i < rows.length; i++) if (rows[i]!.trial < rows[i - 1]!.trial) return false;
  return true;
}

/** The sum of the known values, added in order from 0; null when none is known. */
class KnownSum {
  private sum = 0;
  private known = false;
  add(value: number | null): void {
    if (value === null) return;
    this.sum += value;
    this.known = true;
  }
  value(): number | null {
    return this.known ? this.sum : null;
  }
}

// Sums of many float costs drift (0.49999999999999994); a millionth of a dollar is plenty.
function roundCost(usd: number | null): number | null {
  return usd === null ? null : Math.round(usd * 1e6) / 1e6;
}
