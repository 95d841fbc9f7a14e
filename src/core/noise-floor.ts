import { summarize } from './statistics.js';
import type { TrialSummary } from './trial-record.js';

/**
 * How much the unchanged code's metric varies from run to run: the spread of the baseline's
 * repeated measurements. A difference well under `sd` is noise.
 */
export interface NoiseFloor {
  /** Baseline measurements it comes from (at least 2). */
  n: number;
  mean: number;
  /** Sample standard deviation of one measurement. */
  sd: number;
  /** sd / |mean| as a fraction; null when the mean is 0. */
  cv: number | null;
  /** The baseline's recorded metric (the configured aggregate of its samples). */
  aggregate: number | null;
}

/** The noise floor a baseline record measured; null when it holds fewer than two finite samples. */
export function noiseFloorOf(baseline: Pick<TrialSummary, 'samples' | 'metric'> | null | undefined): NoiseFloor | null {
  const summary = summarize(baseline?.samples ?? []);
  if (summary === null || summary.sd === null) return null;
  return { n: summary.n, mean: summary.mean, sd: summary.sd, cv: summary.cv, aggregate: baseline?.metric ?? null };
}

/**
 * The gap two single runs of the same code stay within 95 % of the time (1.96·√2·sd): a
 * difference under it is noise.
 */
export function noiseBand(noise: Pick<NoiseFloor, 'sd'>): number {
  return 1.96 * Math.SQRT2 * noise.sd;
}

// Under a minute, three baseline runs cost little next to a run of many trials; above it, one.
const CHEAP_BASELINE_MS = 60_000;

/** `evaluation.baseline_repeats`: as configured, else 3 when the baseline's first run took under a minute, else 1. */
export function resolveBaselineRepeats(configured: number | null, firstRunMs: number): number {
  if (configured !== null) return configured;
  return firstRunMs < CHEAP_BASELINE_MS ? 3 : 1;
}

/**
 * `evaluation.confirm`: as configured, else on unless the noise floor is measured and exactly 0
 * (a deterministic metric needs no second look). An unmeasured floor (one baseline run) counts as
 * noisy: nothing says a single run can be trusted.
 */
export function resolveConfirm(configured: boolean | null, noise: Pick<NoiseFloor, 'sd'> | null): boolean {
  if (configured !== null) return configured;
  return noise === null || noise.sd > 0;
}
