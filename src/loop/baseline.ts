import { checkRecords } from './check-records.js';
import { measure } from './evaluate-commit.js';
import type { TrialSummary } from './events.js';
import { finishTrial } from './finish-trial.js';
import type { RunContext, RunState } from './run-context.js';

/**
 * Measures the code as it is, before any agent edit: the first bar to beat. A fork measures the
 * commit it starts from instead of trusting the other run's number. When the unmodified code
 * produces no metric the trial is recorded as a crash and the run cannot go on.
 */
export async function measureBaseline(ctx: RunContext, state: RunState, trial: number, signal: AbortSignal, description: string): Promise<TrialSummary> {
  const startedAt = ctx.now();
  ctx.ledger.append('trial.start', { n: trial, parent: state.head, baseline: true });
  ctx.reporter.trialStart?.(trial);
  ctx.reporter.experimentStart?.(trial, { commit: state.head });
  const experiment = await measure(ctx, trial, state.head, signal);
  checkRecords(ctx, 'during the baseline experiment');
  const volatile = ctx.protectedFiles.changed();
  if (volatile.length > 0) {
    // The user's own harness rewrites these: not tampering, so they cannot be watched.
    ctx.protectedFiles.ignore(volatile);
    ctx.ledger.append('protected.volatile', { n: trial, files: volatile });
    ctx.reporter.warning?.(`the unmodified experiment changes ${volatile.join(', ')} (hidden or read-only); crucible cannot check those for tampering`);
  }
  const base = {
    trial,
    description,
    commit: state.head,
    files: [],
    agentMs: 0,
    runMs: experiment.durationMs,
    costUsd: null,
  };
  if (experiment.run.canceled || experiment.eval?.canceled) {
    return finishTrial(ctx, state, { ...base, outcome: 'stopped', metric: null, best: state.best, totalMs: ctx.now() - startedAt });
  }
  const metric = experiment.metric;
  ctx.ledger.append('run.done', {
    n: trial,
    exitCode: experiment.run.exitCode,
    signal: experiment.run.signal,
    timedOut: experiment.run.timedOut,
    metric: metric.ok ? metric.value : null,
    reason: metric.ok ? null : metric.reason,
    ms: experiment.durationMs,
  });
  if (!metric.ok) {
    ctx.ledger.append('decide', { n: trial, outcome: 'crash', metric: null, best: null, reason: metric.reason, crashReport: experiment.crashReport });
    return finishTrial(ctx, state, {
      ...base,
      outcome: 'crash',
      metric: null,
      detail: experiment.crashReport || metric.reason,
      best: state.best,
      totalMs: ctx.now() - startedAt,
    });
  }
  state.best = metric.value;
  ctx.ledger.append('decide', { n: trial, outcome: 'baseline', metric: metric.value, best: null, reason: 'baseline' });
  return finishTrial(ctx, state, { ...base, outcome: 'baseline', metric: metric.value, best: metric.value, totalMs: ctx.now() - startedAt });
}
