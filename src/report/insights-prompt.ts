/**
 * What `crucible postmortem --ai` asks a model: the run in numbers (counts, best, turning points,
 * failure streaks, plateau) and its trials. Pure, and bounded in size whatever the run's length:
 * the baseline, the turning points and the most recent trials, each description cut short.
 */
import { formatMetric, formatPercent, formatSignedMetric } from './format.js';
import type { Postmortem, TrendPoint } from './postmortem.js';

export interface InsightsPromptOptions {
  metricName: string;
  /** The experiment's name and description from the config, when it has them. */
  experiment?: { name: string; description: string };
  /** Most recent trials listed (default 60); the baseline and turning points are listed besides. */
  maxTrials?: number;
  /**
   * Applied to every trial description: the model must not see hidden files' text, and a
   * description written by an agent (or made from its diff) may quote some.
   */
  redact?: (text: string) => string;
}

export interface InsightsPrompt {
  system: string;
  user: string;
}

export const INSIGHTS_SYSTEM_PROMPT = `You are an experiment analyst. An automated loop changed code one idea per trial, measured one metric, and kept a change only when it beat the best so far. Read the run's record and give concise, actionable insights grounded in the numbers you are shown. Do not invent trials or numbers.`;

const DEFAULT_MAX_TRIALS = 60;
const MAX_DESCRIPTION_CHARS = 160;
const MAX_STREAKS = 10;

export function buildInsightsPrompt(pm: Postmortem, options: InsightsPromptOptions): InsightsPrompt {
  const { summary } = pm;
  const redact = options.redact ?? ((text: string) => text);
  const describe = (text: string): string => oneLine(redact(text), MAX_DESCRIPTION_CHARS);
  const better = summary.direction === 'maximize' ? 'higher is better' : 'lower is better';
  const lines: string[] = [];
  if (options.experiment) {
    lines.push(`Experiment: ${oneLine(options.experiment.name, 80)}${options.experiment.description.trim() ? ` (${oneLine(options.experiment.description, 300)})` : ''}`);
  }
  lines.push(`Run: ${summary.tag}`, `Metric: ${options.metricName} (${summary.direction}, ${better})`);
  lines.push(
    `Trials after the baseline: ${summary.trials} (kept ${summary.kept}, discarded ${summary.discarded}, crashed ${summary.crashed}, skipped ${summary.skipped}, violations ${summary.violations}, agent errors ${summary.agentErrors})`,
  );
  if (summary.baseline) lines.push(`Baseline (unmodified code): ${formatMetric(summary.baseline.metric)}`);
  if (summary.best) {
    lines.push(`Best: ${formatMetric(summary.best.metric)} at trial ${summary.best.trial}${summary.best.commit ? ` (${summary.best.commit})` : ''}: ${describe(summary.best.description)}`);
  } else {
    lines.push('Best: none measured');
  }
  if (summary.improvement) lines.push(`Improvement over the baseline: ${formatSignedMetric(summary.improvement.absolute)} (${formatPercent(summary.improvement.percent)})`);

  lines.push('', 'Turning points (kept trials that raised the best, largest relative gain first):');
  if (pm.turningPoints.length === 0) lines.push('  none');
  for (const point of pm.turningPoints) {
    lines.push(`  trial ${point.trial}: ${formatMetric(point.from)} -> ${formatMetric(point.to)} (${formatPercent(point.percent)}): ${describe(point.description)}`);
  }

  lines.push('', 'Failure streaks (consecutive trials without a keep):');
  if (pm.failureStreaks.length === 0) lines.push('  none');
  const streaks = pm.failureStreaks.slice(-MAX_STREAKS);
  if (streaks.length < pm.failureStreaks.length) lines.push(`  (${pm.failureStreaks.length - streaks.length} earlier streaks not shown)`);
  for (const streak of streaks) lines.push(`  trials ${streak.startTrial}-${streak.endTrial}: ${streak.length} in a row`);

  lines.push('', pm.plateau ? `Plateau: no new best in the last ${pm.plateau.length} trials (since trial ${pm.plateau.sinceTrial}).` : 'Plateau: none (the best improved recently).');

  lines.push('', ...renderTrials(pm, options.maxTrials ?? DEFAULT_MAX_TRIALS, describe));
  lines.push(
    '',
    'Give 3 to 5 numbered insights, each two or three sentences, about: the turning points (what made the difference), failure patterns (what kept failing, and why it probably did), plateaus, and concrete next directions to try. Plain text, no preamble.',
  );
  return { system: INSIGHTS_SYSTEM_PROMPT, user: lines.join('\n') };
}

/** The baseline, the turning points and the last `max` trials, in trial order, with a note of what was left out. */
function renderTrials(pm: Postmortem, max: number, describe: (text: string) => string): string[] {
  const recent = new Set(pm.trend.slice(-Math.max(0, max)).map((point) => point.trial));
  const turning = new Set(pm.turningPoints.map((point) => point.trial));
  const shown = pm.trend.filter((point) => recent.has(point.trial) || turning.has(point.trial) || point.status === 'baseline');
  const lines = [`Trials (trial: metric, outcome, description)${shown.length < pm.trend.length ? `, ${shown.length} of ${pm.trend.length} shown` : ''}:`];
  let previous: number | null = null;
  for (const point of shown) {
    const index = pm.trend.indexOf(point);
    if (previous !== null && index > previous + 1) lines.push(`  ... ${index - previous - 1} trials not shown ...`);
    lines.push(renderTrial(point, turning.has(point.trial), describe));
    previous = index;
  }
  return lines;
}

function renderTrial(point: TrendPoint, turning: boolean, describe: (text: string) => string): string {
  return `  ${point.trial}: ${formatMetric(point.metric)}, ${point.status}${turning ? ' (turning point)' : ''}, ${describe(point.description)}`;
}

function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
