import type { Outcome } from '../core/outcome.js';

/** A node or a tried child, as the prompt shows it (texts already redacted like `TrialView`'s). */
export interface NodeView {
  trial: number;
  outcome: Outcome;
  metric: number | null;
  description: string;
}

export interface StartNode {
  /** From the baseline down to the node the proposal starts from (see `lineage`). */
  lineage: readonly NodeView[];
  /** What was already tried from that node (see `siblingsTried`), oldest first. */
  siblings: readonly NodeView[];
}

// Bounded however deep the tree or busy the node: the newest are the most telling.
const MAX_LINEAGE = 12;
const MAX_SIBLINGS = 12;

/**
 * Where this proposal starts when a strategy other than greedy chose a node that is not the best:
 * the chain of changes that led to it, and what was already tried from it, so the agent neither
 * repeats a sibling nor assumes the run's best code. Null when absent: greedy's prompt is unchanged.
 */
export function startNodeSection(start: StartNode | undefined): string | null {
  if (start === undefined || start.lineage.length === 0) return null;
  const node = start.lineage.at(-1)!;
  const lines = ['## Where this trial starts', '', `You start from trial ${node.trial} (${formatMetric(node.metric)}), not necessarily the best so far. How it was reached:`];
  const path = start.lineage.slice(-MAX_LINEAGE);
  if (path.length < start.lineage.length) lines.push(`- (${start.lineage.length - path.length} earlier step(s))`);
  for (const n of path) lines.push(`- trial ${n.trial}: ${oneLine(n.description)} → ${formatMetric(n.metric)}`);
  if (start.siblings.length > 0) {
    lines.push('', 'Already tried from this point (do not repeat these):');
    const shown = start.siblings.slice(-MAX_SIBLINGS);
    if (shown.length < start.siblings.length) lines.push(`- (${start.siblings.length - shown.length} earlier one(s))`);
    for (const s of shown) lines.push(`- trial ${s.trial} (${s.outcome}${s.metric === null ? '' : `, ${formatMetric(s.metric)}`}): ${oneLine(s.description)}`);
  }
  return lines.join('\n');
}

function formatMetric(metric: number | null): string {
  return metric === null ? 'no metric' : String(Number(metric.toPrecision(6)));
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim() || '(no description)';
}
