import type { AgentUsage } from '../agents/types.js';
import { appendEvent } from '../store/ledger-events.js';
import { ProjectError } from '../errors.js';
import { runExperiment, type ExperimentResult } from '../runner/run-experiment.js';
import { sandboxedExecutor } from '../sandbox/run-sandbox.js';
import { trialArtifactPath } from '../store/trial-artifacts.js';
import { mkdirSync } from 'node:fs';
import { checkRecords } from './check-records.js';
import { applyPlan } from './apply-plan.js';
import { applyToProject } from './apply-to-project.js';
import { judgeInput, marginOf, nextConfirmRun, settleConfirmRun, type Confirming } from './confirm.js';
import { decide, type Measurement } from './decide.js';
import { aggregate } from '../core/statistics.js';
import { judgeCandidate, type Judgement } from '../core/confirm-rule.js';
import { resolveBaselineRepeats } from '../core/noise-floor.js';
import type { Outcome } from '../core/outcome.js';
import { inProject, type ExperimentSlot } from './experiment-slot.js';
import { guardRunBranch } from './guard-run-branch.js';
import type { TrialSummary } from './events.js';
import { finishTrial } from './finish-trial.js';
import { planFor, type Measured } from './plan.js';
import type { RunContext, RunState } from './run-context.js';
import { becomesIncumbent, measuresOnIncumbent } from './strategy.js';

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

/** One measurement of a commit: the values of its runs, and the run that ended it (the last, or the first that failed). */
export interface Measurements {
  experiment: ExperimentResult;
  /** The valid values, in order (evaluation.repeats or baseline_repeats of them when all went well). */
  samples: number[];
  runMs: number;
}

/** What settling a measurement gives: the trial's record, or a candidate to confirm against the incumbent. */
export type Settled = { kind: 'ended'; summary: TrialSummary } | { kind: 'confirm'; confirming: Confirming };

/** Runs the experiment once in `slot` as it is, with the trial's log and environment. */
export async function measure(
  ctx: RunContext,
  slot: ExperimentSlot,
  trial: number,
  sha: string,
  signal: AbortSignal,
  { role, onMeasuring }: { role?: 'incumbent'; onMeasuring?: () => void } = {},
): Promise<ExperimentResult> {
  mkdirSync(ctx.paths.trialDir(trial), { recursive: true });
  // The run command starts first, then the eval command: the second start is the measuring phase.
  let commandsStarted = 0;
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
      appendEvent(ctx.ledger, {
        type: 'run.start',
        n: trial,
        sha,
        slot: slot.index,
        handle,
        ...(handle.executor === 'local' ? { pgid: handle.pgid, processTag: handle.processTag } : {}),
        ...(role ? { role } : {}),
      });
      if (++commandsStarted === 2) {
        ctx.reporter.measureStart?.(trial);
        onMeasuring?.();
      }
    },
    onJobState: (change) => appendEvent(ctx.ledger, { type: 'job.state', n: trial, ...change }),
  });
}

/**
 * Runs the experiment in `slot` `runs(first)` times (how many is known once the first has run: the
 * baseline's repeats depend on its duration), stopping at the first run without a valid metric.
 */
export async function measureRuns(
  ctx: RunContext,
  slot: ExperimentSlot,
  trial: number,
  sha: string,
  signal: AbortSignal,
  runs: (first: ExperimentResult) => number,
  options: {
    /** The first run already happened (a killed run's batch job, finished since). */
    adopted?: ExperimentResult;
    /** Called as each run's eval command starts: crucible has nothing to do for the experiment until it ends. */
    onMeasuring?: () => void;
  } = {},
): Promise<Measurements> {
  const samples: number[] = [];
  let runMs = 0;
  let wanted = 1;
  let first = options.adopted;
  for (;;) {
    const experiment = first ?? (await measure(ctx, slot, trial, sha, signal, options));
    first = undefined;
    runMs += experiment.durationMs;
    if (!experiment.metric.ok) return { experiment, samples, runMs };
    samples.push(experiment.metric.value);
    if (samples.length === 1) wanted = runs(experiment);
    if (samples.length >= wanted || signal.aborted) return { experiment, samples, runMs };
  }
}

/** How many runs a first measurement takes: evaluation.repeats, or for the baseline baseline_repeats. */
export function runsOf(ctx: RunContext, t: Pick<CommittedTrial, 'baseline'>): (first: ExperimentResult) => number {
  const evaluation = ctx.config.evaluation;
  return t.baseline === true ? (first) => resolveBaselineRepeats(evaluation.baseline_repeats, first.durationMs) : () => evaluation.repeats;
}

