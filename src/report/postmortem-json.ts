import type { Direction } from '../config/schema.js';
import type { Outcome } from '../core/outcome.js';
import { originOf } from './history.js';
import { noiseJson, type NoiseJson } from './noise.js';
import type { Postmortem } from './postmortem.js';

/**
 * `crucible postmortem --json`. The reference tool's top-level fields come first (total, kept,
 * discarded, crashed, best_metric, best_commit, trend, failure_streaks, ai_insights) with our
 * meanings: total excludes the baseline, and the best may be the baseline.
 */
export interface PostmortemJson {
  tag: string;
  direction: Direction;
  total: number;
  kept: number;
  discarded: number;
  crashed: number;
  skipped: number;
  violations: number;
  agent_errors: number;
  stopped: number;
  interrupted: number;
  stale: number;
  best_metric: number | null;
  best_commit: string | null;
  best_trial: number | null;
  best_description: string | null;
  baseline_metric: number | null;
  improvement: { absolute: number; percent: number | null } | null;
  keep_rate: number | null;
  usage: { cost_usd: number | null };
  durations: { agent_seconds: number; run_seconds: number; total_seconds: number };
  trend: Array<{
    trial: number;
    metric: number | null;
    status: Outcome;
    description: string;
    commit: string | null;
    best_so_far: number | null;
    /** As in `history --json`: present when the trial's record names them. */
    parent?: string;
    base?: string;
    slot?: number;
    remeasure_of?: number;
    /** Every raw value of the trial's candidate, when the ledger has them (its metric aggregates them). */
    samples?: number[];
    /** The incumbent's values measured beside it while it was confirmed. */
    incumbent_samples?: number[];
  }>;
  failure_streaks: Array<{ start_trial: number; end_trial: number; length: number }>;
  turning_points: Array<{
    trial: number;
    commit: string;
    description: string;
    from: number;
    to: number;
    absolute: number;
    percent: number | null;
  }>;
  plateau: { since_trial: number; length: number } | null;
  /** The baseline's spread over its repeated runs; null when it ran once (or the records predate repeats). */
  noise: NoiseJson | null;
  /** Each keep: its estimated gain over the incumbent (positive = better) and the runs behind it. */
  keeps: Array<{ trial: number; metric: number; margin: number | null; measurements: number; incumbent_measurements: number; p: number | null }>;
  /** Filled in by the CLI when an LLM writes insights; null otherwise. */
  ai_insights: string | null;
}

export function postmortemJson(pm: Postmortem): PostmortemJson {
  const { summary } = pm;
  return {
    tag: summary.tag,
    direction: summary.direction,
    total: summary.trials,
    kept: summary.kept,
    discarded: summary.discarded,
    crashed: summary.crashed,
    skipped: summary.skipped,
    violations: summary.violations,
    agent_errors: summary.agentErrors,
    stopped: summary.stopped,
    interrupted: summary.interrupted,
    stale: summary.stale,
    best_metric: summary.best?.metric ?? null,
    best_commit: summary.best?.commit ?? null,
    best_trial: summary.best?.trial ?? null,
    best_description: summary.best?.description ?? null,
    baseline_metric: summary.baseline?.metric ?? null,
    improvement: summary.improvement === null ? null : { ...summary.improvement },
    keep_rate: summary.keepRate,
    usage: { cost_usd: summary.totalCostUsd },
    durations: {
      agent_seconds: summary.durations.agentSeconds,
      run_seconds: summary.durations.runSeconds,
      total_seconds: summary.durations.totalSeconds,
    },
    trend: pm.trend.map((point) => ({
      trial: point.trial,
      metric: point.metric,
      status: point.status,
      description: point.description,
      commit: point.commit === '' ? null : point.commit,
      best_so_far: point.bestSoFar,
      ...originOf(point),
      ...(point.samples === undefined ? {} : { samples: point.samples }),
      ...(point.incumbentSamples === undefined ? {} : { incumbent_samples: point.incumbentSamples }),
    })),
    failure_streaks: pm.failureStreaks.map((streak) => ({
      start_trial: streak.startTrial,
      end_trial: streak.endTrial,
      length: streak.length,
    })),
    turning_points: pm.turningPoints.map((point) => ({ ...point })),
    plateau: pm.plateau === null ? null : { since_trial: pm.plateau.sinceTrial, length: pm.plateau.length },
    noise: noiseJson(pm.noise),
    keeps: pm.keeps.map((keep) => ({ trial: keep.trial, metric: keep.metric, margin: keep.margin, measurements: keep.measurements, incumbent_measurements: keep.incumbentMeasurements, p: keep.p })),
    ai_insights: null,
  };
}
