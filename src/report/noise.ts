import type { Direction } from '../config/constants.js';
import { signedGain } from '../core/min-improvement.js';
import { noiseBand, noiseFloorOf, type NoiseFloor } from '../core/noise-floor.js';
import { isBetter } from '../core/objective.js';
import type { ResultRow } from '../store/result-row.js';
import { formatMetric } from './format.js';
import { sortByTrial } from './summary.js';

/** The run's noise floor, from the baseline row's raw values (ledger runs only: results.tsv holds no samples). */
export function noiseOfRows(rows: readonly ResultRow[]): NoiseFloor | null {
  const baseline = rows.find((row) => row.status === 'baseline');
  return baseline === undefined ? null : noiseFloorOf({ samples: baseline.samples ?? [], metric: baseline.metric });
}

/** What a keep rested on: how much better it was measured to be, and on how many runs. */
export interface KeepEvidence {
  trial: number;
  metric: number;
  /** The keep rule's estimated gain (metric units, positive = better); else the gain over the best before it. */
  margin: number | null;
  /** Runs of the candidate behind its metric; 1 for a record without samples. */
  measurements: number;
  /** Runs of the incumbent measured beside it while confirming. */
  incumbentMeasurements: number;
  /** The keep rule's p-value, when it tested confirm pairs. */
  p: number | null;
}

export function keepEvidence(rows: readonly ResultRow[], direction: Direction): KeepEvidence[] {
  const evidence: KeepEvidence[] = [];
  let best: number | null = null;
  for (const row of sortByTrial(rows)) {
    if ((row.status !== 'keep' && row.status !== 'baseline') || row.metric === null) continue;
    if (row.status === 'keep') {
      evidence.push({
        trial: row.trial,
        metric: row.metric,
        margin: row.margin ?? (best === null ? null : signedGain(row.metric, best, direction)),
        measurements: row.measurements ?? row.samples?.length ?? 1,
        incumbentMeasurements: row.incumbentSamples?.length ?? 0,
        p: row.p ?? null,
      });
    }
    if (isBetter(row.metric, best, direction)) best = row.metric;
  }
  return evidence;
}

/** "sd 0.12 (CV 1.2%) over 3 baseline runs; differences under 0.333 are noise". */
export function describeNoise(noise: NoiseFloor | null): string {
  if (noise === null) return 'not measured (one baseline run)';
  if (noise.sd === 0) return `none: ${noise.n} baseline runs gave the same value`;
  const cv = noise.cv === null ? '' : ` (CV ${(noise.cv * 100).toFixed(1)}%)`;
  return `sd ${formatMetric(noise.sd)}${cv} over ${noise.n} baseline runs; differences under ${formatMetric(noiseBand(noise))} are noise`;
}

export interface NoiseJson {
  n: number;
  mean: number;
  sd: number;
  cv: number | null;
}

export function noiseJson(noise: NoiseFloor | null): NoiseJson | null {
  return noise === null ? null : { n: noise.n, mean: noise.mean, sd: noise.sd, cv: noise.cv };
}