/**
 * Steps 6 to 10 of a trial: run the experiment on the committed change (or, for the baseline, on
 * the code as it is), check what the experiment may have touched, decide, plan, apply, record.
 * Also how a recovered, never-evaluated commit gets its evaluation: the same path for all three.
 * The commit must already be in `slot` (the project folder: the run branch points at it). A
 * candidate to confirm is confirmed here, one run after the other, moving the slot between it and
 * the incumbent (the scheduler does the same, one run at a time, beside other trials).
 */
export async function evaluateCommit(ctx: RunContext, state: RunState, t: CommittedTrial, signal: AbortSignal, slot: ExperimentSlot = ctx.projectSlot, adopted?: ExperimentResult): Promise<TrialSummary> {
  ctx.reporter.experimentStart?.(t.trial, { commit: t.sha, slot: slot.index });
  let settled = await settleExperiment(ctx, state, t, slot, await measureRuns(ctx, slot, t.trial, t.sha, signal, runsOf(ctx, t), { adopted }));
  while (settled.kind === 'confirm') {
    const c = settled.confirming;
    const next = nextConfirmRun(c);
    if (inProject(slot)) await applyToProject(ctx, state, c.t, next.sha);
    else await slot.folder?.checkout(next.sha);
    const experiment = await measure(ctx, slot, t.trial, next.sha, signal, next.role === 'incumbent' ? { role: 'incumbent' } : {});
    settled = await settleConfirmRun(ctx, state, c, slot, next.role, experiment);
  }
  return settled.summary;
}

/**
 * Everything after the first measurement: checks, decision, plan, record. `slotChanges`: the slot's
 * changed protected files when the caller checked them already, right after the experiment.
 */
export async function settleExperiment(
  ctx: RunContext,
  state: RunState,
  t: CommittedTrial,
  slot: ExperimentSlot,
  m: Measurements,
  slotChanges?: readonly string[],
): Promise<Settled> {
  const { experiment, runMs } = m;
  const baseline = t.baseline === true;
  const checked = await checkAfterExperiment(ctx, state, t, slot, experiment, runMs, slotChanges);
  if (checked) return { kind: 'ended', summary: checked };
  const ok = experiment.metric.ok && m.samples.length > 0;
  const value = ok ? aggregate(m.samples, ctx.config.evaluation.aggregate) : null;
  const measurement: Measurement = value !== null ? { ok: true, value } : { ok: false, reason: experiment.metric.ok ? 'no valid metric' : experiment.metric.reason };
  appendEvent(ctx.ledger, {
    type: 'run.done',
    n: t.trial,
    exitCode: experiment.run.exitCode,
    signal: experiment.run.signal,
    timedOut: experiment.run.timedOut || Boolean(experiment.eval?.timedOut),
    metric: value,
    reason: measurement.ok ? null : measurement.reason,
    ms: runMs,
    ...(m.samples.length > 1 ? { samples: m.samples } : {}),
  });
  // The keep rule with trials in flight: a change is kept only if it was measured on top of the
  // incumbent it replaces. One measured on an outdated base is judged against that base: worse is a
  // discard as usual; better is promising but not proof, and is measured again on the incumbent.
  // Beyond greedy a change is measured on the node it was proposed from and judged against it.
  const chain = measuresOnIncumbent(ctx.strategy);
  const outdated = !baseline && chain && t.base !== state.incumbent;
  const bar = outdated || !chain ? t.baseMetric : state.best;
  let judgement: Judgement | null = null;
  let decided: { outcome: Outcome; reason: string };
  if (baseline) decided = decideBaseline(measurement);
  else if (!measurement.ok || !Number.isFinite(measurement.value)) decided = decide(bar, measurement, ctx.config.metric.direction);
  else {
    judgement = judgeCandidate(judgeInput(ctx, state, m.samples, [], bar, !outdated));
    if (judgement.verdict === 'measure-again') {
      return { kind: 'confirm', confirming: { t, firstRuns: m.samples.length, candidate: [...m.samples], incumbent: [], runMs, bar, judgement } };
    }
    decided = { outcome: judgement.verdict, reason: judgement.reason };
  }
  const decision: { outcome: Outcome; reason: string } =
    outdated && decided.outcome === 'keep'
      ? { outcome: 'stale', reason: `better than its base (${String(bar)}), but the incumbent moved while it ran: not kept on this measurement (measured again on the incumbent unless the run is stopping)` }
      : decided;
  const detail = decision.outcome === 'crash' ? experiment.crashReport || decision.reason : decision.outcome === 'stale' ? decision.reason : undefined;
  const extra = { ...(m.samples.length > 1 ? { samples: m.samples } : {}), ...marginOf(judgement) };
  return { kind: 'ended', summary: await recordDecision(ctx, state, t, slot, decision, measurement.ok ? measurement.value : null, bar, runMs, detail, experiment.crashReport, extra) };
}

