import type { AgentUsage } from '../agents/types.js';
import { appendEvent } from '../store/ledger-events.js';
import { ProjectError } from '../errors.js';
import { runExperiment, type ExperimentResult } from '../runner/run-experiment.js';
import { sandboxedExecutor } from '../sandbox/run-sandbox.js';
import { trialArtifactPath } from '../store/trial-artifacts.js';
import { mkdirSync } from 'node:fs';
import { checkRecords } from './check-records.js';
import { applyPlan } from './apply-plan.js';
import { decide, type Measurement } from './decide.js';
import type { Outcome } from '../core/outcome.js';
import { inProject, type ExperimentSlot } from './experiment-slot.js';
import { guardRunBranch } from './guard-run-branch.js';
import type { TrialSummary } from './events.js';
import { finishTrial } from './finish-trial.js';
import { planFor, type Measured } from './plan.js';
import type { RunContext, RunState } from './run-context.js';

export interface CommittedTrial {
  trial: number;
  /** The commit under test. */
  sha: string;
  /** The commit the agent started from. */
  parent: string;
  /** The commit the change sits on: `parent`, or the incumbent it was rebased onto. */
  base: string;
  /** The metric of `base` when the trial was based on it: the bar, should the incumbent move meanwhile. */
  baseMetric: number | null;
  description: string;
  files: string[];
  agentMs: number;
  usage: AgentUsage | null;
  startedAt: number;
  /** The change, compacted for later prompts. */
  diff?: string;
  /** The baseline: the code as it is (sha = parent), nothing to revert, nothing to beat. */
  baseline?: boolean;
  /** This is a re-measurement of that trial's change on a newer incumbent. */
  remeasureOf?: number;
}

/** Runs the experiment once in `slot` as it is, with the trial's log and environment. */
export async function measure(ctx: RunContext, slot: ExperimentSlot, trial: number, sha: string, signal: AbortSignal): Promise<ExperimentResult> {
  mkdirSync(ctx.paths.trialDir(trial), { recursive: true });
  return runExperiment({
    runCommand: ctx.config.commands.run,
    evalCommand: ctx.config.commands.eval,
    cwd: slot.dir,
    env: { ...ctx.experimentEnv, ...slot.env, CRUCIBLE_TRIAL: String(trial), CRUCIBLE_TAG: ctx.tag },
    timeoutMs: ctx.config.constraints.timeout_seconds * 1000,
    metricName: ctx.config.metric.name,
    logPath: trialArtifactPath(ctx.paths, trial, 'run.log'),
    killGraceMs: ctx.killGraceMs,
    signal,
    executor: sandboxedExecutor(ctx.executor, slot.sandbox),
    onStart: (handle) => {
      // The handle is recorded so that a run killed now can have its experiment (and what
      // escaped its process group) ended by the next `crucible run`, through the executor, before
      // that one evaluates the commit again. No fsync: only a killed crucible leaves its
      // experiment running, and the page cache survives that.
      appendEvent(ctx.ledger, { type: 'run.start', n: trial, sha, slot: slot.index, handle, ...(handle.executor === 'local' ? { pgid: handle.pgid, processTag: handle.processTag } : {}) });
    },
    onJobState: (change) => appendEvent(ctx.ledger, { type: 'job.state', n: trial, ...change }),
  });
}

/**
 * Steps 6 to 10 of a trial: run the experiment on the committed change (or, for the baseline, on
 * the code as it is), check what the experiment may have touched, decide, plan, apply, record.
 * Also how a recovered, never-evaluated commit gets its evaluation: the same path for all three.
 * The commit must already be in `slot` (the project folder: the run branch points at it).
 */
export async function evaluateCommit(ctx: RunContext, state: RunState, t: CommittedTrial, signal: AbortSignal, slot: ExperimentSlot = ctx.projectSlot): Promise<TrialSummary> {
  ctx.reporter.experimentStart?.(t.trial, { commit: t.sha });
  const experiment = await measure(ctx, slot, t.trial, t.sha, signal);
  return settleExperiment(ctx, state, t, slot, experiment);
}

/**
 * Everything after the experiment: checks, decision, plan, record. `slotChanges`: the slot's
 * changed protected files when the caller checked them already, right after the experiment.
 */
