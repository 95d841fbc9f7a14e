import type { Judgement, JudgeInput } from '../core/confirm-rule.js';
import { judgeCandidate } from '../core/confirm-rule.js';
import { noiseFloorOf, resolveConfirm } from '../core/noise-floor.js';
import { aggregate } from '../core/statistics.js';
import type { TrialSummary } from '../core/trial-record.js';
import type { ExperimentResult } from '../runner/run-experiment.js';
import { appendEvent } from '../store/ledger-events.js';
import { checkAfterExperiment, recordDecision, type CommittedTrial, type Settled } from './evaluate-commit.js';
import type { ExperimentSlot } from './experiment-slot.js';
import type { RunContext, RunState } from './run-context.js';
import { measuresOnIncumbent } from './strategy.js';

/**
 * A candidate whose first measurement beat the incumbent, being measured again together with the
 * incumbent it was measured against (its base), one run of each in turn, in the same slot, until
 * the keep rule (core/confirm-rule.ts) says keep or discard.
 */
export interface Confirming {
  t: CommittedTrial;
  /** How many of `candidate` are the first measurement's (evaluation.repeats). */
  firstRuns: number;
  candidate: number[];
  /** The incumbent's values, one per confirm pair. */
  incumbent: number[];
  runMs: number;
  /** The incumbent's recorded metric: what the first measurement beat. */
  bar: number | null;
  judgement: Judgement;
}

/** What runs next: the incumbent when the pairs are complete, else the candidate to complete the pair. */
export function nextConfirmRun(c: Confirming): { role: 'incumbent' | 'candidate'; sha: string } {
  const pairs = c.candidate.length - c.firstRuns;
  return c.incumbent.length > pairs ? { role: 'candidate', sha: c.t.sha } : { role: 'incumbent', sha: c.t.base };
}

/** The keep rule's input for `candidate` against `incumbent`, from the run's settings and noise floor. */
export function judgeInput(ctx: RunContext, state: RunState, candidate: readonly number[], incumbent: readonly number[], bar: number | null, mayConfirm: boolean): JudgeInput {
  const noise = noiseFloorOf(state.history.find((s) => s.outcome === 'baseline'));
  const evaluation = ctx.config.evaluation;
  return {
    candidate,
    incumbent,
    incumbentMetric: bar,
    direction: ctx.config.metric.direction,
    minImprovement: ctx.config.metric.min_improvement,
    confidence: evaluation.confidence,
    maxMeasurements: evaluation.max_measurements,
    noise,
    aggregate: evaluation.aggregate,
    confirm: mayConfirm && resolveConfirm(evaluation.confirm, noise),
  };
}

/** The margin and p-value a judgement gives a record. */
export function marginOf(judgement: Judgement | null): Partial<TrialSummary> {
  if (judgement === null) return {};
  return { ...(Number.isFinite(judgement.margin) ? { margin: judgement.margin } : {}), ...(judgement.p !== null ? { p: judgement.p } : {}) };
}

/**
 * After one confirm run: its checks, its value, and either the next run or the decision. A
 * candidate that fails when measured again is discarded (it does not run reliably); an incumbent
 * that fails leaves that pair out. The incumbent moving meanwhile (another slot's keep) makes the
 * result stale, measured again on the new incumbent, as any result measured on an outdated base.
 */
export async function settleConfirmRun(
  ctx: RunContext,
  state: RunState,
  c: Confirming,
  slot: ExperimentSlot,
  role: 'incumbent' | 'candidate',
  experiment: ExperimentResult,
  slotChanges?: readonly string[],
): Promise<Settled> {
  const runMs = c.runMs + experiment.durationMs;
  const checked = await checkAfterExperiment(ctx, state, c.t, slot, experiment, runMs, slotChanges);
  if (checked) return { kind: 'ended', summary: checked };
  const value = experiment.metric.ok ? experiment.metric.value : null;
  appendEvent(ctx.ledger, {
    type: 'run.done',
    n: c.t.trial,
    exitCode: experiment.run.exitCode,
    signal: experiment.run.signal,
    timedOut: experiment.run.timedOut || Boolean(experiment.eval?.timedOut),
    metric: value,
    reason: experiment.metric.ok ? null : experiment.metric.reason,
    ms: experiment.durationMs,
    ...(role === 'incumbent' ? { role } : {}),
  });
  const candidate = role === 'candidate' ? [...c.candidate, value ?? Number.NaN] : c.candidate;
  const incumbent = role === 'incumbent' ? [...c.incumbent, value ?? Number.NaN] : c.incumbent;
  const next: Confirming = { ...c, candidate, incumbent, runMs };
  if (role === 'incumbent') return { kind: 'confirm', confirming: next };

  const extra = (j: Judgement | null): Partial<TrialSummary> => ({ samples: candidate.filter(Number.isFinite), incumbentSamples: incumbent.filter(Number.isFinite), ...marginOf(j) });
  const valid = candidate.filter(Number.isFinite);
  const metric = aggregate(valid, ctx.config.evaluation.aggregate);
  if (value === null) {
    const reason = `failed when measured again (run ${candidate.length}): ${experiment.metric.ok ? '' : experiment.metric.reason}`;
    return { kind: 'ended', summary: await recordDecision(ctx, state, c.t, slot, { outcome: 'discard', reason }, metric, c.bar, runMs, reason, '', extra(c.judgement)) };
  }
  const judgement = judgeCandidate(judgeInput(ctx, state, candidate, incumbent, c.bar, true));
  if (judgement.verdict === 'measure-again') return { kind: 'confirm', confirming: { ...next, judgement } };
  const moved = measuresOnIncumbent(ctx.strategy) && state.incumbent !== c.t.base;
  const decision =
    judgement.verdict === 'keep' && moved
      ? { outcome: 'stale' as const, reason: `${judgement.reason}, but the incumbent moved while it was confirmed: not kept on these measurements (measured again on the incumbent unless the run is stopping)` }
      : { outcome: judgement.verdict, reason: judgement.reason };
  const detail = decision.outcome === 'stale' ? decision.reason : undefined;
  return { kind: 'ended', summary: await recordDecision(ctx, state, c.t, slot, decision, metric, c.bar, runMs, detail, '', extra(judgement)) };
}
