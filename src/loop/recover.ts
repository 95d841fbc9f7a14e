import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { ExecutionHandle } from '../runner/types.js';
import type { TrialNode, TrialSteps } from '../store/fold-run.js';
import type { Git } from '../workspace/git.js';
import { moveRunBranch, verifyRunBranch } from '../workspace/run-branch.js';
import { applyPlan } from './apply-plan.js';
import { adoptJob, adoptSlotJob, leftoverJobs, slotJobAdoptable } from './adopt-job.js';
import { evaluateCommit, type CommittedTrial } from './evaluate-commit.js';
import { appendEvent } from '../store/ledger-events.js';
import { planFor } from './plan.js';
import { becomesIncumbent, measuresOnIncumbent, nodeMetric } from './strategy.js';
import type { TrialSummary } from './events.js';
import { finishTrial } from './finish-trial.js';
import type { Outcome } from '../core/outcome.js';
import type { RunContext, RunState } from './run-context.js';

/** The trials the ledger started and never recorded, by trial number, with the steps each took. */
function unfinishedTrials(inFlight: readonly TrialNode[]): (TrialNode & { parent: string; startedAt: string; steps: TrialSteps })[] {
  return inFlight.flatMap((node) => (node.parent !== null && node.startedAt !== null ? [{ ...node, parent: node.parent, startedAt: node.startedAt, steps: node.steps ?? NO_STEPS }] : []));
}
const NO_STEPS: TrialSteps = { files: [], change: '', applied: null, runs: [], decision: null };

/**
 * Reconciles git, the project and the records with the ledger after a run was killed with trials
 * in flight (see design/trial-lifecycle.md), each from its own steps as the fold of the ledger
 * read them (`inFlight`, folded before the recovery). Returns what was done, one line per trial,
 * for the console.
 */
export async function recoverUnfinishedTrials(ctx: RunContext, state: RunState, inFlight: readonly TrialNode[], signal: AbortSignal): Promise<Recovered> {
  const recovered: Recovered = { lines: [], requeued: [] };
  // The dead run's experiments are ended through this: each by its own kind, whatever executor.type says now.
  const jobs = leftoverJobs(ctx);
  for (const node of unfinishedTrials(inFlight)) {
    const done = await recoverTrial({ ...ctx, executor: jobs.executor }, state, node, signal);
    if (typeof done === 'string') recovered.lines.push(done);
    else {
      recovered.lines.push(done.line);
      recovered.requeued.push(done.trial);
    }
  }
  const unreached = jobs.warning();
  if (unreached !== null) ctx.reporter.warning?.(unreached);
  return recovered;
}

export interface Recovered {
  /** What was done, one line per trial, for the console. */
  lines: string[];
  /**
   * Changes committed for a slot and never measured to the end (killed while queued or while
   * their experiment ran in a slot): queued again, under their own numbers, for the scheduler to
   * measure first. Slots are rebuilt; nothing of theirs reached the project folder.
   */
  requeued: CommittedTrial[];
}

