import type { Direction } from '../config/constants.js';
import { isKept, type Outcome } from './outcome.js';

export type { Direction };

/**
 * Whether `candidate` is strictly better than `reference` in the objective's direction; anything
 * beats no reference at all. Strict: an equal metric is no evidence of improvement.
 */
export function isBetter(candidate: number, reference: number | null, direction: Direction): boolean {
  if (reference === null) return true;
  return direction === 'maximize' ? candidate > reference : candidate < reference;
}

/**
 * The best kept (`keep` or `baseline`) item with a metric, in the given order; the earlier one wins
 * a tie. Crashes and the rest never qualify, even when a stray metric is present. This is the
 * rule for "the best so far" everywhere: the run's incumbent, status, reports, the prompt.
 */
export function findBestKept<T extends { metric: number | null }>(items: Iterable<T>, direction: Direction, outcomeOf: (item: T) => Outcome | null): T | undefined {
  let best: T | undefined;
  let bestMetric: number | null = null;
  for (const item of items) {
    const outcome = outcomeOf(item);
    const metric = item.metric;
    if (outcome === null || !isKept(outcome) || metric === null) continue;
    if (best === undefined || isBetter(metric, bestMetric, direction)) {
      best = item;
      bestMetric = metric;
    }
  }
  return best;
}

/** How much better `to` is than `from`: positive means better whatever the direction. */
export interface Gain {
  absolute: number;
  /** Relative to |from|, in percent; null when `from` is 0 (no meaningful ratio). */
  percent: number | null;
}

export function measureGain(from: number, to: number, direction: Direction): Gain {
  const absolute = direction === 'maximize' ? to - from : from - to;
  return { absolute, percent: from === 0 ? null : (absolute / Math.abs(from)) * 100 };
}
