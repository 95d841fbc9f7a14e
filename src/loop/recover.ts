import { rm } from 'node:fs/promises';
import type { AgentUsage } from '../agents/types.js';
import path from 'node:path';
import type { ExecutionHandle } from '../runner/types.js';
import type { Ledger, LedgerEvent } from '../store/ledger.js';
import type { Git } from '../workspace/git.js';
import { moveRunBranch, verifyRunBranch } from '../workspace/run-branch.js';
import { applyPlan } from './apply-plan.js';
import { adoptJob } from './adopt-job.js';
import { evaluateCommit } from './evaluate-commit.js';
import { planFor } from './plan.js';
import { becomesIncumbent, measuresOnIncumbent, nodeMetric } from './strategy.js';
import type { TrialSummary } from './events.js';
import { finishTrial } from './finish-trial.js';
import type { Outcome } from '../core/outcome.js';
import type { RunContext, RunState } from './run-context.js';

/** The trials the ledger started and never recorded, oldest first. */
function unfinishedTrials(ledger: Ledger): number[] {
  const started = new Set<number>();
  for (const event of ledger.events()) {
    if (event.type === 'trial.start' && typeof event.n === 'number') started.add(event.n);
  }
  return [...started].filter((n) => !ledger.eventsOfTrial(n).some((e) => e.type === 'trial.end')).sort((a, b) => a - b);
}

/**
 * Reconciles git, the project and the records with the ledger after a run was killed with trials
 * in flight (see design/trial-lifecycle.md), each from its own events. Returns what was done, one
 * line per trial, for the console.
 */
export async function recoverUnfinishedTrials(ctx: RunContext, state: RunState, signal: AbortSignal): Promise<string[]> {
  const done: string[] = [];
  for (const n of unfinishedTrials(ctx.ledger)) done.push(await recoverTrial(ctx, state, n, signal));
  return done;
}