async function recoverTrial(ctx: RunContext, state: RunState, node: ReturnType<typeof unfinishedTrials>[number], signal: AbortSignal): Promise<string | { line: string; trial: CommittedTrial }> {
  const { trial: n, parent, steps } = node;
  const remeasureOf = node.remeasureOf ?? undefined;
  const startedAt = Date.parse(node.startedAt) || ctx.now();
  const description = node.description !== '' ? node.description : 'interrupted trial';
  const agentMs = node.agentMs;
  const agentUsage = node.usage;

  // An experiment of the dead run may still be going: it must not run beside the next one. Only
  // the last command's group can still be alive (an earlier group's number may belong to someone
  // else by now); the tags of all the trial's commands are swept, since a tag is never reused.
  const starts = steps.runs;
  // Slot 0 (or none recorded, as older ledgers): the project folder, whose run branch the trial moved.
  const slot = starts.at(-1)?.slot ?? 0;

  const decision = steps.decision;
  const committed = steps.change !== '';
  const applied = steps.applied;
  // A batch job of a trial's first measurement outlives crucible: its result can be adopted
  // (below) instead of measuring the commit again, in the project folder or in the slot it ran in.
  // Every other job is cancelled, found by id and by name (one whose id never reached the ledger).
  const handles = starts.map((start, i) => cancellable(start.handle, i === starts.length - 1));
  const lastHandle = handles.at(-1) ?? null;
  const adoptable = lastHandle?.executor === 'slurm' && ctx.executor.adopt !== undefined && !decision && committed && (slot === 0 ? applied !== null : slotJobAdoptable(node)) ? lastHandle : null;
  for (const handle of handles) {
    if (handle && handle !== adoptable) await ctx.executor.cancel(handle);
  }
  if (adoptable === null && ctx.executor.orphanHandle) await ctx.executor.cancel(ctx.executor.orphanHandle(n));
  const files = applied?.files ?? steps.files;
  const sha = steps.change;
  const base = node.base ?? parent;
  const lineage = { parent, base, ...(remeasureOf !== undefined ? { remeasureOf } : {}) };
  // Greedy measures a change on the incumbent (its base). Beyond greedy the project folder left the
  // best node (the incumbent) for the change, and goes back there: `from` is where it was.
  const chain = measuresOnIncumbent(ctx.strategy);
  const from = chain ? base : state.incumbent;

  const record = (outcome: Outcome, metric: number | null, commit: string, recordedFiles: string[], detail?: string): TrialSummary =>
    finishTrial(ctx, state, {
      trial: n,
      outcome,
      metric,
      description,
      commit,
      files: recordedFiles,
      ...(detail ? { detail } : {}),
      best: state.best,
      agentMs,
      runMs: 0,
      totalMs: Math.max(0, ctx.now() - startedAt),
      costUsd: agentUsage?.costUsd ?? null,
      usage: agentUsage,
      ...lineage,
    });

  // Killed inside `git read-tree` or `git commit`: git's own lock is stale (this run holds
  // the run's lock, and the dead run was the only writer).
  if (applied || decision) await removeStaleIndexLock(ctx);
  const head = await ctx.git.headSha();
  state.head = head;
  // Adopted only where the commit it measured is still what the project folder holds.
  if (adoptable !== null && slot === 0 && head !== sha) await ctx.executor.cancel(adoptable);

  if (decision && node.baseline) {
    const { outcome, metric } = decision;
    await applyPlan(ctx, state, planFor({ trial: n, sha: parent, base: parent, baseline: true, inProject: true, files: [] }, outcome, metric));
    record(outcome, metric, parent, []);
    return `the baseline measurement had finished when the last run stopped; its record is complete now`;
  }
  if (decision && committed) {
    const outcome = decision.outcome;
    const inProjectFolder = slot === 0;
    // Where the dead run may have left the branch: at the commit under test or its base in the
    // project folder; at the base, or already at the commit of a keep, for a slot's trial.
    const allowed = outcome === 'keep' ? [sha, from] : inProjectFolder ? [sha, from] : [head];
    await requireHeadAt(ctx, head, allowed, n);
    const metric = decision.metric;
    // The same plan the trial would have applied, had it not been killed (applying it twice is harmless).
    // Beyond greedy a keep moves the branch only when it is the best node, and a revert goes back to the best node.
    const newBest = becomesIncumbent(ctx.strategy, state.best, metric, ctx.config.metric.direction);
    const m = { trial: n, sha, base, baseline: false, inProject: inProjectFolder, files, ...(chain ? {} : { home: state.incumbent }) };
    await applyPlan(ctx, state, planFor(m, outcome, outcome === 'crash' ? null : metric, newBest));
    const detail = decision.crashReport ?? (outcome === 'stale' ? decision.reason : undefined);
    record(outcome, outcome === 'crash' ? null : metric, sha, files, detail);
    return `trial ${n} had been decided (${outcome}) when the last run stopped; its record is complete now`;
  }
  if (applied && committed && slot === 0) {
    if (head === sha) {
      // The agent's work is not wasted: the commit nobody evaluated is evaluated now.
      if (chain) state.incumbent = base;
      const baseMetric = chain ? state.best : (nodeMetric(state.history, base) ?? state.best);
      const committed = { trial: n, sha, parent, base, baseMetric, description, files, agentMs, usage: agentUsage, startedAt, ...(remeasureOf !== undefined ? { remeasureOf } : {}) };
      if (adoptable !== null) {
        const adopted = await adoptJob(ctx, n, adoptable, signal);
        if (adopted !== null) {
          await evaluateCommit(ctx, state, committed, signal, ctx.projectSlot, adopted);
          return `trial ${n}'s experiment had been submitted as a Slurm job when the last run stopped; its finished result was adopted`;
        }
        await ctx.executor.cancel(adoptable);
      }
      await evaluateCommit(ctx, state, committed, signal);
      return `trial ${n} was interrupted before its experiment finished; its commit has now been evaluated`;
    }
    if (head === from || head === base) {
      // Killed while the change was being applied: some editable files may hold the new content.
      // They are crucible's (the move only starts on clean files): put them back as the branch has them.
      await ctx.git.restorePaths(head, files);
      // Beyond greedy a candidate is confirmed against its own node: the branch goes back to the best.
      if (head !== from) await moveRunBranch(ctx.git, ctx.branch, head, from, ctx.branchWatch);
      record('interrupted', null, sha, files, 'interrupted while its change was being applied');
      return `trial ${n} was interrupted while its change was applied; ${files.join(', ')} restored from the branch`;
    }
    // Neither: someone moved the branch since. Nothing is recorded or changed until the user decides.
    await requireHeadAt(ctx, head, [sha, from], n);
  }
  if (committed && applied === null && (slot > 0 || starts.length === 0)) {
    // Committed, and nothing of it reached the project folder: measured again from the start (a
    // slot's partial run says nothing; the slot is rebuilt), as the agent's work is not wasted.
    const baseMetric = (chain && base === state.incumbent ? state.best : nodeMetric(state.history, base)) ?? state.best;
    const trial: CommittedTrial = { trial: n, sha, parent, base, baseMetric, description, files, agentMs, usage: agentUsage, startedAt, ...(remeasureOf !== undefined ? { remeasureOf } : {}) };
    if (adoptable !== null) {
      // Unless its batch job, still in the slot the dead run left, finishes with a result to adopt.
      const adopted = await adoptSlotJob(ctx, state, trial, slot, adoptable, signal);
      if (adopted !== null) return `trial ${n}'s experiment had been submitted as a Slurm job from slot ${slot} when the last run stopped; its finished result was adopted (${adopted.outcome})`;
      await ctx.executor.cancel(adoptable);
    }
    appendEvent(ctx.ledger, { type: 'queued', n });
    const where = starts.length > 0 ? `while its experiment ran in slot ${slot}` : 'before its experiment started';
    return { line: `trial ${n} was interrupted ${where}; its commit is measured again first`, trial };
  }
  if (starts.length > 0 && slot > 0) {
    record('interrupted', null, sha, files, `interrupted while its experiment ran in slot ${slot}; the slot is rebuilt`);
    return `trial ${n} was interrupted while its experiment ran in slot ${slot}; recorded as interrupted`;
  }
  // Nothing reached the project: the agent's worktree is reset when it is opened again.
  record('interrupted', null, '', [], 'interrupted before its change reached the project');
  return `trial ${n} was interrupted before its change reached the project; recorded as interrupted`;
}

