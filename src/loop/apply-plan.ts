import { moveRunBranch } from '../workspace/run-branch.js';
import type { Plan } from './plan.js';
import type { RunContext, RunState } from './run-context.js';

/**
 * Carries out a plan. A revert tags the failed commit (when configured), moves the run branch
 * back from where `state.head` says it is (in a recovery it may already be back) and resets the
 * agent's worktree, the three at once: they are independent git processes.
 */
export async function applyPlan(ctx: RunContext, state: RunState, plan: Plan): Promise<void> {
  switch (plan.kind) {
    case 'none':
      return;
    case 'advance':
      state.head = plan.to;
      state.best = plan.best;
      return;
    case 'revert':
      await Promise.all([
        plan.tag && ctx.config.git.tag_failed ? ctx.git.tagCommit(`failed/${ctx.tag}/${plan.trial}`, plan.sha) : undefined,
        moveRunBranch(ctx.git, ctx.branch, state.head, plan.to),
        ctx.worktree.reset(plan.to),
      ]);
      state.worktreeAt = plan.to;
      ctx.ledger.append('reset', { n: plan.trial, to: plan.to });
      state.head = plan.to;
      return;
    default:
      return checkExhaustive(plan);
  }
}

function checkExhaustive(value: never): never {
  throw new Error(`unhandled plan ${JSON.stringify(value)}`);
}
