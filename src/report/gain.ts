import type { Direction } from '../config/schema.js';

/** True when `candidate` is strictly better than `reference` in the objective's direction. */
export function isBetter(candidate: number, reference: number, direction: Direction): boolean {
  return direction === 'maximize' ? candidate > reference : candidate < reference;
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
