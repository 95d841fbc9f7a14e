import { renderTrendChart } from './chart.js';
import { formatCost, formatDuration, formatMetric, formatPercent, formatSignedMetric } from './format.js';
import type { FailureStreak, Postmortem, TrendPoint } from './postmortem.js';
import { describeNoise } from './noise.js';
import { renderCounts } from './status.js';
import { measureWidth, truncateToWidth } from './text-width.js';
import { renderTrialBars } from './trial-bars.js';
import { isBranched, renderTrialTree } from './trial-tree.js';
import type { TrialSummary } from '../core/trial-record.js';

export interface PostmortemRenderOptions {
  metricName: string;
  /** Terminal columns. */
  width: number;
  /** The ledger's trials: their tree is shown when the run branched (restart, beam, tree). */
  trials?: readonly TrialSummary[];
}

const indent = '  ';
const chartHeight = 10;
// Above this many measured trials the per-trial list is longer than it is useful.
const maxBarListTrials = 40;
const maxStreaksShown = 5;

/** The text of `crucible postmortem`: Markdown-style sections, readable as is or pasted into notes. */
export function renderPostmortem(pm: Postmortem, opts: PostmortemRenderOptions): string {
  if (pm.trend.length === 0) return 'No trials recorded yet.';
  const inner = Math.max(20, opts.width - indent.length);
  const sections = [
    section('Summary', renderSummary(pm, opts.metricName)),
    section(
      `Trend: ${opts.metricName}, ${pm.summary.direction === 'maximize' ? 'higher' : 'lower'} is better`,
      renderTrendChart(pm.trend, { width: inner, height: chartHeight, direction: pm.summary.direction }).split('\n'),
    ),
  ];
  const measuredCount = pm.trend.filter((point) => point.metric !== null).length;
  if (measuredCount > 0 && measuredCount <= maxBarListTrials) {
    sections.push(section('Trials', renderTrialBars(pm.trend, { width: inner, bestTrial: pm.summary.best?.trial ?? null })));
  }
  // Only trials run in parallel are re-measured or go stale: a serial run's report has no such section.
  const parallel = renderRemeasuredAndStale(pm);
  if (parallel !== null) sections.push(section(parallel.title, parallel.lines.flatMap((line) => wrapWords(line, inner))));
  const noise = renderNoise(pm);
  if (noise !== null) sections.push(section('Noise', noise.flatMap((line) => wrapWords(line, inner))));
  if (opts.trials !== undefined && isBranched(opts.trials)) {
    sections.push(section('Tree of trials', renderTrialTree(opts.trials, { width: inner, bestTrial: pm.summary.best?.trial ?? null })));
  }
  sections.push(
    section('Turning points', renderTurningPoints(pm, inner)),
    section('Failure streaks', renderStreaks(pm)),
    section('Plateau', [renderPlateau(pm)]),
  );
  return sections.join('\n\n');
}

function section(title: string, lines: readonly string[]): string {
  return [`## ${title}`, ...lines.map((line) => (line === '' ? '' : indent + line))].join('\n');
}

function renderSummary(pm: Postmortem, metricName: string): string[] {
  const { summary } = pm;
  const lines: string[] = [];
  const best = summary.best;
  if (best === null) lines.push(`Best ${metricName}: none yet`);
  else if (best.trial === 0) lines.push(`Best ${metricName}: ${formatMetric(best.metric)} (the baseline; nothing beat it yet)`);
  else lines.push(`Best ${metricName}: ${formatMetric(best.metric)} (commit ${best.commit}, trial ${best.trial})`);

  const baseline = summary.baseline;
  const baselineText =
    baseline === null ? 'not measured' : `${formatMetric(baseline.metric)}${baseline.commit === '' ? '' : ` (commit ${baseline.commit})`}`;
  const gain = summary.improvement;
  const gainText =
    gain === null ? '' : `   Improvement: ${formatSignedMetric(gain.absolute)}${gain.percent === null ? '' : ` (${formatPercent(gain.percent)})`}`;
  lines.push(`Baseline: ${baselineText}${gainText}`);

  const keepRate = summary.keepRate === null ? '' : `   Keep rate: ${Math.round(summary.keepRate * 100)}%`;
  lines.push(`${renderCounts(summary)}${keepRate}`);

  const extras: string[] = [];
  const { agentSeconds, runSeconds } = summary.durations;
  if (agentSeconds > 0 || runSeconds > 0) {
    extras.push(`Time: agent ${formatDuration(agentSeconds)}, experiments ${formatDuration(runSeconds)}`);
  }
  if (summary.totalCostUsd !== null) extras.push(`Cost: ${formatCost(summary.totalCostUsd)}`);
  if (extras.length > 0) lines.push(extras.join('   '));
  return lines;
}

