import type { Config } from '../config/schema.js';
import { noiseBand } from '../core/noise-floor.js';
import { summarize, type Summary } from '../core/statistics.js';
import type { ExperimentResult } from '../runner/run-experiment.js';
import type { Check } from './validate-project.js';

/** Plain `validate` repeats the experiment only when one run is this quick: two more add under 4 s. */
const CHEAP_RUN_MS = 2_000;
const CHEAP_RUNS = 3;
/** A CV from here up makes single measurements unreliable (issue 9: 12.8 % on optimize-sorting). */
export const NOISY_CV = 0.05;

export interface StabilityOptions {
  /** `--stability --runs N`: that many runs in all; null: plain validate (a few runs only when cheap). */
  runs: number | null;
  first: ExperimentResult;
  repeat: () => Promise<ExperimentResult>;
  config: Config;
}

/** The metric's spread over repeated runs of the unchanged code, as validate checks. */
export async function checkStability(options: StabilityOptions, add: (check: Check) => void): Promise<void> {
  const { first, config } = options;
  const explicit = options.runs !== null;
  const runs = options.runs ?? (first.run.durationMs < CHEAP_RUN_MS ? CHEAP_RUNS : 1);
  if (runs < 2) {
    add({ name: 'Noise', status: 'pass', message: `not measured (one run takes ${seconds(first.run.durationMs)}); crucible validate --stability measures it` });
    return;
  }
  const values = [first.metric.ok ? first.metric.value : Number.NaN];
  const durations = [first.run.durationMs];
  for (let i = 2; i <= runs; i++) {
    const result = await options.repeat();
    durations.push(result.run.durationMs);
    if (!result.metric.ok) {
      add({ name: 'Noise', status: 'fail', message: `run ${i} of ${runs} gave no metric (${result.metric.reason}): the experiment does not run reliably` });
      return;
    }
    values.push(result.metric.value);
  }
  const summary = summarize(values)!;
  const noisy = summary.cv !== null && summary.cv >= NOISY_CV;
  add({
    name: explicit ? 'Stability' : 'Noise',
    status: noisy ? 'warn' : 'pass',
    message: `${describeSpread(summary)} over ${runs} runs${noisy ? ': single measurements cannot be trusted (CV ≥ 5%)' : ''}`,
  });
  if (explicit) {
    add({ name: 'Values', status: 'pass', message: values.map((value) => String(value)).join(', ') });
    add({ name: 'Recommended', status: 'pass', message: recommendEvaluation(summary, Math.max(...durations), config) });
  } else if (noisy) {
    add({ name: 'Noise', status: 'warn', message: 'crucible validate --stability --runs 10 measures it better and recommends a configuration' });
  }
}

export function describeSpread(summary: Summary): string {
  const sd = summary.sd ?? 0;
  const cv = summary.cv === null ? 'n/a' : `${(summary.cv * 100).toFixed(1)}%`;
  return `mean ${short(summary.mean)}, sd ${short(sd)}, CV ${cv}`;
}

/** A configuration for this much noise, as config lines; pure. */
export function recommendEvaluation(summary: Summary, slowestRunMs: number, config: Pick<Config, 'evaluation'>): string {
  const sd = summary.sd ?? 0;
  if (sd === 0) return 'the metric is deterministic: the defaults measure each change once (evaluation.confirm stays off)';
  const lines: string[] = [];
  const cv = summary.cv ?? 0;
  if (cv >= NOISY_CV) lines.push('evaluation.repeats: 3 (a median of three runs per first measurement)');
  if (slowestRunMs >= 60_000 && config.evaluation.baseline_repeats === null) lines.push('evaluation.baseline_repeats: 3 (runs over a minute get 1 by default, and no noise floor)');
  lines.push(`evaluation.confirm: true (the default): a change is kept only when re-measurements beside the incumbent confirm it; gains under ${short(noiseBand({ sd }))} show only after several runs`);
  if (cv >= NOISY_CV) lines.push('and make the experiment steadier where you can: fixed seeds, more data per run, pinned threads');
  return lines.join('; ');
}

function short(value: number): string {
  return String(Number(value.toPrecision(4)));
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
