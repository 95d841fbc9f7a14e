import { evaluateCommit } from './evaluate-commit.js';
import { appendEvent } from '../store/ledger-events.js';
import type { TrialSummary } from './events.js';
import type { ExperimentSlot } from './experiment-slot.js';
import type { RunContext, RunState } from './run-context.js';

/**
 * Measures the code as it is, before any agent edit: the first bar to beat, through the same
 * evaluation as every trial, in the slot trials will use. A fork measures the commit it starts
 * from instead of trusting the other run's number. When the unmodified code produces no metric
 * the trial is recorded as a crash and the run cannot go on.
 */
export async function measureBaseline(ctx: RunContext, state: RunState, trial: number, signal: AbortSignal, description: string, slot: ExperimentSlot = ctx.projectSlot): Promise<TrialSummary> {
  const startedAt = ctx.now();
  const head = state.head;
  appendEvent(ctx.ledger, { type: 'trial.start', n: trial, parent: head, baseline: true });
  ctx.reporter.trialStart?.(trial);
  await slot.folder?.checkout(head);
  return evaluateCommit(ctx, state, { trial, sha: head, parent: head, base: head, baseMetric: null, description, files: [], agentMs: 0, usage: null, startedAt, baseline: true }, signal, slot);
}
