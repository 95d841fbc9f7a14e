import { appendEvent } from '../store/ledger-events.js';
import { writeTrialArtifact } from '../store/trial-artifacts.js';
import type { TrialSummary } from './events.js';
import { resultRowOf } from '../store/result-row-of.js';
import type { RunContext, RunState } from './run-context.js';
import type { AgentUsage } from '../core/trial-record.js';

/**
 * Records a finished trial: its results row (idempotent by tag and trial, so a recovery may call
 * it again) and the ledger's `trial.end`, then adds it to the in-memory history.
 */
export function finishTrial(ctx: RunContext, state: RunState, summary: TrialSummary): TrialSummary {
  // One timestamp for the row and the ledger's record: reports read it back from either.
  const at = new Date(ctx.now()).toISOString();
  ctx.results.append(resultRowOf(ctx.tag, summary, at));
  if (summary.usage && usedModel(summary.usage)) {
    // Beside the prompt and the transcript: what this trial's agent turn cost. Not written for a
    // turn that used no model (the tuner's): a file of zeros per trial, and a new file costs.
    writeTrialArtifact(ctx.paths, summary.trial, 'usage.json', `${JSON.stringify(summary.usage, null, 2)}\n`);
  }
  // Not flushed here: no side effect waits on it. The next write-ahead flush (the next trial's
  // apply, or the ledger's close) takes it to disk; a power cut before then loses only this line,
  // and recovery finishes the trial again from its decide (design/trial-lifecycle.md).
  appendEvent(ctx.ledger, { type: 'trial.end', n: summary.trial, summary, at });
  ctx.checkpoint?.afterTrial();
  state.history.push(summary);
  return summary;
}

function usedModel(usage: AgentUsage): boolean {
  return usage.inputTokens > 0 || usage.outputTokens > 0 || usage.cacheReadTokens > 0 || usage.cacheWriteTokens > 0 || (usage.costUsd ?? 0) > 0;
}
