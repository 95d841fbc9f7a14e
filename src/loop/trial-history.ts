import type { LedgerEvent } from '../store/ledger.js';
import type { AgentUsage } from '../agents/types.js';
import type { TrialSummary } from './events.js';
import { outcomes, type Outcome } from './outcome.js';

/** The run's finished trials, from the `trial.end` events of its ledger, in trial order. */
export function historyFromLedger(events: readonly LedgerEvent[]): TrialSummary[] {
  const byTrial = new Map<number, TrialSummary>();
  for (const event of events) {
    if (event.type !== 'trial.end') continue;
    const summary = event['summary'] as Partial<TrialSummary> | undefined;
    if (!summary || typeof summary.trial !== 'number' || !outcomes.includes(summary.outcome as Outcome)) continue;
    byTrial.set(summary.trial, {
      trial: summary.trial,
      outcome: summary.outcome as Outcome,
      metric: typeof summary.metric === 'number' ? summary.metric : null,
      description: typeof summary.description === 'string' ? summary.description : '',
      commit: typeof summary.commit === 'string' ? summary.commit : '',
      files: Array.isArray(summary.files) ? summary.files.filter((f): f is string => typeof f === 'string') : [],
      ...(typeof summary.detail === 'string' ? { detail: summary.detail } : {}),
      ...(typeof summary.diff === 'string' ? { diff: summary.diff } : {}),
      best: typeof summary.best === 'number' ? summary.best : null,
      agentMs: Number(summary.agentMs) || 0,
      runMs: Number(summary.runMs) || 0,
      totalMs: Number(summary.totalMs) || 0,
      costUsd: typeof summary.costUsd === 'number' ? summary.costUsd : null,
      ...(isUsage(summary.usage) ? { usage: summary.usage } : {}),
    });
  }
  return [...byTrial.values()].sort((a, b) => a.trial - b.trial);
}

/** The number of the next trial: one more than any trial the ledger has started. */
export function nextTrialNumber(events: readonly LedgerEvent[]): number {
  let max = -1;
  for (const event of events) if (event.type === 'trial.start' && typeof event.n === 'number' && event.n > max) max = event.n;
  return max + 1;
}

function isUsage(value: unknown): value is AgentUsage {
  return typeof value === 'object' && value !== null && typeof (value as AgentUsage).inputTokens === 'number';
}
