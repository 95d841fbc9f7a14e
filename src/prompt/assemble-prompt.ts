import type { InFlightTrial, TrialView } from '../agents/types.js';
import type { Objective } from '../config/schema.js';
import { measureGain } from '../core/objective.js';
import type { Outcome } from '../core/outcome.js';
import type { NoiseFloor } from '../core/noise-floor.js';
import { digestHistory, lastAttempts, type HistoryDigest } from './history-digest.js';
import { inFlightSection } from './in-flight-section.js';
import { noiseSection } from './noise-section.js';
import { startNodeSection, type StartNode } from './start-node-section.js';
import { strategyHint } from './strategy-hint.js';

export interface PromptInput {
  /** The user's instructions (program.md), or null when there are none. */
  instructions: string | null;
  objective: Objective;
  branch: string;
  /** The trial this prompt is for. */
  trial: number;
  files: { editable: readonly string[]; readonly: readonly string[]; hidden: readonly string[] };
  /** This run's finished trials, oldest first, baseline included. */
  history: readonly TrialView[];
  /** Trials proposed and not yet decided (hidden text already redacted); absent or empty: none. */
  inFlight?: readonly InFlightTrial[];
  /** The node a non-greedy strategy chose to start from (lineage and tried siblings); absent: greedy. */
  startNode?: StartNode;
  includeHistory: boolean;
  historyLimit: number;
  includeBest: boolean;
  formatMetric: (value: number | null) => string;
  /** The run's noise floor (RunView.noise); absent, null or 0: no noise section. */
  noise?: NoiseFloor | null;
}

const SEPARATOR = '\n\n---\n\n';

/**
 * The prompt of one trial, as a pure function of the run's state. The parts that never change in a
 * run (instructions, rules) come first so that provider-side prompt caching can reuse them; what
 * changes every trial (state, history, the last failure, the task) follows.
 */
export function assemblePrompt(input: PromptInput): string {
  const digest = digestHistory(input.history, input.objective.direction);
  const sections = [
    instructionsSection(input),
    rulesSection(input),
    stateSection(input, digest),
    noiseSection(input.noise, input.objective.name, input.formatMetric),
    input.includeHistory ? historySection(input, digest) : null,
    inFlightSection(input.inFlight ?? []),
    startNodeSection(input.startNode),
    lastFailureSection(input),
    taskSection(input, digest),
  ];
  return `${sections.filter((s): s is string => s !== null).join(SEPARATOR)}\n`;
}

function instructionsSection(input: PromptInput): string | null {
  const text = input.instructions?.trim();
  return text ? `## Instructions\n\n${text}` : null;
}

function rulesSection({ files }: PromptInput): string {
  const lines = ['## Rules', '', `- You may edit only: ${files.editable.join(', ')}`];
  if (files.readonly.length > 0) lines.push(`- Read-only (read them, never change them): ${files.readonly.join(', ')}`);
  if (files.hidden.length > 0) {
    lines.push(`- Hidden (they exist when the experiment runs, but you cannot read, create or change them): ${files.hidden.join(', ')}`);
  }
  lines.push(
    '- Do not try to run anything: the platform runs the experiment after your turn.',
    '- Make ONE focused change per turn, and keep the code correct: a crash scores nothing.',
    '- Never repeat a change that failed or crashed, not even a small variation of it.',
    '- Prefer clean, targeted edits; a change that adds much complexity for a tiny gain is not worth it.',
  );
  return lines.join('\n');
}

function stateSection(input: PromptInput, digest: HistoryDigest): string {
  const { objective, formatMetric } = input;
  const goal = objective.direction === 'maximize' ? 'maximize, higher is better' : 'minimize, lower is better';
  const lines = ['## Current state', '', `Branch: ${input.branch}   Trial: ${input.trial}`, `Metric: ${objective.name} (${goal})`];
  const { baseline, best, counts } = digest;
  if (input.includeBest && best) {
    if (best.outcome === 'baseline') {
      lines.push(`Best so far: ${formatMetric(best.metric)}, the unmodified code (baseline). Beat it.`);
    } else {
      const gain = baseline?.metric != null ? relativeGain(baseline.metric, best.metric!, objective.direction) : null;
      lines.push(
        `Best so far: ${formatMetric(best.metric)} (trial ${best.trial}${gain === null ? '' : `, ${formatGain(gain)} vs the baseline ${formatMetric(baseline!.metric)}`}). Beat it.`,
      );
    }
  }
  if (counts.total > 0) {
    const parts = [`${counts.keep} kept`, `${counts.discard} not better`, `${counts.crash} crashed`];
    if (counts.stale > 0) parts.push(`${counts.stale} stale (not measured)`);
    if (counts.other > 0) parts.push(`${counts.other} void (no edit, forbidden edit or agent error)`);
    lines.push(`Trials so far: ${counts.total} (${parts.join(', ')})`);
    if (counts.keep === 0) lines.push('Nothing has improved the metric yet: try something substantially different.');
  }
  return lines.join('\n');
}

