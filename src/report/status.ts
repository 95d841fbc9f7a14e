import type { Direction } from '../config/schema.js';
import type { NoiseFloor } from '../core/noise-floor.js';
import { formatCost, formatDuration, formatMetric, formatPercent, formatSignedMetric } from './format.js';
import { inFlightJson, renderInFlight, type InFlightJson, type InFlightTrial } from './in-flight.js';
import { describeNoise, noiseJson, type NoiseJson } from './noise.js';
import type { RunSummary } from './summary.js';

export interface StatusInput {
  /** The config's experiment name. */
  experiment: string;
  tag: string;
  branch: string;
  metricName: string;
  direction: Direction;
  summary: RunSummary;
  /** The `crucible run` holding this run's lock, if one is alive. */
  running?: { pid: number; since: string } | null;
  /** Trials started and not yet recorded, by trial number (see describeInFlight). */
  inFlight?: readonly InFlightTrial[];
  /** The baseline's spread (noiseOfRows); absent or null: no line (one baseline run, or an older record). */
  noise?: NoiseFloor | null;
}

/** A few lines for `crucible status`; the trials in flight only when there are some. */
export function renderStatus(input: StatusInput): string {
  const { summary, metricName } = input;
  const running = input.running == null ? '' : `   running (pid ${input.running.pid} since ${input.running.since})`;
  const lines = [
    `Experiment: ${input.experiment}   run: ${input.tag} (branch ${input.branch})${running}`,
    renderCounts(summary),
    `${renderBaseline(summary, metricName)}   ${renderBest(summary)}`,
  ];
  if (input.noise != null) lines.push(`Noise floor: ${describeNoise(input.noise)}`);
  const facts = renderFacts(summary);
  if (facts !== '') lines.push(facts);
  lines.push(...renderInFlight(input.inFlight ?? [], input.running != null));
  return lines.join('\n');
}

/** "Trials: 15  kept 8  discarded 5  crashed 2" plus the rarer outcomes when they happened. */
export function renderCounts(summary: RunSummary): string {
  const parts = [`Trials: ${summary.trials}`, `kept ${summary.kept}`, `discarded ${summary.discarded}`, `crashed ${summary.crashed}`];
  const rare: Array<[string, number]> = [
    ['skipped', summary.skipped],
    ['violations', summary.violations],
    ['agent errors', summary.agentErrors],
    ['stopped', summary.stopped],
    ['interrupted', summary.interrupted],
    ['stale', summary.stale],
  ];
  for (const [label, value] of rare) if (value > 0) parts.push(`${label} ${value}`);
  return parts.join('  ');
}

function renderBaseline(summary: RunSummary, metricName: string): string {
  if (summary.baseline === null) return `Baseline ${metricName}: not measured yet`;
  if (summary.baseline.metric === null) return `Baseline ${metricName}: no metric (the unmodified code failed)`;
  return `Baseline ${metricName}: ${formatMetric(summary.baseline.metric)}`;
}

function renderBest(summary: RunSummary): string {
  const { best, improvement } = summary;
  if (best === null) return 'Best: none yet';
  // Trial 0 is the baseline: nothing the agent did has beaten it yet.
  if (best.trial === 0) {
    return `Best: ${formatMetric(best.metric)} (the baseline; no improvement yet)`;
  }
  const where = `Best: ${formatMetric(best.metric)} (commit ${best.commit}, trial ${best.trial})`;
  return improvement === null ? where : `${where}  ${describeGain(improvement)}`;
}

/** "+44.9% better", or the absolute gain when the baseline is 0 and a ratio means nothing. */
export function describeGain(gain: { absolute: number; percent: number | null }): string {
  if (gain.absolute === 0) return 'no better than the baseline';
  const amount = gain.percent === null ? formatSignedMetric(gain.absolute) : formatPercent(gain.percent);
  return `${amount} better`;
}

function renderFacts(summary: RunSummary): string {
  const parts: string[] = [];
  if (summary.lastTrialAt !== null) parts.push(`Last trial: ${summary.lastTrialAt}`);
  const { agentSeconds, runSeconds } = summary.durations;
  if (agentSeconds > 0 || runSeconds > 0) {
    parts.push(`Time: agent ${formatDuration(agentSeconds)}, experiments ${formatDuration(runSeconds)}`);
  }
  const { input, output } = summary.tokens;
  const tokens = input + output > 0 ? ` (${input} tokens in, ${output} out)` : '';
  if (summary.totalCostUsd !== null) parts.push(`Cost: ${formatCost(summary.totalCostUsd)}${tokens}`);
  else if (tokens !== '') parts.push(`Tokens: ${input} in, ${output} out`);
  return parts.join('   ');
}

/** `crucible status --json`: the reference's fields (experiment … best), then ours. */
export interface StatusJson {
  experiment: string;
  tag: string;
  branch: string;
  metric: { name: string; direction: Direction };
  /** Trials, baseline excluded. */
  total: number;
  kept: number;
  discarded: number;
  crashed: number;
  skipped: number;
  violations: number;
  agent_errors: number;
  stopped: number;
  interrupted: number;
  stale: number;
  best: { metric: number; commit: string; description: string; trial: number } | null;
  baseline: { metric: number | null; commit: string } | null;
  improvement: { absolute: number; percent: number | null } | null;
  keep_rate: number | null;
  last_trial_at: string | null;
  /** cost_usd is null when no backend reported a cost. */
  usage: { input_tokens: number; output_tokens: number; cache_read_tokens: number; cache_write_tokens: number; cost_usd: number | null };
  durations: { agent_seconds: number; run_seconds: number; total_seconds: number };
  running: { pid: number; since: string } | null;
  /** Trials started and not yet recorded, by trial number; [] when none. */
  in_flight: InFlightJson[];
  /** The baseline's spread over its repeated runs; null when it ran once (or the record predates repeats). */
  noise: NoiseJson | null;
}

export function statusJson(input: StatusInput): StatusJson {
  const { summary } = input;
  return {
    experiment: input.experiment,
    tag: input.tag,
    branch: input.branch,
    metric: { name: input.metricName, direction: input.direction },
    total: summary.trials,
    kept: summary.kept,
    discarded: summary.discarded,
    crashed: summary.crashed,
    skipped: summary.skipped,
    violations: summary.violations,
    agent_errors: summary.agentErrors,
    stopped: summary.stopped,
    interrupted: summary.interrupted,
    stale: summary.stale,
    best:
      summary.best === null
        ? null
        : {
            metric: summary.best.metric,
            commit: summary.best.commit,
            description: summary.best.description,
            trial: summary.best.trial,
          },
    baseline: summary.baseline === null ? null : { metric: summary.baseline.metric, commit: summary.baseline.commit },
    improvement:
      summary.improvement === null
        ? null
        : { absolute: summary.improvement.absolute, percent: summary.improvement.percent },
    keep_rate: summary.keepRate,
    last_trial_at: summary.lastTrialAt,
    usage: {
      input_tokens: summary.tokens.input,
      output_tokens: summary.tokens.output,
      cache_read_tokens: summary.tokens.cacheRead,
      cache_write_tokens: summary.tokens.cacheWrite,
      cost_usd: summary.totalCostUsd,
    },
    durations: {
      agent_seconds: summary.durations.agentSeconds,
      run_seconds: summary.durations.runSeconds,
      total_seconds: summary.durations.totalSeconds,
    },
    running: input.running == null ? null : { pid: input.running.pid, since: input.running.since },
    in_flight: inFlightJson(input.inFlight ?? []),
    noise: noiseJson(input.noise ?? null),
  };
}
