import type { Outcome } from '../core/outcome.js';
import type { RunView } from '../store/fold-run.js';
import { appendEvent } from '../store/ledger-events.js';
import { moveRunBranch } from '../workspace/run-branch.js';
import { tagsOf } from './apply-plan.js';
import { restingHead } from './expected-head.js';
import { guardRunBranch } from './guard-run-branch.js';
import { planFor } from './plan.js';
import type { RunContext, RunState } from './run-context.js';

/** A trial whose commit the run branch was left at, and where the branch belongs. */
export interface LeftTrial {
  trial: number;
  outcome: Outcome;
  /** The files its change touched: a move killed halfway may have rewritten them too. */
  files: string[];
  /** Where the branch rests by the ledger. */
  to: string;
}

/**
 * The recorded trial whose commit the run branch is at, where it does not rest there: a trial not
 * kept leaves the project folder at its commit until the next move (decisions 71), and a run
 * killed before that move leaves it there. Null when the branch is where it rests, or at a commit
 * no recorded trial of this run measured (the guard then says so).
 */
export function trialLeftInProject(view: RunView, head: string, chain: boolean): LeftTrial | null {
  const to = restingHead(view, chain);
  if (to === null || to === head) return null;
  const trial = view.history.findLast((t) => t.commit === head && t.commit !== '');
  return trial === undefined ? null : { trial: trial.trial, outcome: trial.outcome, files: [...trial.files], to };
}

/**
 * Takes the project folder back from `left`, as its decision said, before anything is recovered
 * or measured. `ours`: editable files a move killed halfway left holding a change's content
 * (recover.ts), put back as the branch has them first. The repository must otherwise be where
 * crucible left it: HEAD on the run branch, the same paths staged.
 */
export async function returnLeftTrial(ctx: RunContext, state: RunState, left: LeftTrial, ours: readonly string[]): Promise<string> {
  await guardRunBranch(ctx, state, 'since this run last stopped');
  if (ours.length > 0) await ctx.git.restorePaths(state.head, ours);
  // Its tags wait for this move (decisions 85): set in its ref transaction, as the run would have.
  const plan = planFor({ trial: left.trial, sha: state.head, base: left.to, baseline: false, inProject: true, files: left.files }, left.outcome, null, false);
  const tags = plan.kind === 'revert' ? tagsOf(ctx, plan) : [];
  await moveRunBranch(ctx.git, ctx.branch, state.head, left.to, ctx.branchWatch, tags);
  appendEvent(ctx.ledger, { type: 'reset', n: left.trial, to: left.to });
  state.head = left.to;
  return `the project folder still held trial ${left.trial}'s change (${left.outcome}); it is back at ${left.to.slice(0, 7)}`;
}
