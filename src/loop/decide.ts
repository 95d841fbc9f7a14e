import type { Direction } from '../config/schema.js';
import { isBetter } from '../core/objective.js';

export type Measurement = { ok: true; value: number } | { ok: false; reason: string };

export type Decision =
  | { outcome: 'keep'; reason: string; delta: number | null; deltaPercent: number | null }
  | { outcome: 'discard'; reason: string; delta: number; deltaPercent: number | null }
  | { outcome: 'crash'; reason: string; delta: null; deltaPercent: null };

/**
 * Keep a change only when its metric is strictly better than the best so far (the baseline until
 * something beats it). Ties are discarded: an equal metric is no evidence of improvement. A missing
 * or non-finite metric is a crash. Pure.
 */
export function decide(best: number | null, measurement: Measurement, direction: Direction): Decision {
  if (!measurement.ok) return { outcome: 'crash', reason: measurement.reason, delta: null, deltaPercent: null };
  const value = measurement.value;
  if (!Number.isFinite(value)) return { outcome: 'crash', reason: `metric is ${String(value)}`, delta: null, deltaPercent: null };
  if (best === null) return { outcome: 'keep', reason: 'first valid metric', delta: null, deltaPercent: null };
  const delta = value - best;
  const deltaPercent = best === 0 ? null : (delta / Math.abs(best)) * 100;
  if (isBetter(value, best, direction)) return { outcome: 'keep', reason: `better than the best so far (${String(best)})`, delta, deltaPercent };
  const reason = value === best ? `equal to the best so far (${String(best)})` : `worse than the best so far (${String(best)})`;
  return { outcome: 'discard', reason, delta, deltaPercent };
}
