import type { Outcome } from '../core/outcome.js';

/** Why a run stopped. */
export type StopReason =
  | { kind: 'max-iterations'; trials: number }
  | { kind: 'max-retries'; count: number; what: 'failures' | 'void trials' }
  | { kind: 'interrupted' }
  | { kind: 'baseline-failed'; report: string }
  | { kind: 'agent-fatal'; message: string }
  | { kind: 'strategy'; message: string }
  | { kind: 'budget'; limit: 'max_cost_usd' | 'max_cost_per_trial_usd' | 'max_wall_time'; used: number; allowed: number };

export interface Budget {
  maxCostUsd: number | null;
  maxCostPerTrialUsd: number | null;
  /** Seconds of one session. */
  maxWallTime: number | null;
}

/**
 * Pure: whether a budget is spent. `totalCostUsd` counts every trial of the run (all sessions),
 * `lastTrialCostUsd` the trial just finished, `elapsedSeconds` this session.
 */
export function checkBudget(budget: Budget, spent: { totalCostUsd: number; lastTrialCostUsd: number | null; elapsedSeconds: number }): StopReason | null {
  if (budget.maxCostPerTrialUsd !== null && spent.lastTrialCostUsd !== null && spent.lastTrialCostUsd > budget.maxCostPerTrialUsd) {
    return { kind: 'budget', limit: 'max_cost_per_trial_usd', used: spent.lastTrialCostUsd, allowed: budget.maxCostPerTrialUsd };
  }
  if (budget.maxCostUsd !== null && spent.totalCostUsd >= budget.maxCostUsd) {
    return { kind: 'budget', limit: 'max_cost_usd', used: spent.totalCostUsd, allowed: budget.maxCostUsd };
  }
  if (budget.maxWallTime !== null && spent.elapsedSeconds >= budget.maxWallTime) {
    return { kind: 'budget', limit: 'max_wall_time', used: spent.elapsedSeconds, allowed: budget.maxWallTime };
  }
  return null;
}

export interface SessionCounters {
  /** Trials run by this invocation (the baseline not counted). */
  trials: number;
  /** Consecutive discards and crashes, reset by a keep. */
  consecutiveFailures: number;
  /** Consecutive trials with nothing to measure (skip, violation, agent error), reset by any measured trial. */
  consecutiveVoid: number;
}

export const initialCounters: SessionCounters = { trials: 0, consecutiveFailures: 0, consecutiveVoid: 0 };

/** Pure: the counters after one more trial of this session. */
export function countTrial(counters: SessionCounters, outcome: Outcome): SessionCounters {
  const trials = counters.trials + 1;
  switch (outcome) {
    case 'keep':
      return { trials, consecutiveFailures: 0, consecutiveVoid: 0 };
    case 'discard':
    case 'crash':
      return { trials, consecutiveFailures: counters.consecutiveFailures + 1, consecutiveVoid: 0 };
    case 'skip':
    case 'violation':
    case 'agent-error':
      return { trials, consecutiveFailures: counters.consecutiveFailures, consecutiveVoid: counters.consecutiveVoid + 1 };
    default:
      return { ...counters, trials };
  }
}

/**
 * Pure: whether the run stops after the trials counted so far. `max_retries` bounds both kinds of
 * streak, as in the reference: failures (discard, crash) and void trials (no edit, forbidden edit,
 * agent error); `max_iterations` bounds the trials of this session.
 */
export function checkStop(counters: SessionCounters, limits: { maxRetries: number; maxIterations: number | null }): StopReason | null {
  if (limits.maxIterations !== null && counters.trials >= limits.maxIterations) return { kind: 'max-iterations', trials: counters.trials };
  if (counters.consecutiveFailures >= limits.maxRetries && counters.trials > 0 && counters.consecutiveFailures > 0) {
    return { kind: 'max-retries', count: counters.consecutiveFailures, what: 'failures' };
  }
  if (counters.consecutiveVoid >= limits.maxRetries && counters.trials > 0 && counters.consecutiveVoid > 0) {
    return { kind: 'max-retries', count: counters.consecutiveVoid, what: 'void trials' };
  }
  return null;
}

export function describeStop(reason: StopReason): string {
  switch (reason.kind) {
    case 'max-iterations':
      return `reached the limit of ${reason.trials} trial${reason.trials === 1 ? '' : 's'} for this session`;
    case 'max-retries':
      return reason.what === 'failures'
        ? `${reason.count} trials in a row did not improve the metric (constraints.max_retries)`
        : `${reason.count} trials in a row produced nothing to measure: no edit, a forbidden edit or an agent error (constraints.max_retries)`;
    case 'interrupted':
      return 'interrupted';
    case 'baseline-failed':
      return `the unmodified code does not produce a valid metric: ${reason.report.split('\n')[0] ?? ''}`;
    case 'agent-fatal':
      return `the agent cannot work: ${reason.message}`;
    case 'strategy':
      return reason.message;
    case 'budget':
      if (reason.limit === 'max_wall_time') {
        return `ran for ${formatHours(reason.used)}, the session limit (constraints.max_wall_time ${formatHours(reason.allowed)})`;
      }
      return reason.limit === 'max_cost_usd'
        ? `the agent has cost $${reason.used.toFixed(2)} in total, reaching constraints.max_cost_usd ($${reason.allowed.toFixed(2)})`
        : `the last trial cost $${reason.used.toFixed(2)}, more than constraints.max_cost_per_trial_usd ($${reason.allowed.toFixed(2)})`;
  }
}

function formatHours(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  return `${(seconds / 3600).toFixed(1)}h`;
}
