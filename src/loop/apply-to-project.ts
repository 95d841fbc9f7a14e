import { GitError, ProjectError } from '../errors.js';
import { appendEvent } from '../store/ledger-events.js';
import { moveRunBranch } from '../workspace/run-branch.js';
import { blockedReturn } from './apply-plan.js';
import type { CommittedTrial } from './evaluate-commit.js';
import type { TrialSummary } from './events.js';
import { finishTrial } from './finish-trial.js';
import { guardRunBranch } from './guard-run-branch.js';
import type { RunContext, RunState } from './run-context.js';

/**
 * Moves the run branch (and the project's editable files) to `sha` for one of trial `t`'s
 * experiments in the project folder: its commit, or the incumbent it is confirmed against. The
 * `apply` event goes to disk first, so that a run killed during the move is reconciled.
 */
export async function applyToProject(ctx: RunContext, state: RunState, t: CommittedTrial, sha: string): Promise<void> {
  await guardRunBranch(ctx, state, `before trial ${t.trial}'s experiment`);
  // A trial not kept may still be in the project folder: this move takes its way back with it.
  appendEvent(ctx.ledger, { type: 'apply', n: t.trial, sha, files: t.files, ...(state.pendingReturn ? { from: state.head } : {}) });
  ctx.ledger.sync();
  try {
    // The tags of a trial whose way back this move takes go in its ref transaction.
    await moveRunBranch(ctx.git, ctx.branch, state.head, sha, ctx.branchWatch, state.pendingReturn?.tags ?? []);
    state.head = sha;
    state.pendingReturn = null;
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    const reason = error.stderr.trim().split('\n')[0] ?? 'git read-tree failed';
    // Nothing of the change reached the project: recorded without its commit.
    finishTrial(ctx, state, { ...unmeasured(ctx, state, t, 'interrupted', `could not apply the change to the project: ${reason}`), commit: '', files: [] });
    // A file of the trial this move was taking the project back from: said as that trial's.
    const returning = state.pendingReturn;
    const blocked = returning ? blockedReturn(error, returning.trial, returning.files) : null;
    if (blocked !== null) throw blocked;
    if (error.lockFile !== null) throw error; // a stale index.lock has its own hint
    throw new ProjectError(`cannot apply trial ${t.trial} to the project: ${reason}`, {
      hints: ['An editable file was probably changed outside crucible during the run. Commit or undo that change, then run again.'],
    });
  }
}

/** The record of a committed trial that ends without a measurement. */
export function unmeasured(ctx: RunContext, state: RunState, t: CommittedTrial, outcome: 'stale' | 'stopped' | 'interrupted', detail: string): TrialSummary {
  return {
    trial: t.trial,
    outcome,
    metric: null,
    description: t.description,
    commit: t.sha,
    files: t.files,
    detail,
    best: state.best,
    agentMs: t.agentMs,
    runMs: 0,
    totalMs: ctx.now() - t.startedAt,
    costUsd: t.usage?.costUsd ?? null,
    usage: t.usage,
    parent: t.parent,
    base: t.base,
    ...(t.remeasureOf !== undefined ? { remeasureOf: t.remeasureOf } : {}),
  };
}
