/**
 * The run's trials as a tree: each trial hangs under the node it was measured on (its `base`, or
 * its `parent` when it was not rebased; the baseline is the root). Kept trials (and the baseline)
 * are the nodes a proposal can start from. Records of versions before the tree have neither
 * field: such a trial hangs under the latest kept node before it, which is where the chain put it.
 */
import type { Direction } from '../config/constants.js';
import type { TrialSummary } from './trial-record.js';

export interface SearchTree {
  /** Every finished trial, by trial number. */
  order: TrialSummary[];
  root: TrialSummary | undefined;
  byCommit: Map<string, TrialSummary>;
  /** Trials by the commit of the node they hang under. */
  children: Map<string, TrialSummary[]>;
  /** The commit of the node each trial hangs under, by trial number (the baseline has none). */
  under: Map<number, string>;
}

export function readTree(trials: readonly TrialSummary[]): SearchTree {
  const order = [...trials].sort((a, b) => a.trial - b.trial);
  const byCommit = new Map<string, TrialSummary>();
  const children = new Map<string, TrialSummary[]>();
  const underOf = new Map<number, string>();
  let latestKept: TrialSummary | undefined;
  for (const t of order) {
    const under = t.base ?? t.parent ?? (t.outcome === 'baseline' ? undefined : latestKept?.commit);
    if (under !== undefined && t.outcome !== 'baseline') {
      const siblings = children.get(under);
      if (siblings === undefined) children.set(under, [t]);
      else siblings.push(t);
      underOf.set(t.trial, under);
    }
    if (isExpandable(t)) {
      byCommit.set(t.commit, t);
      latestKept = t;
    }
  }
  return { order, root: order.find((t) => t.outcome === 'baseline' && t.commit !== ''), byCommit, children, under: underOf };
}

/** A node a proposal can start from: the baseline or a kept trial, with a commit and a metric. */
export function isExpandable(t: TrialSummary): boolean {
  return (t.outcome === 'baseline' || t.outcome === 'keep') && t.commit !== '' && t.metric !== null;
}

/** A trial that tried something from its node: measured, crashed, or refused by the guard. */
export function isMeasuredChild(t: TrialSummary): boolean {
  return t.outcome === 'keep' || t.outcome === 'discard' || t.outcome === 'crash' || t.outcome === 'violation';
}

export function nodeOf(tree: SearchTree, commit: string): TrialSummary | undefined {
  return tree.byCommit.get(commit);
}

export function childrenOf(tree: SearchTree, commit: string): TrialSummary[] {
  return tree.children.get(commit) ?? [];
}

/** The best kept node (the earlier one on a tie). */
export function bestNode(tree: SearchTree, direction: Direction): TrialSummary | undefined {
  let best: TrialSummary | undefined;
  for (const t of tree.order) {
    if (!isExpandable(t)) continue;
    if (best === undefined || (direction === 'maximize' ? t.metric! > best.metric! : t.metric! < best.metric!)) best = t;
  }
  return best;
}

/** The nodes from the root down to the node at `commit`, the root first (empty when unknown). */
export function lineage(trials: readonly TrialSummary[], commit: string): TrialSummary[] {
  const tree = readTree(trials);
  const path: TrialSummary[] = [];
  const seen = new Set<string>();
  let at = nodeOf(tree, commit);
  while (at !== undefined && !seen.has(at.commit)) {
    path.unshift(at);
    seen.add(at.commit);
    if (at.outcome === 'baseline') break;
    at = parentNode(tree, at);
  }
  return path;
}

/** What was already tried from the node at `commit`: its children, measured or not, oldest first. */
export function siblingsTried(trials: readonly TrialSummary[], commit: string): TrialSummary[] {
  return childrenOf(readTree(trials), commit).filter(isMeasuredChild);
}

function parentNode(tree: SearchTree, t: TrialSummary): TrialSummary | undefined {
  const under = t.base ?? t.parent;
  if (under !== undefined) return nodeOf(tree, under);
  // An old record: the latest kept node before it.
  let found: TrialSummary | undefined;
  for (const other of tree.order) {
    if (other.trial >= t.trial) break;
    if (isExpandable(other)) found = other;
  }
  return found;
}

/** Whether `maybe` is on the path from the root to `node` (itself excluded). */
export function isAncestor(tree: SearchTree, maybe: TrialSummary, node: TrialSummary): boolean {
  const seen = new Set<string>();
  let at = parentNode(tree, node);
  while (at !== undefined && !seen.has(at.commit)) {
    if (at.commit === maybe.commit) return true;
    seen.add(at.commit);
    at = at.outcome === 'baseline' ? undefined : parentNode(tree, at);
  }
  return false;
}