function renderTurningPoints(pm: Postmortem, width: number): string[] {
  if (pm.turningPoints.length === 0) return ['None: no trial has improved on the baseline yet.'];
  return pm.turningPoints.map((point) => {
    const step = point.percent === null ? formatSignedMetric(point.absolute) : formatPercent(point.percent);
    const head = `trial ${point.trial}  ${formatMetric(point.from)} → ${formatMetric(point.to)}  ${step}  `;
    return head + truncateToWidth(point.description, Math.max(10, width - head.length));
  });
}

function renderStreaks(pm: Postmortem): string[] {
  if (pm.failureStreaks.length === 0) return ['None: no two failed trials in a row.'];
  // A long run has dozens of short streaks; the longest tell the story (JSON has them all).
  const shown = [...pm.failureStreaks]
    .sort((a, b) => b.length - a.length || a.startTrial - b.startTrial)
    .slice(0, maxStreaksShown)
    .sort((a, b) => a.startTrial - b.startTrial);
  const lines = shown.map(
    (streak) => `trials ${streak.startTrial}–${streak.endTrial}  ${streak.length} in a row: ${describeOutcomes(streak, pm.trend)}`,
  );
  const hidden = pm.failureStreaks.length - shown.length;
  if (hidden > 0) lines.push(`(${hidden} more in --json)`);
  return lines;
}

/** "2 crash, 1 discard": what the trials of a streak ended as, most frequent first. */
function describeOutcomes(streak: FailureStreak, trend: readonly TrendPoint[]): string {
  const counts = new Map<string, number>();
  for (const point of trend) {
    if (point.trial < streak.startTrial || point.trial > streak.endTrial || point.status === 'baseline') continue;
    counts.set(point.status, (counts.get(point.status) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
}

const maxStaleListed = 12;

function renderRemeasuredAndStale(pm: Postmortem): { title: string; lines: string[] } | null {
  if (pm.remeasured.length === 0 && pm.stale.length === 0) return null;
  const lines = pm.remeasured.map(
    (r) => `trial ${r.trial}: re-measured as trial ${r.as} on the new incumbent (${r.status}${r.metric === null ? '' : ` ${formatMetric(r.metric)}`})`,
  );
  if (pm.stale.length > 0) {
    const listed = pm.stale.slice(0, maxStaleListed).join(', ');
    const more = pm.stale.length > maxStaleListed ? ` and ${pm.stale.length - maxStaleListed} more` : '';
    const which = pm.stale.length === 1 ? `trial ${listed}` : `trials ${listed}${more}`;
    lines.push(`stale: ${which} (the incumbent moved while the agent worked and the change no longer applied; not measured, not a failure)`);
  }
  const title = pm.remeasured.length === 0 ? 'Stale trials' : pm.stale.length === 0 ? 'Re-measured' : 'Re-measured and stale';
  return { title, lines };
}

// Continuation lines are indented two more columns, under the text they continue.
function wrapWords(line: string, width: number): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of line.split(' ')) {
    const next = current === '' ? word : `${current} ${word}`;
    if (current !== '' && measureWidth(next) > width) {
      lines.push(current);
      current = `  ${word}`;
    } else {
      current = next;
    }
  }
  lines.push(current);
  return lines;
}

// Only runs that measured repeats have the section: a report of an older run reads as it did.
function renderNoise(pm: Postmortem): string[] | null {
  const repeated = pm.keeps.some((keep) => keep.measurements > 1 || keep.incumbentMeasurements > 0);
  if (pm.noise === null && !repeated) return null;
  const lines = [`Noise floor: ${describeNoise(pm.noise)}`];
  for (const keep of pm.keeps) {
    const margin = keep.margin === null ? '' : `, margin ${formatSignedMetric(keep.margin)}`;
    const runs = `${keep.measurements} measurement${keep.measurements === 1 ? '' : 's'}`;
    const beside = keep.incumbentMeasurements > 0 ? ` against ${keep.incumbentMeasurements} of the incumbent` : '';
    const p = keep.p === null ? '' : `, p = ${keep.p < 0.001 ? '<0.001' : keep.p.toFixed(3)}`;
    lines.push(`kept trial ${keep.trial}: ${formatMetric(keep.metric)}${margin} on ${runs}${beside}${p}`);
  }
  return lines;
}

function renderPlateau(pm: Postmortem): string {
  const { plateau } = pm;
  if (plateau !== null) {
    const lastTrial = pm.trend[pm.trend.length - 1]?.trial ?? plateau.sinceTrial;
    return `No improvement in the last ${plateau.length} trials (trials ${plateau.sinceTrial}–${lastTrial}).`;
  }
  if (pm.summary.trials < 3) return 'Too few trials to tell.';
  return 'None: the best improved within the last 3 trials.';
}
