import { judgeCandidate, type JudgeInput } from '../../src/core/confirm-rule.js';
import { NO_MIN_IMPROVEMENT } from '../../src/core/min-improvement.js';
import { noiseFloorOf, resolveConfirm } from '../../src/core/noise-floor.js';
import { aggregate, type Aggregate } from '../../src/core/statistics.js';

/** A seeded source of N(0, 1) draws: mulberry32 and Box–Muller (the noisy fixture uses the same). */
export function gaussian(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    const u = 1 - uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
  };
}

export interface SimulatedSettings {
  baselineRepeats: number;
  repeats: number;
  aggregate: Aggregate;
  confirm: boolean | null;
  confidence: number;
  maxMeasurements: number;
  minImprovement?: JudgeInput['minImprovement'];
  /** Default maximize. */
  direction?: JudgeInput['direction'];
}

export interface SimulatedTrial {
  kept: boolean;
  /** Runs of the experiment the decision took (candidate and incumbent together). */
  runs: number;
}

/**
 * One trial of the keep rule alone, as the loop drives it: the incumbent (true value 100, noise
 * sd `sd`) measured `baselineRepeats` times as the baseline, the candidate (true value `gain`
 * better) measured `repeats` times, then incumbent and candidate in pairs until a verdict.
 */
export function simulateTrial(settings: SimulatedSettings, gain: number, sd: number, draw: () => number): SimulatedTrial {
  const truth = 100;
  const direction = settings.direction ?? 'maximize';
  const better = direction === 'maximize' ? truth + gain : truth - gain;
  const measure = (value: number): number => value + sd * draw();
  const baseline = Array.from({ length: settings.baselineRepeats }, () => measure(truth));
  const metric = aggregate(baseline, settings.aggregate);
  const noise = noiseFloorOf({ samples: baseline, metric });
  const candidate = Array.from({ length: settings.repeats }, () => measure(better));
  const incumbent: number[] = [];
  let runs = candidate.length;
  for (;;) {
    const judgement = judgeCandidate({
      candidate,
      incumbent,
      incumbentMetric: metric,
      direction,
      minImprovement: settings.minImprovement ?? NO_MIN_IMPROVEMENT,
      confidence: settings.confidence,
      maxMeasurements: settings.maxMeasurements,
      noise,
      aggregate: settings.aggregate,
      confirm: resolveConfirm(settings.confirm, noise),
    });
    if (judgement.verdict !== 'measure-again') return { kept: judgement.verdict === 'keep', runs };
    incumbent.push(measure(truth));
    candidate.push(measure(better));
    runs += 2;
  }
}

/** The share of `trials` simulated trials kept, and the mean runs each took. */
export function keepRate(settings: SimulatedSettings, gain: number, trials: number, seed: number, sd = 1): { rate: number; meanRuns: number } {
  const draw = gaussian(seed);
  let kept = 0;
  let runs = 0;
  for (let i = 0; i < trials; i++) {
    const trial = simulateTrial(settings, gain, sd, draw);
    if (trial.kept) kept++;
    runs += trial.runs;
  }
  return { rate: kept / trials, meanRuns: runs / trials };
}