/**
 * The checks after any run of an experiment: the records, the run branch, the protected files.
 * Returns the trial's record when they end it (tampering, or a run stopped by the user), else null.
 */
export async function checkAfterExperiment(
  ctx: RunContext,
  state: RunState,
  t: CommittedTrial,
  slot: ExperimentSlot,
  experiment: ExperimentResult,
  runMs: number,
  slotChanges?: readonly string[],
): Promise<TrialSummary | null> {
  const baseline = t.baseline === true;
  const during = baseline ? 'during the baseline experiment' : `during trial ${t.trial}'s experiment`;
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
    await applyPlan(ctx, state, planFor(measured(t, slot, state), 'stopped', null));
    return finishTrial(ctx, state, summaryOf(ctx, state, t, slot, 'stopped', null, runMs, 'stopped by the user before the experiment finished'));
  }
  if (experiment.infrastructure !== undefined) {
    // The experiment never got a fair run (a job that never left the queue, lost its node twice):
    // nothing is known about the change. Recorded as interrupted: no failed/ tag, no retry counted.
    appendEvent(ctx.ledger, { type: 'run.done', n: t.trial, exitCode: null, signal: null, timedOut: false, metric: null, reason: `infrastructure failure: ${experiment.infrastructure}`, ms: runMs });
    await applyPlan(ctx, state, planFor(measured(t, slot, state), 'interrupted', null));
    return finishTrial(ctx, state, summaryOf(ctx, state, t, slot, 'interrupted', null, runMs, `infrastructure failure: ${experiment.infrastructure}`));
  }
  return null;
}

/** Writes the decision, carries out its plan and records the trial. */
export async function recordDecision(
  ctx: RunContext,
  state: RunState,
  t: CommittedTrial,
  slot: ExperimentSlot,
  decision: { outcome: Outcome; reason: string },
  value: number | null,
  bar: number | null,
  runMs: number,
  detail: string | undefined,
  crashReport: string,
  extra: Partial<TrialSummary>,
): Promise<TrialSummary> {
  appendEvent(ctx.ledger, {
    type: 'decide',
    n: t.trial,
    outcome: decision.outcome,
    metric: value,
    best: t.baseline === true ? null : bar,
    reason: decision.reason,
    crashReport: crashReport || undefined,
  });
  // Flushed by applyPlan before the repository changes as it says, or by the next move that
  // carries it out (a way back left for later): not here, where nothing changes yet (decisions 85).
  const metric = decision.outcome !== 'crash' ? value : null;
  // Greedy: a keep is the new incumbent. Beyond it a keep beats its own node, and the run branch
  // moves only to a node better than the best so far.
  const newBest = becomesIncumbent(ctx.strategy, state.best, metric, ctx.config.metric.direction);
  await applyPlan(ctx, state, planFor(measured(t, slot, state), decision.outcome, metric, newBest), { returnLater: { files: t.files } });
  return finishTrial(ctx, state, { ...summaryOf(ctx, state, t, slot, decision.outcome, metric, runMs, detail), ...extra });
}

/** The baseline has nothing to beat: a valid metric makes it the first incumbent. */
function decideBaseline(measurement: Measurement): { outcome: 'baseline' | 'crash'; reason: string } {
  return measurement.ok ? { outcome: 'baseline', reason: 'baseline' } : { outcome: 'crash', reason: measurement.reason };
}

export function measured(t: CommittedTrial, slot: ExperimentSlot, state: Pick<RunState, 'incumbent'>): Measured {
  return { trial: t.trial, sha: t.sha, base: t.base, baseline: t.baseline === true, inProject: inProject(slot), files: t.files, home: state.incumbent };
}

/**
 * The experiment rewrote a hidden or read-only file: whatever it measured cannot be trusted. The
 * files are restored from git, the change is reverted like a failure, and the trial is a violation.
 * A protected file that git cannot restore stops the run: the user must look at it.
 */
export async function rejectTampering(
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
  // Flushed by applyPlan before the branch or a tag moves (decisions 85).
  await applyPlan(ctx, state, planFor(measured(t, slot, state), 'violation', null));
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

export function summaryOf(
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