function historySection(input: PromptInput, digest: HistoryDigest): string {
  const attempts = digest.counts.total;
  if (attempts === 0) {
    return '## History\n\nNo trials yet. Read all the code first, then make the single change with the biggest expected gain.';
  }
  const shown = input.historyLimit > 0 ? lastAttempts(input.history, input.historyLimit) : [];
  const lines = ['## History', ''];
  if (shown.length < attempts) lines.push(`The last ${shown.length} of ${attempts} trials, oldest first:`, '');
  if (shown.length > 0) {
    lines.push(`| trial | ${input.objective.name} | result | change |`, '|---|---|---|---|');
    for (const t of shown) {
      lines.push(`| ${t.trial} | ${input.formatMetric(t.metric)} | ${outcomeLabel(t.outcome)} | ${tableCell(t.description)} |`);
    }
  }
  const first = digest.baseline ?? digest.firstKept;
  const last = digest.lastKept;
  if (first && last && first !== last) {
    const gain = relativeGain(first.metric!, last.metric!, input.objective.direction);
    lines.push('', `Trend of kept changes: ${input.formatMetric(first.metric)} → ${input.formatMetric(last.metric)}${gain === null ? '' : ` (${formatGain(gain)})`}.`);
  }
  const worked = digest.lastKeeps.map((t) => t.description);
  const failed = digest.lastDiscards.map((t) => t.description);
  const crashed = digest.lastCrashes.map((t) => t.description);
  const stale = digest.lastStale.map((t) => t.description);
  if (worked.length + failed.length + crashed.length + stale.length > 0) lines.push('');
  if (worked.length > 0) lines.push(`Worked, build on these: ${worked.join('; ')}`);
  if (failed.length > 0) lines.push(`Did not help, do not repeat: ${failed.join('; ')}`);
  if (crashed.length > 0) lines.push(`Crashed, avoid: ${crashed.join('; ')}`);
  // Stale is no verdict on the idea: the code it was written against was improved meanwhile.
  if (stale.length > 0) {
    lines.push(`Never measured (stale: the best changed while it was written, and it no longer applied): ${stale.join('; ')}. Untested, not failed: redo one on the current code if it still looks promising.`);
  }
  // Descriptions can be vague; the diffs of the last few failures say exactly what not to redo.
  const failedDiffs = digest.lastFailedDiffs;
  if (failedDiffs.length > 0) {
    lines.push('', 'The last failed changes, exactly (do not make them again):');
    for (const t of failedDiffs) {
      lines.push('', `Trial ${t.trial} (${outcomeLabel(t.outcome)}${t.metric === null ? '' : `, ${input.objective.name} ${input.formatMetric(t.metric)}`}):`, '```diff', t.diff!, '```');
    }
  }
  return lines.join('\n');
}

/** What went wrong in the trials since the last measured one, so the agent can fix or avoid it. */
function lastFailureSection(input: PromptInput): string | null {
  const notes: TrialView[] = [];
  for (let i = input.history.length - 1; i >= 0; i--) {
    const t = input.history[i]!;
    if (t.outcome === 'keep' || t.outcome === 'discard' || t.outcome === 'baseline') break;
    // Nothing went wrong with a stale trial's idea; its conflict is not something to fix.
    if (t.outcome === 'stale') continue;
    if (t.detail) notes.unshift(t);
    if (t.outcome === 'crash' || notes.length >= 3) break;
  }
  if (notes.length === 0) return null;
  const lines = ['## What went wrong last time (fix it or avoid it)'];
  for (const t of notes) {
    lines.push('', `Trial ${t.trial} (${outcomeLabel(t.outcome)}): ${t.description}`);
    lines.push('```', t.detail!.trim(), '```');
  }
  return lines.join('\n');
}

function taskSection(input: PromptInput, digest: HistoryDigest): string {
  return [
    '## Your task',
    '',
    strategyHint(digest.attempts, digest.misses),
    '',
    '1. Read the relevant code before you change anything.',
    `2. Decide on ONE change that should improve ${input.objective.name}, using the history above.`,
    `3. Make it, in: ${input.files.editable.join(', ')}. Keep the code correct and its interface unchanged.`,
    '4. End with one line (under 120 characters, no markdown): what you changed and why.',
  ].join('\n');
}

function outcomeLabel(outcome: Outcome): string {
  switch (outcome) {
    case 'keep':
      return 'kept';
    case 'discard':
      return 'not better';
    case 'crash':
      return 'crashed';
    case 'violation':
      return 'forbidden edit';
    case 'skip':
      return 'no edit';
    case 'agent-error':
      return 'agent error';
    case 'stale':
      return 'stale (not measured)';
    default:
      return outcome;
  }
}

function tableCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim() || '(no description)';
}

/** In percent, positive when `to` is better than `from`; null when `from` is 0 (no meaningful ratio). */
function relativeGain(from: number, to: number, direction: Objective['direction']): number | null {
  return measureGain(from, to, direction).percent;
}

function formatGain(pct: number): string {
  return `${pct >= 0 ? '+' : ''}${pct.toFixed(1)}% better`.replace('+-', '-').replace(/^-(.*) better$/, '-$1 (worse)');
}