/** Throws (changing nothing) unless the run branch is at one of `allowed`, the places the ledger allows. */
async function requireHeadAt(ctx: RunContext, head: string, allowed: readonly string[], n: number): Promise<void> {
  const expected = allowed[0];
  if (expected === undefined || allowed.includes(head)) return;
  await verifyRunBranch(ctx.git, { branch: ctx.branch, sha: expected, staged: [] }, `since trial ${n} was interrupted`);
}

async function removeStaleIndexLock(ctx: RunContext): Promise<void> {
  const gitDir = (await ctx.git.run(['rev-parse', '--path-format=absolute', '--git-dir'])).stdout.trim();
  await rm(path.join(gitDir, 'index.lock'), { force: true });
}

/**
 * The editable files a run killed while applying a change (run-branch.ts) left holding a trial's new
 * content: crucible's, which the recovery restores. Any other uncommitted change to an editable
 * file is the user's, and must stop the run before the recovery measures or reverts anything.
 */
export async function filesBeingApplied(git: Git, inFlight: readonly TrialNode[], alsoMoved: readonly string[] = []): Promise<string[]> {
  const ours = new Set<string>();
  for (const { steps } of unfinishedTrials(inFlight)) {
    if (steps.applied === null) continue;
    // `alsoMoved`: a trial not kept that the move started from (decisions 71) changed these too.
    for (const file of await filesHolding(git, steps.applied.sha, [...steps.applied.files, ...alsoMoved])) ours.add(file);
  }
  return [...ours];
}

/** Those of `files` that hold exactly what `sha` has there (absent where it has none): crucible's. Anything else was written by someone else. */
export async function filesHolding(git: Git, sha: string, files: readonly string[]): Promise<string[]> {
  const same: string[] = [];
  for (const file of new Set(files)) {
    const diff = await git.run(['--literal-pathspecs', 'diff', '--quiet', sha, '--', file], { allowFail: true });
    if (diff.exitCode === 0) same.push(file);
  }
  return same;
}

/**
 * What may be cancelled of a command's handle: only the last command's process group can still be
 * alive (an earlier group's number may belong to someone else by now), so of the others only the
 * tag is swept (a tag is never reused).
 */
function cancellable(handle: ExecutionHandle | null, last: boolean): ExecutionHandle | null {
  if (handle === null || handle.executor !== 'local' || last) return handle;
  return { ...handle, pgid: null };
}
