import { evaluateCommit } from './evaluate-commit.js';
import type { TrialSummary } from './events.js';
import type { RunContext, RunState } from './run-context.js';

/**
 * Measures the code as it is, before any agent edit: the first bar to beat, through the same
 * evaluation as every trial. A fork measures the commit it starts from instead of trusting the
 * other run's number. When the unmodified code produces no metric the trial is recorded as a
 * crash and the run cannot go on.
 */
export async function measureBaseline(ctx: RunContext, state: RunState, trial: number, signal: AbortSignal, description: string): Promise<TrialSummary> {
  const startedAt = ctx.now();
  ctx.ledger.append('trial.start', { n: trial, parent: state.head, baseline: true });
  ctx.reporter.trialStart?.(trial);
  const head = state.head;
  return evaluateCommit(ctx, state, { trial, sha: head, parent: head, description, files: [], agentMs: 0, usage: null, startedAt, baseline: true }, signal);
}
