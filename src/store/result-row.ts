import type { Outcome } from '../core/outcome.js';

/**
 * One row of `results.tsv`: one trial of one run. The first four columns are the README's
 * (`commit  metric_value  status  description`); the rest follow in RESULT_COLUMNS order.
 */
export interface ResultRow {
  /** Short sha of the trial's commit; "" when the trial made none (skip, violation, agent error). */
  commit: string;
  /** null when the trial produced no valid metric (crash, skip, violation, ...): an empty cell. */
  metric: number | null;
  status: Outcome;
  /** One line, never empty: tabs and newlines are replaced before writing. */
  description: string;
  tag: string;
  /** 0 is the baseline. */
  trial: number;
  /** ISO 8601, UTC, when the trial was decided. */
  timestamp: string;
  agentSeconds: number | null;
  runSeconds: number | null;
  totalSeconds: number | null;
  costUsd: number | null;
  /** Tokens the agent used in this trial; absent or null when the agent reports none. */
  inputTokens?: number | null;
  outputTokens?: number | null;
  cacheReadTokens?: number | null;
  cacheWriteTokens?: number | null;
  /** Short shas of the commit the agent started from and the one its change was measured on (absent when unknown). */
  parent?: string;
  base?: string;
  /** The experiment slot it ran in (0 = the project folder); absent when it ran in none or is unknown. */
  slot?: number;
  /** The trial whose change this one measured again. From the ledger only: results.tsv has no such column. */
  remeasureOf?: number;
  /** Runs of the candidate that `metric` aggregates (repeats and confirm runs); absent when unknown (one, in older files). */
  measurements?: number;
  /** From the ledger only (results.tsv holds the aggregate and the count): the raw values, as in TrialSummary. */
  samples?: number[];
  incumbentSamples?: number[];
  margin?: number;
  p?: number;
}

export const RESULT_COLUMNS = [
  'commit',
  'metric_value',
  'status',
  'description',
  'tag',
  'trial',
  'timestamp',
  'agent_seconds',
  'run_seconds',
  'total_seconds',
  'cost_usd',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cache_write_tokens',
  // Issue 8: appended last, so that readers going by position up to here still read.
  'parent',
  'base',
  'slot',
  // Issue 9: how many runs the metric aggregates.
  'measurements',
] as const;

export const RESULTS_FILE = 'results.tsv';
