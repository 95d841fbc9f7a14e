import type { AgentUsage } from '../agents/types.js';
import { ProjectError } from '../errors.js';
import { runExperiment, type ExperimentResult } from '../runner/run-experiment.js';
import { sandboxedExecutor } from '../sandbox/run-sandbox.js';
import { trialArtifactPath } from '../store/trial-artifacts.js';
import { mkdirSync } from 'node:fs';
import { checkRecords } from './check-records.js';
import { applyPlan } from './apply-plan.js';
import { decide, type Measurement } from './decide.js';
import { guardRunBranch } from './guard-run-branch.js';
import type { TrialSummary } from './events.js';
import { finishTrial } from './finish-trial.js';
import { planFor, type Measured } from './plan.js';
import type { RunContext, RunState } from './run-context.js';

export interface CommittedTrial {
  trial: number;
  /** The commit under test, already on the run branch (HEAD). */
  sha: string;
  /** The commit it was made on; the branch returns there when the trial is not kept. */
  parent: string;
  description: string;
  files: string[];
  agentMs: number;
  usage: AgentUsage | null;
  startedAt: number;
  /** The change, compacted for later prompts. */
  diff?: string;
  /** The baseline: the code as it is (sha = parent), nothing to revert, nothing to beat. */
  baseline?: boolean;
}

/** Runs the experiment once on the project as it is, with the trial's log and environment. */
export async function measure(ctx: RunContext, trial: number, sha: string, signal: AbortSignal): Promise<ExperimentResult> {
  mkdirSync(ctx.paths.trialDir(trial), { recursive: true });
  return runExperiment({
    runCommand: ctx.config.commands.run,
    evalCommand: ctx.config.commands.eval,
    cwd: ctx.projectDir,
    env: { ...ctx.experimentEnv, CRUCIBLE_TRIAL: String(trial), CRUCIBLE_TAG: ctx.tag },
    timeoutMs: ctx.config.constraints.timeout_seconds * 1000,
    metricName: ctx.config.metric.name,
    logPath: trialArtifactPath(ctx.paths, trial, 'run.log'),
    killGraceMs: ctx.killGraceMs,
    signal,
    executor: sandboxedExecutor(ctx.executor, ctx.experimentSandbox),
    onStart: (handle) => {
      // The handle is recorded so that a run killed now can have its experiment (and what
      // escaped its process group) ended by the next `crucible run`, through the executor, before
      // that one evaluates the commit again. No fsync: only a killed crucible leaves its
      // experiment running, and the page cache survives that.
      ctx.ledger.append('run.start', { n: trial, sha, handle, ...(handle.executor === 'local' ? { pgid: handle.pgid, processTag: handle.processTag } : {}) });
    },
  });
}

/**
 * Steps 6 to 10 of a trial: run the experiment on the committed change (or, for the baseline, on
 * the code as it is), check what the experiment may have touched, decide, plan, apply, record.
 * Also how a recovered, never-evaluated commit gets its evaluation: the same path for all three.
 */
export async function evaluateCommit(ctx: RunContext, state: RunState, t: CommittedTrial, signal: AbortSignal): Promise<TrialSummary> {
  const baseline = t.baseline === true;
  const during = baseline ? 'during the baseline experiment' : `during trial ${t.trial}'s experiment`;
  ctx.reporter.experimentStart?.(t.trial, { commit: t.sha });
  const experiment = await measure(ctx, t.trial, t.sha, signal);
  const runMs = experiment.durationMs;
  checkRecords(ctx, during);
  // The experiment is arbitrary code: before its result decides anything, the repository must be
  // where crucible left it (no checkout, commit or staging by the experiment or by anyone else).
  await guardRunBranch(ctx, state, during);
  const changed = ctx.protectedFiles.changed();
  if (changed.length > 0 && baseline) {
    // The unmodified harness rewrites these itself: not tampering, so they cannot be watched.
    ctx.protectedFiles.ignore(changed);
    ctx.ledger.append('protected.volatile', { n: t.trial, files: changed });
    ctx.reporter.warning?.(`the unmodified experiment changes ${changed.join(', ')} (hidden or read-only); crucible cannot check those for tampering`);
  } else if (changed.length > 0) {
    return rejectTampering(ctx, state, t, changed, runMs);
  }
  if (experiment.run.canceled || experiment.eval?.canceled) {
    await applyPlan(ctx, state, planFor(measured(t), 'stopped', null));
    return finishTrial(ctx, state, summaryOf(ctx, state, t, 'stopped', null, runMs, 'stopped by the user before the experiment finished'));
  }
  const measurement = experiment.metric.ok ? { ok: true as const, value: experiment.metric.value } : { ok: false as const, reason: experiment.metric.reason };
  ctx.ledger.append('run.done', {
    n: t.trial,
    exitCode: experiment.run.exitCode,
    signal: experiment.run.signal,
    timedOut: experiment.run.timedOut || Boolean(experiment.eval?.timedOut),
    metric: measurement.ok ? measurement.value : null,
    reason: measurement.ok ? null : measurement.reason,
    ms: runMs,
  });
  const decision = baseline ? decideBaseline(measurement) : decide(state.best, measurement, ctx.config.metric.direction);
  ctx.ledger.append('decide', {
    n: t.trial,
    outcome: decision.outcome,
    metric: measurement.ok ? measurement.value : null,
    best: baseline ? null : state.best,
    reason: decision.reason,
    crashReport: experiment.crashReport || undefined,
  });
  ctx.ledger.sync();
  const metric = measurement.ok && decision.outcome !== 'crash' ? measurement.value : null;
  await applyPlan(ctx, state, planFor(measured(t), decision.outcome, metric));
  const detail = decision.outcome === 'crash' ? experiment.crashReport || decision.reason : undefined;
  return finishTrial(ctx, state, summaryOf(ctx, state, t, decision.outcome, metric, runMs, detail));
}

/** The baseline has nothing to beat: a valid metric makes it the first incumbent. */
function decideBaseline(measurement: Measurement): { outcome: 'baseline' | 'crash'; reason: string } {
  return measurement.ok ? { outcome: 'baseline', reason: 'baseline' } : { outcome: 'crash', reason: measurement.reason };
}

function measured(t: CommittedTrial): Measured {
  return { trial: t.trial, sha: t.sha, parent: t.parent, baseline: t.baseline === true };
}

/**
 * The experiment rewrote a hidden or read-only file: whatever it measured cannot be trusted. The
 * files are restored from git, the change is reverted like a failure, and the trial is a violation.
 * A protected file that git cannot restore stops the run: the user must look at it.
 */
async function rejectTampering(ctx: RunContext, state: RunState, t: CommittedTrial, files: string[], runMs: number): Promise<TrialSummary> {
  const unrestored = await ctx.protectedFiles.restore(files);
  ctx.ledger.append('tamper', { n: t.trial, files, unrestored, during: 'experiment' });
  ctx.ledger.append('decide', { n: t.trial, outcome: 'violation', metric: null, best: state.best, reason: 'the experiment changed protected files' });
  ctx.ledger.sync();
  await applyPlan(ctx, state, planFor(measured(t), 'violation', null));
  const detail = `the experiment changed ${files.join(', ')}, which the agent's code must not touch (hidden or read-only); ${
    unrestored.length === 0 ? 'restored from git' : `${unrestored.join(', ')} cannot be restored (not in git)`
  }`;
  const summary = finishTrial(ctx, state, { ...summaryOf(ctx, state, t, 'violation', null, runMs, detail) });
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
  };
}