export async function settleExperiment(
  ctx: RunContext,
  state: RunState,
  t: CommittedTrial,
  slot: ExperimentSlot,
  experiment: ExperimentResult,
  slotChanges?: readonly string[],
): Promise<TrialSummary> {
  const baseline = t.baseline === true;
  const during = baseline ? 'during the baseline experiment' : `during trial ${t.trial}'s experiment`;
  const runMs = experiment.durationMs;
  checkRecords(ctx, during);
  // The experiment is arbitrary code: before its result decides anything, the repository must be
  // where crucible left it (no checkout, commit or staging by the experiment or by anyone else).
  await guardRunBranch(ctx, state, during);
  const changed = ctx.protectedFiles.changed();
  const changedInSlot = slotChanges ? [...slotChanges] : slot.folder ? await slot.folder.changedProtected(ctx.policy, [...ctx.volatile]) : [];
  if ((changed.length > 0 || changedInSlot.length > 0) && baseline) {
    // The unmodified harness rewrites these itself: not tampering, so they cannot be watched.
    const files = [...new Set([...changed, ...changedInSlot])].sort();
    ctx.protectedFiles.ignore(files);
    for (const file of files) ctx.volatile.add(file);
    appendEvent(ctx.ledger, { type: 'protected.volatile', n: t.trial, files });
    ctx.reporter.warning?.(`the unmodified experiment changes ${files.join(', ')} (hidden or read-only); crucible cannot check those for tampering`);
  } else if (changed.length > 0 || changedInSlot.length > 0) {
    return rejectTampering(ctx, state, t, slot, changed, changedInSlot, runMs);
  }
  if (experiment.run.canceled || experiment.eval?.canceled) {
    await applyPlan(ctx, state, planFor(measured(t, slot), 'stopped', null));
    return finishTrial(ctx, state, summaryOf(ctx, state, t, slot, 'stopped', null, runMs, 'stopped by the user before the experiment finished'));
  }
  if (experiment.infrastructure !== undefined) {
    // The experiment never got a fair run (a job that never left the queue, lost its node twice):
    // nothing is known about the change. Recorded as interrupted: no failed/ tag, no retry counted.
    appendEvent(ctx.ledger, { type: 'run.done', n: t.trial, exitCode: null, signal: null, timedOut: false, metric: null, reason: `infrastructure failure: ${experiment.infrastructure}`, ms: runMs });
    await applyPlan(ctx, state, planFor(measured(t, slot), 'interrupted', null));
    return finishTrial(ctx, state, summaryOf(ctx, state, t, slot, 'interrupted', null, runMs, `infrastructure failure: ${experiment.infrastructure}`));
  }
  const measurement = experiment.metric.ok ? { ok: true as const, value: experiment.metric.value } : { ok: false as const, reason: experiment.metric.reason };
  appendEvent(ctx.ledger, { type: 'run.done', 
    n: t.trial,
    exitCode: experiment.run.exitCode,
    signal: experiment.run.signal,
    timedOut: experiment.run.timedOut || Boolean(experiment.eval?.timedOut),
    metric: measurement.ok ? measurement.value : null,
    reason: measurement.ok ? null : measurement.reason,
    ms: runMs,
  });
  // The keep rule with trials in flight: a change is kept only if it was measured on top of the
  // incumbent it replaces. One measured on an outdated base is judged against that base: worse is a
  // discard as usual; better is promising but not proof, and is measured again on the incumbent.
  const outdated = !baseline && t.base !== state.incumbent;
  const bar = outdated ? t.baseMetric : state.best;
  const decided = baseline ? decideBaseline(measurement) : decide(bar, measurement, ctx.config.metric.direction);
  const decision: { outcome: Outcome; reason: string } =
    outdated && decided.outcome === 'keep'
      ? { outcome: 'stale', reason: `better than its base (${String(bar)}), but the incumbent moved while it ran: not kept on this measurement (measured again on the incumbent unless the run is stopping)` }
      : decided;
  appendEvent(ctx.ledger, { type: 'decide', 
    n: t.trial,
    outcome: decision.outcome,
    metric: measurement.ok ? measurement.value : null,
    best: baseline ? null : bar,
    reason: decision.reason,
    crashReport: experiment.crashReport || undefined,
  });
  ctx.ledger.sync();
  const metric = measurement.ok && decision.outcome !== 'crash' ? measurement.value : null;
  await applyPlan(ctx, state, planFor(measured(t, slot), decision.outcome, metric));
  const detail = decision.outcome === 'crash' ? experiment.crashReport || decision.reason : decision.outcome === 'stale' ? decision.reason : undefined;
  return finishTrial(ctx, state, summaryOf(ctx, state, t, slot, decision.outcome, metric, runMs, detail));
}

