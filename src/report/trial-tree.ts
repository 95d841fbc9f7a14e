/**
 * The run's tree of trials as text, for `postmortem` under strategies that branch (restart, beam,
 * tree): each node with the trials tried from it, indented under it.
 *
 *   #0 baseline 10.37
 *   ├─ #1 keep 5.2 ★  DEGREE 1 → 2
 *   │  └─ #3 discard 6.0  KNOTS 0 → 4
 *   └─ #2 discard 11.0  RIDGE 1e-06 → 0.3
 */
import type { TrialSummary } from '../core/trial-record.js';
import { childrenOf, isExpandable, readTree, type SearchTree } from '../core/trial-tree.js';
import { formatMetric } from './format.js';
import { truncateToWidth } from './text-width.js';

// Past this many lines the tree says how many it left out: a long run's tree is for --json.
const MAX_LINES = 60;

/** Whether the run left the single chain: a keep built on a node that was not the latest kept one. */
export function isBranched(trials: readonly TrialSummary[]): boolean {
  let latest: string | undefined;
  for (const t of [...trials].sort((a, b) => a.trial - b.trial)) {
    if (!isExpandable(t)) continue;
    const on = t.base ?? t.parent;
    if (t.outcome === 'keep' && on !== undefined && latest !== undefined && on !== latest) return true;
    latest = t.commit;
  }
  return false;
}

export function renderTrialTree(trials: readonly TrialSummary[], opts: { width: number; bestTrial: number | null }): string[] {
  const tree = readTree(trials);
  if (tree.root === undefined) return ['(no baseline recorded)'];
  const lines: string[] = [];
  let left = 0;
  const label = (t: TrialSummary) => {
    const star = t.trial === opts.bestTrial ? ' ★' : '';
    const text = t.outcome === 'baseline' ? '' : `  ${t.description.replace(/\s+/g, ' ').trim()}`;
    return `#${t.trial} ${t.outcome} ${t.metric === null ? '—' : formatMetric(t.metric)}${star}${text}`;
  };
  const walk = (node: TrialSummary, prefix: string, connector: string, childPrefix: string) => {
    if (lines.length >= MAX_LINES) {
      left++;
      return;
    }
    lines.push(truncateToWidth(`${prefix}${connector}${label(node)}`, opts.width));
    const children = isExpandable(node) ? kids(tree, node) : [];
    children.forEach((child, i) => {
      const last = i === children.length - 1;
      walk(child, prefix + childPrefix, last ? '└─ ' : '├─ ', last ? '   ' : '│  ');
    });
  };
  walk(tree.root, '', '', '');
  if (left > 0) lines.push(`(${left} more trial(s) in --json)`);
  return lines;
}

function kids(tree: SearchTree, node: TrialSummary): TrialSummary[] {
  return childrenOf(tree, node.commit).filter((t) => t.outcome !== 'stale' && t.outcome !== 'agent-error');
}
