import { formatMetric } from './format.js';
import type { TrendPoint } from './postmortem.js';
import { measureWidth, padEndToWidth, padStartToWidth, truncateToWidth } from './text-width.js';
import { largest, smallest } from '../core/statistics.js';

const barWidth = 20;

/**
 * One line per trial: `trial  bar  metric  status ★ description`, the bar spanning the run's
 * range of metrics. Trials without a metric get no bar (the reference tool drew them as 0).
 * Meant for short runs; the chart covers long ones.
 */
export function renderTrialBars(trend: readonly TrendPoint[], opts: { width: number; bestTrial: number | null }): string[] {
  const metrics = trend.map((point) => point.metric).filter((value): value is number => value !== null);
  const low = smallest(metrics);
  const high = largest(metrics);
  const trialWidth = largest(trend.map((point) => String(point.trial).length));
  const metricWidth = largest(trend.map((point) => measureWidth(formatMetric(point.metric))));
  const statusWidth = largest(trend.map((point) => point.status.length));
  const prefixWidth = trialWidth + barWidth + metricWidth + statusWidth + 2 + 2 + 2 + 1 + 2;

  return trend.map((point) => {
    const bar = point.metric === null ? ' '.repeat(barWidth) : drawBar(point.metric, low, high);
    const star = point.trial === opts.bestTrial ? '★' : ' ';
    const prefix = [
      padStartToWidth(String(point.trial), trialWidth),
      bar,
      padStartToWidth(formatMetric(point.metric), metricWidth),
      padEndToWidth(point.status, statusWidth),
    ].join('  ');
    const description = truncateToWidth(point.description, Math.max(10, opts.width - prefixWidth));
    return `${prefix} ${star} ${description}`;
  });
}

// At least one block, so the lowest metric still shows as measured rather than as empty.
function drawBar(value: number, low: number, high: number): string {
  const filled = high === low ? barWidth : 1 + Math.round(((value - low) / (high - low)) * (barWidth - 1));
  return '█'.repeat(filled) + '░'.repeat(barWidth - filled);
}
