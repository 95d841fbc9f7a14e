import type { ResultRow } from '../store/result-row.js';
import { shortSha } from '../workspace/git.js';
import type { TrialSummary } from './events.js';

/** The results.tsv row of a finished trial: written by finishTrial, rebuilt from the ledger's `trial.end`. */
export function resultRowOf(tag: string, summary: TrialSummary, timestamp: string): ResultRow {
  return {
    commit: summary.commit === '' ? '' : shortSha(summary.commit),
    metric: summary.metric,
    status: summary.outcome,
    description: summary.description,
    tag,
    trial: summary.trial,
    timestamp,
    agentSeconds: summary.agentMs / 1000,
    runSeconds: summary.runMs / 1000,
    totalSeconds: summary.totalMs / 1000,
    costUsd: summary.costUsd,
    inputTokens: summary.usage?.inputTokens ?? null,
    outputTokens: summary.usage?.outputTokens ?? null,
    cacheReadTokens: summary.usage?.cacheReadTokens ?? null,
    cacheWriteTokens: summary.usage?.cacheWriteTokens ?? null,
  };
}