async function recoverTrial(ctx: RunContext, state: RunState, n: number, signal: AbortSignal): Promise<string> {
  const events = ctx.ledger.eventsOfTrial(n);
  const find = (type: string): LedgerEvent | undefined => events.findLast((e) => e.type === type);
  const last = find('trial.start')!;
  const parent = String(last['parent']);
  const remeasureOf = typeof last['remeasureOf'] === 'number' ? last['remeasureOf'] : undefined;
  const startedAt = Date.parse(last.ts) || ctx.now();
  const agentDone = find('agent.done');
  const description = typeof agentDone?.['description'] === 'string' && agentDone['description'] !== '' ? agentDone['description'] : 'interrupted trial';
  const agentMs = typeof agentDone?.['ms'] === 'number' ? agentDone['ms'] : 0;
  const agentUsage = isUsage(agentDone?.['usage']) ? agentDone['usage'] : null;

  // An experiment of the dead run may still be going: it must not run beside the next one. Only
  // the last command's group can still be alive (an earlier group's number may belong to someone
  // else by now); the tags of all the trial's commands are swept, since a tag is never reused.
  const starts = events.filter((e) => e.type === 'run.start');
  // Slot 0 (or none recorded, as older ledgers): the project folder, whose run branch the trial moved.
  const slot = typeof starts.at(-1)?.['slot'] === 'number' ? (starts.at(-1)!['slot'] as number) : 0;

  const decideEvent = find('decide');
  const commitEvent = find('commit');
  const rebaseEvent = find('rebase');
  const applyEvent = find('apply');
  // A batch job of the project folder's experiment outlives crucible: its result can be adopted
  // (below) instead of measuring the commit again. Every other job is cancelled, found by id and by
  // name (one whose id never reached the ledger).
  const lastHandle = starts.length > 0 ? handleOf(starts.at(-1)!, true) : null;
  const adoptable = lastHandle?.executor === 'slurm' && ctx.executor.adopt !== undefined && !decideEvent && applyEvent !== undefined && commitEvent !== undefined && slot === 0 ? lastHandle : null;
  for (const [i, event] of starts.entries()) {
    const handle = handleOf(event, i === starts.length - 1);
    if (handle && handle !== adoptable) await ctx.executor.cancel(handle);
  }
  if (adoptable === null && ctx.executor.orphanHandle) await ctx.executor.cancel(ctx.executor.orphanHandle(n));
  const files = stringList(applyEvent?.['files'] ?? agentDone?.['files']);
  const sha = typeof rebaseEvent?.['sha'] === 'string' ? rebaseEvent['sha'] : typeof commitEvent?.['sha'] === 'string' ? commitEvent['sha'] : '';
  const base = typeof rebaseEvent?.['sha'] === 'string' ? String(rebaseEvent['onto']) : typeof commitEvent?.['base'] === 'string' ? commitEvent['base'] : parent;
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
  if (applyEvent || decideEvent) await removeStaleIndexLock(ctx);
  const head = await ctx.git.headSha();
  state.head = head;
  // Adopted only where the commit it measured is still what the project folder holds.
  if (adoptable !== null && head !== sha) await ctx.executor.cancel(adoptable);

  if (decideEvent && last['baseline'] === true) {
    const outcome = decideEvent['outcome'] as Outcome;
    const metric = typeof decideEvent['metric'] === 'number' ? decideEvent['metric'] : null;
    await applyPlan(ctx, state, planFor({ trial: n, sha: parent, base: parent, baseline: true, inProject: true, files: [] }, outcome, metric));
    record(outcome, metric, parent, []);
    return `the baseline measurement had finished when the last run stopped; its record is complete now`;
  }
  if (decideEvent && commitEvent) {
    const outcome = decideEvent['outcome'] as Outcome;
    const inProjectFolder = slot === 0;
    // Where the dead run may have left the branch: at the commit under test or its base in the
    // project folder; at the base, or already at the commit of a keep, for a slot's trial.
    const allowed = outcome === 'keep' ? [sha, from] : inProjectFolder ? [sha, from] : [head];
    await requireHeadAt(ctx, head, allowed, n);
    const metric = typeof decideEvent['metric'] === 'number' ? decideEvent['metric'] : null;
    // The same plan the trial would have applied, had it not been killed (applying it twice is harmless).
    // Beyond greedy a keep moves the branch only when it is the best node, and a revert goes back to the best node.
    const newBest = becomesIncumbent(ctx.strategy, state.best, metric, ctx.config.metric.direction);
    const m = { trial: n, sha, base, baseline: false, inProject: inProjectFolder, files, ...(chain ? {} : { home: state.incumbent }) };
    await applyPlan(ctx, state, planFor(m, outcome, outcome === 'crash' ? null : metric, newBest));
    const detail = typeof decideEvent['crashReport'] === 'string' ? decideEvent['crashReport'] : typeof decideEvent['reason'] === 'string' && outcome === 'stale' ? decideEvent['reason'] : undefined;
    record(outcome, outcome === 'crash' ? null : metric, sha, files, detail);
    return `trial ${n} had been decided (${outcome}) when the last run stopped; its record is complete now`;
  }
  if (applyEvent && commitEvent && slot === 0) {
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
export async function filesBeingApplied(git: Git, ledger: Ledger): Promise<string[]> {
  const ours: string[] = [];
  for (const n of unfinishedTrials(ledger)) {
    const events = ledger.eventsOfTrial(n);
    const apply = events.findLast((e) => e.type === 'apply');
    const sha = apply?.['sha'];
    if (typeof sha !== 'string') continue;
    for (const file of stringList(apply?.['files'])) {
      // Exactly the trial's content: ours. Anything else was written by someone else since.
      const same = await git.run(['--literal-pathspecs', 'diff', '--quiet', sha, '--', file], { allowFail: true });
      if (same.exitCode === 0) ours.push(file);
    }
  }
  return ours;
}

function isUsage(value: unknown): value is AgentUsage {
  return typeof value === 'object' && value !== null && typeof (value as AgentUsage).inputTokens === 'number';
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * The handle a `run.start` event recorded (or, in a ledger written before handles, its pgid and
 * tag). Only the last command's group can still be alive: an earlier one's number may belong to
 * someone else by now, so only its tag is swept (a tag is never reused).
 */
function handleOf(event: LedgerEvent, last: boolean): ExecutionHandle | null {
  const recorded = event['handle'] as Partial<ExecutionHandle> | undefined;
  if (recorded?.executor === 'slurm') return typeof recorded.jobId === 'string' ? (recorded as ExecutionHandle) : null;
  if (recorded !== undefined && recorded.executor !== 'local') return null;
  const pgid = typeof recorded?.pgid === 'number' ? recorded.pgid : typeof event['pgid'] === 'number' ? event['pgid'] : null;
  const processTag = typeof recorded?.processTag === 'string' ? recorded.processTag : typeof event['processTag'] === 'string' ? event['processTag'] : null;
  if (processTag === null && pgid === null) return null;
  return { executor: 'local', pgid: last ? pgid : null, processTag: processTag ?? '' };
}
