import type { Direction } from '../config/constants.js';

/** `metric.min_improvement`: an absolute amount, or a percentage of the incumbent's metric. */
export type MinImprovement = { kind: 'absolute'; value: number } | { kind: 'percent'; value: number };

export const NO_MIN_IMPROVEMENT: MinImprovement = { kind: 'absolute', value: 0 };

/** The smallest gain that counts, in metric units, against an incumbent of `reference`. */
export function improvementThreshold(min: MinImprovement, reference: number): number {
  return min.kind === 'absolute' ? min.value : (min.value / 100) * Math.abs(reference);
}

/** How much better `candidate` is than `reference`: positive means better whatever the direction. */
export function signedGain(candidate: number, reference: number, direction: Direction): number {
  return direction === 'maximize' ? candidate - reference : reference - candidate;
}

export function describeMinImprovement(min: MinImprovement): string {
  return min.kind === 'absolute' ? String(min.value) : `${min.value}%`;
}
