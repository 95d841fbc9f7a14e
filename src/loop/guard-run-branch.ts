import { verifyRunBranch } from '../workspace/run-branch.js';
import type { RunContext, RunState } from './run-context.js';

/** Throws, changing nothing, unless the run branch is checked out where crucible left it (run-branch.ts). */
export function guardRunBranch(ctx: Pick<RunContext, 'git' | 'branch' | 'branchWatch'>, state: Pick<RunState, 'head' | 'staged'>, during: string): Promise<void> {
  return verifyRunBranch(ctx.git, { branch: ctx.branch, sha: state.head, staged: state.staged }, during, ctx.branchWatch);
}
