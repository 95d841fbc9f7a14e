import type { Direction } from '../config/constants.js';
import { improvementThreshold, signedGain, type MinImprovement } from './min-improvement.js';
import { aggregate, finiteValues, studentTCdf, type Aggregate } from './statistics.js';

/**
 * The keep rule under noise (docs/decisions.md, "Confirm before keep"). A candidate's first
 * measurement is compared with the incumbent's recorded metric; one that beats it by more than
 * `min_improvement` is measured again together with the incumbent, interleaved, and kept only
 * when the paired gains are significantly above `min_improvement`. Pure: the loop runs the
 * measurements and calls this after each pair.
 */
export interface JudgeInput {
  /** Every value of the candidate in order: its first measurement (one value per repeat), then one per confirm pair. */
  candidate: readonly number[];
  /** The incumbent's values measured interleaved with the candidate while confirming, in order; [] before that. */
  incumbent: readonly number[];
  /** The incumbent's recorded metric, which the first measurement must beat; null: there is none to beat. */
  incumbentMetric: number | null;
  direction: Direction;
  minImprovement: MinImprovement;
  /** evaluation.confidence: 1 − the chance of keeping a change that is not really better. */
  confidence: number;
  /**
   * Most measurements of the candidate: its first measurement counts as one, whatever its
   * repeats, and each confirm run as one; the confirm pairs stop there.
   */
  maxMeasurements: number;
  /** The run's noise floor (RunView.noise): its spread is pooled with the pairs' own. */
  noise: { n: number; sd: number } | null;
  /** How the first measurement's repeats are combined (evaluation.aggregate); default median. */
  aggregate?: Aggregate;
  /** evaluation.confirm as resolved (resolveConfirm); false keeps on the first measurement. Default true. */
  confirm?: boolean;
}

export type Verdict = 'keep' | 'discard' | 'measure-again';

export interface Judgement {
  verdict: Verdict;
  /** The estimated gain over the incumbent in metric units, positive = better (NaN when nothing was measured). */
  margin: number;
  /** One-sided p-value of "no gain above min_improvement"; null before any pair. */
  p: number | null;
  /** Confirm pairs the verdict rests on. */
  pairs: number;
  /** One line for the ledger and the reports. */
  reason: string;
}

export function judgeCandidate(input: JudgeInput): Judgement {
  const paired = Math.max(0, Math.min(input.incumbent.length, input.candidate.length - 1));
  const first = input.candidate.slice(0, input.candidate.length - paired);
  if (paired === 0) return judgeFirst(input, first);
  return judgePairs(input, input.candidate.slice(first.length), input.incumbent.slice(0, paired));
}

/** The first measurement: a loser (or a tie) is discarded at once; a winner is confirmed when confirmation is on. */
function judgeFirst(input: JudgeInput, first: readonly number[]): Judgement {
  const value = aggregate(first, input.aggregate ?? 'median');
  if (Number.isNaN(value)) return { verdict: 'discard', margin: Number.NaN, p: null, pairs: 0, reason: 'no valid measurement' };
  if (input.incumbentMetric === null) return { verdict: 'keep', margin: Number.NaN, p: null, pairs: 0, reason: 'nothing measured to beat yet' };
  const margin = signedGain(value, input.incumbentMetric, input.direction);
  const threshold = improvementThreshold(input.minImprovement, input.incumbentMetric);
  if (!(margin > threshold)) {
    const reason = margin > 0 ? `better by ${fmt(margin)}, not more than min_improvement ${fmt(threshold)}` : margin === 0 ? 'equal to the incumbent' : 'worse than the incumbent';
    return { verdict: 'discard', margin, p: null, pairs: 0, reason };
  }
  if (input.confirm === false || input.maxMeasurements <= 1) {
    return { verdict: 'keep', margin, p: null, pairs: 0, reason: `better by ${fmt(margin)} on one measurement (not confirmed)` };
  }
  return { verdict: 'measure-again', margin, p: null, pairs: 0, reason: `better by ${fmt(margin)} on its first measurement: confirming against the incumbent` };
}

/**
 * The confirm pairs: a one-sided paired t-test of "mean gain ≤ threshold", the pairs' variance
 * pooled with the noise floor's (2·sd² per difference). The first measurement is left out: it
 * was selected for beating the incumbent, so it is biased upwards. Each look spends
 * (1 − confidence) / looks (Bonferroni), so repeated looks keep the error at 1 − confidence.
 */
function judgePairs(input: JudgeInput, candidate: readonly number[], incumbent: readonly number[]): Judgement {
  const gains: number[] = [];
  for (let i = 0; i < candidate.length; i++) {
    const gain = signedGain(candidate[i]!, incumbent[i]!, input.direction);
    if (Number.isFinite(gain)) gains.push(gain);
  }
  // The first measurement's repeats do not spend the budget: they are left out of the test, so
  // counting them would only take pairs away from a candidate measured more carefully at first.
  const looks = Math.max(1, input.maxMeasurements - 1);
  const atCap = candidate.length >= looks;
  const k = gains.length;
  if (k === 0) {
    return atCap
      ? { verdict: 'discard', margin: Number.NaN, p: null, pairs: 0, reason: 'no valid confirm pair' }
      : { verdict: 'measure-again', margin: Number.NaN, p: null, pairs: 0, reason: 'no valid confirm pair yet' };
  }
  const reference = input.incumbentMetric ?? mean(finiteValues(incumbent));
  const threshold = improvementThreshold(input.minImprovement, Number.isFinite(reference) ? reference : 0);
  const margin = mean(gains);
  const p = pairedPValue(gains, threshold, input.noise);
  const alpha = (1 - input.confidence) / looks;
  const over = `${k} pair${k === 1 ? '' : 's'}`;
  if (p !== null && p <= alpha) return { verdict: 'keep', margin, p, pairs: k, reason: `better by ${fmt(margin)} over ${over} (p = ${fmtP(p)})` };
  if (k >= 2 && !(margin > threshold)) {
    return { verdict: 'discard', margin, p, pairs: k, reason: `no better than the incumbent over ${over} (gain ${fmt(margin)})` };
  }
  if (atCap) return { verdict: 'discard', margin, p, pairs: k, reason: `not significant after ${over} (gain ${fmt(margin)}, p = ${p === null ? 'n/a' : fmtP(p)})` };
  return { verdict: 'measure-again', margin, p, pairs: k, reason: `gain ${fmt(margin)} over ${over}, not yet significant` };
}

/** P(mean gain this high | true gain = threshold); null when no variance can be estimated yet. */
function pairedPValue(gains: readonly number[], threshold: number, noise: { n: number; sd: number } | null): number | null {
  const k = gains.length;
  const m = mean(gains);
  const own = k >= 2 ? gains.reduce((sum, g) => sum + (g - m) ** 2, 0) : 0;
  const priorDf = noise !== null && noise.n >= 2 && Number.isFinite(noise.sd) ? noise.n - 1 : 0;
  const df = k - 1 + priorDf;
  if (df <= 0) return null;
  const prior = priorDf > 0 ? priorDf * 2 * noise!.sd ** 2 : 0;
  const variance = (own + prior) / df;
  const se = Math.sqrt(variance / k);
  if (se === 0) return m > threshold ? 0 : 1;
  return 1 - studentTCdf((m - threshold) / se, df);
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
}

function fmt(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(4))) : String(value);
}

function fmtP(p: number): string {
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}