/** The baseline has nothing to beat: a valid metric makes it the first incumbent. */
function decideBaseline(measurement: Measurement): { outcome: 'baseline' | 'crash'; reason: string } {
  return measurement.ok ? { outcome: 'baseline', reason: 'baseline' } : { outcome: 'crash', reason: measurement.reason };
}

function measured(t: CommittedTrial, slot: ExperimentSlot): Measured {
  return { trial: t.trial, sha: t.sha, base: t.base, baseline: t.baseline === true, inProject: inProject(slot), files: t.files };
}

/**
 * The experiment rewrote a hidden or read-only file: whatever it measured cannot be trusted. The
 * files are restored from git, the change is reverted like a failure, and the trial is a violation.
 * A protected file that git cannot restore stops the run: the user must look at it.
 */
async function rejectTampering(
  ctx: RunContext,
  state: RunState,
  t: CommittedTrial,
  slot: ExperimentSlot,
  inProjectFolder: string[],
  inSlot: string[],
  runMs: number,
): Promise<TrialSummary> {
  // A slot's own files are put back by its next checkout; the project's are restored now.
  const unrestored = inProjectFolder.length > 0 ? await ctx.protectedFiles.restore(inProjectFolder) : [];
  const files = [...new Set([...inProjectFolder, ...inSlot])].sort();
  appendEvent(ctx.ledger, { type: 'tamper', n: t.trial, files, unrestored, during: 'experiment', ...(inSlot.length > 0 ? { slot: slot.index } : {}) });
  appendEvent(ctx.ledger, { type: 'decide', n: t.trial, outcome: 'violation', metric: null, best: state.best, reason: 'the experiment changed protected files' });
  ctx.ledger.sync();
  await applyPlan(ctx, state, planFor(measured(t, slot), 'violation', null));
  const where = inProjectFolder.length > 0 ? 'restored from git' : 'in its slot, which is reset before the next experiment';
  const detail = `the experiment changed ${files.join(', ')}, which the agent's code must not touch (hidden or read-only); ${
    unrestored.length === 0 ? where : `${unrestored.join(', ')} cannot be restored (not in git)`
  }`;
  const summary = finishTrial(ctx, state, { ...summaryOf(ctx, state, t, slot, 'violation', null, runMs, detail) });
  if (unrestored.length > 0) throw unrestorableError(t.trial, unrestored);
  return summary;
}

/** A protected file changed that crucible cannot put back: the user must look before anything goes on. */
export function unrestorableError(trial: number, files: readonly string[]): ProjectError {
  return new ProjectError(`during trial ${trial}, ${files.join(', ')} changed, which is not in git and cannot be restored`, {
    hints: ['Check those files (and the trial\'s diff in .crucible/runs/<tag>/trials/) before running again.'],
  });
}

function summaryOf(
  ctx: RunContext,
  state: RunState,
  t: CommittedTrial,
  slot: ExperimentSlot,
  outcome: TrialSummary['outcome'],
  metric: number | null,
  runMs: number,
  detail: string | undefined,
): TrialSummary {
  return {
    trial: t.trial,
    outcome,
    metric,
    description: t.description,
    commit: t.sha,
    files: t.files,
    ...(detail ? { detail } : {}),
    best: state.best,
    agentMs: t.agentMs,
    runMs,
    totalMs: ctx.now() - t.startedAt,
    costUsd: t.usage?.costUsd ?? null,
    usage: t.usage,
    ...(t.diff ? { diff: t.diff } : {}),
    parent: t.parent,
    base: t.base,
    slot: slot.index,
    ...(t.remeasureOf !== undefined ? { remeasureOf: t.remeasureOf } : {}),
  };
}
