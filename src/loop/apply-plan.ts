import { GitError, ProjectError } from '../errors.js';
import { moveRunBranch, setTags, type TagUpdate } from '../workspace/run-branch.js';
import { appendEvent } from '../store/ledger-events.js';
import type { Plan } from './plan.js';
import type { RunContext, RunState } from './run-context.js';

/**
 * Carries out a plan: the one place that moves the run branch after a decision. The branch moves
 * from where `state.head` says it is (in a recovery it may already be where the plan wants it),
 * always by compare-and-swap. Agent worktrees are not touched: each is reset to its proposal's
 * parent when it is next used.
 */
export async function applyPlan(ctx: RunContext, state: RunState, plan: Plan, options: { returnLater?: { files: readonly string[] } } = {}): Promise<void> {
  switch (plan.kind) {
    case 'none':
      return;
    case 'advance':
      if (state.head !== plan.to) {
        // A trial measured in a slot: the project folder moves only now, to the new incumbent.
        appendEvent(ctx.ledger, { type: 'apply', n: plan.trial, sha: plan.to, files: [...plan.files] });
        ctx.ledger.sync();
        await moveRunBranch(ctx.git, ctx.branch, state.head, plan.to, ctx.branchWatch);
        state.head = plan.to;
      }
      state.incumbent = plan.to;
      state.best = plan.best;
      return;
    case 'revert': {
      const tags = tagsOf(ctx, plan);
      if (plan.move && state.head !== plan.to && options.returnLater && !state.pendingReturn) {
        // The project folder stays at the trial until it next moves, which then goes straight on
        // to the next change: one move of the files, the index and the branch instead of two. The
        // tags go with that move, and so does the flush of the decision (decisions 85): nothing
        // in the repository changes now.
        state.pendingReturn = { trial: plan.trial, to: plan.to, files: [...options.returnLater.files], tags };
        return;
      }
      const moving = plan.move && state.head !== plan.to;
      // The decision, on disk before the repository changes as it says (the write-ahead rule).
      if (moving || tags.length > 0) ctx.ledger.sync();
      // The tags ride in the branch move's ref transaction: one git process where there were two.
      if (moving) await moveBack(ctx, state.head, plan.to, plan.trial, tags);
      else await setTags(ctx.git, tags, ctx.branchWatch);
      if (plan.move) {
        appendEvent(ctx.ledger, { type: 'reset', n: plan.trial, to: plan.to });
        state.head = plan.to;
      }
      return;
    }
    default:
      return checkExhaustive(plan);
  }
}

/**
 * Takes the project folder back from a trial not kept, whose way back applyPlan left for later:
 * when crucible would otherwise wait (an agent's turn), and before a run ends.
 */
export async function returnProject(ctx: RunContext, state: RunState): Promise<void> {
  const pending = state.pendingReturn;
  if (!pending) return;
  ctx.ledger.sync();
  await moveBack(ctx, state.head, pending.to, pending.trial, pending.tags);
  appendEvent(ctx.ledger, { type: 'reset', n: pending.trial, to: pending.to });
  state.head = pending.to;
  state.pendingReturn = null;
}

/**
 * The tags a revert sets: `failed/<tag>/<n>` on a failure (unless git.tag_failed is off), and
 * `node/<tag>/<n>` on a node kept off the run branch, reachable only through it (git gc keeps it).
 */
export function tagsOf(ctx: Pick<RunContext, 'config' | 'tag'>, plan: Extract<Plan, { kind: 'revert' }>): TagUpdate[] {
  const tags: TagUpdate[] = [];
  if (plan.tag && ctx.config.git.tag_failed) tags.push({ name: `failed/${ctx.tag}/${plan.trial}`, sha: plan.sha });
  if (plan.node) tags.push({ name: `node/${ctx.tag}/${plan.trial}`, sha: plan.sha });
  return tags;
}

/**
 * The move back after a trial that is not kept. A file of the trial that someone changed in the
 * project folder since it was applied (the user, an experiment) stops it, changing nothing: the
 * change is theirs and stays. Said in one line with what to do, not as git's message.
 */
async function moveBack(ctx: RunContext, from: string, to: string, trial: number, tags: readonly TagUpdate[]): Promise<void> {
  try {
    await moveRunBranch(ctx.git, ctx.branch, from, to, ctx.branchWatch, tags);
  } catch (error) {
    throw blockedReturn(error, trial) ?? error;
  }
}

/**
 * Why a move that takes the project folder back from `trial` was refused, said in one line with
 * what to do: a file of the trial someone changed there; null for any other failure.
 * `files`: the trial's files, when the move also brought another change in.
 */
export function blockedReturn(error: unknown, trial: number, files?: readonly string[]): ProjectError | null {
  const file = error instanceof GitError && error.lockFile === null ? /Entry '(.+)' (?:not uptodate|would be overwritten)/.exec(error.stderr)?.[1] : undefined;
  if (file === undefined || (files !== undefined && !files.includes(file))) return null;
  return new ProjectError(`cannot move the run branch back after trial ${trial}: ${file} was changed in the project folder during the trial; the change is left as it is`, {
    hints: [`Keep what you need of it (git diff -- ${file} shows it), then undo it (git checkout -- ${file}) and run again: the run goes on from trial ${trial}'s decision.`],
  });
}

function checkExhaustive(value: never): never {
  throw new Error(`unhandled plan ${JSON.stringify(value)}`);
}
