import { noiseBand, type NoiseFloor } from '../core/noise-floor.js';

/**
 * How noisy the metric is, so that the agent reads small differences in the history as noise
 * rather than evidence (and does not build on a lucky number). Null without a measured, nonzero
 * floor: the serial prompt of a deterministic metric is unchanged.
 */
export function noiseSection(noise: NoiseFloor | null | undefined, metricName: string, formatMetric: (value: number | null) => string): string | null {
  if (noise == null || !(noise.sd > 0)) return null;
  const cv = noise.cv === null ? '' : ` (${(noise.cv * 100).toFixed(1)}%)`;
  return [
    '## Noise',
    '',
    `The unchanged code's ${metricName} varies by about ${formatMetric(noise.sd)}${cv} from run to run (${noise.n} baseline runs): differences under ${formatMetric(noiseBand(noise))} are noise.`,
    'A change is kept only when repeated measurements confirm it is better: aim for gains clearly larger than that.',
  ].join('\n');
}
