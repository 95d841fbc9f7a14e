/**
 * The search works in a normalised space: u ∈ [0, 1] per constant, log-scaled for `log` ones, so
 * one step size means "the same fraction of the range" for every constant.
 */
import type { TunedParam } from './types.js';

type Range = Pick<TunedParam, 'low' | 'high' | 'log'>;

/** Where `value` lies in its range, clamped to [0, 1] (a start outside the range is allowed). */
export function toUnit(range: Range, value: number): number {
  const u = range.log
    ? value <= 0
      ? 0
      : (Math.log(value) - Math.log(range.low)) / (Math.log(range.high) - Math.log(range.low))
    : (value - range.low) / (range.high - range.low);
  return clampUnit(u);
}

/** Where `values` lie in the unit cube, constant by constant; a constant they lack stands at today's value. */
export function placeOf(params: readonly TunedParam[], values: ReadonlyMap<string, number>): number[] {
  return params.map((p) => toUnit(p, values.get(p.name) ?? p.value));
}

/**
 * The constants and their ranges: what a place in the unit cube depends on besides the values.
 * A memo of places holds while this does (and for a point with a value for every constant).
 */
export function rangesKey(params: readonly TunedParam[]): string {
  return JSON.stringify(params.map((p) => [p.name, p.low, p.high, p.log]));
}

/** Whether `values` hold every constant: then their place does not move with today's values. */
export function placesAlone(params: readonly TunedParam[], values: ReadonlyMap<string, number>): boolean {
  return params.every((p) => values.has(p.name));
}

export function fromUnit(range: Range, u: number): number {
  const t = clampUnit(u);
  if (range.log) return Math.exp(Math.log(range.low) + t * (Math.log(range.high) - Math.log(range.low)));
  return range.low + t * (range.high - range.low);
}

export function clampUnit(u: number): number {
  return Math.min(1, Math.max(0, u));
}
