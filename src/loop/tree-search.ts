import type { Direction } from '../core/objective.js';
import { childrenOf, isExpandable, isMeasuredChild, readTree, type SearchTree } from '../core/trial-tree.js';
import type { TrialSummary } from './events.js';
import { largest } from '../core/statistics.js';

/**
 * `tree`: the selection step of Monte Carlo tree search (UCT) over the run's tree of trials.
 * From the baseline down, each step picks the node itself (propose from here) or the subtree of
 * one of its kept children, by value plus `exploration` · √(ln N / n), n the option's trials
 * and N the node's; the descent ends at the first step that picks the node itself.
 *
 * Why subtrees and not nodes (decisions.md 37): scored one by one, the many kept nodes of a
 * broad local peak crowd out the few of a narrow path that leads further; scored as subtrees, a
 * path gets its share of turns whatever the size of the others.
 *
 * A subtree's value is its best metric scaled among the options of the step (the node's own
 * metric 0, the best option 1), halved for every `prune_after` trials it has had since its best
 * last improved: a peak that has stopped improving gives way to a path that still climbs. A
 * node whose last `prune_after` children all failed is not proposed from again (its subtree
 * still is), except the baseline: the search never runs out of nodes.
 */
export interface TreeSettings {
  prune_after: number;
  exploration: number;
}

export interface TreeChoice {
  parent: string;
  why: string;
}

/** What the search knows of a kept node and the trials below it. */
export interface SubtreeStats {
  node: TrialSummary;
  /** The node's own metric, oriented: higher is better whatever the direction. */
  own: number;
  /** The subtree's best metric (the node's included), oriented. */
  best: number;
  /** Trials below the node, measured or in flight. */
  tries: number;
  /** Trials below the node since its best last improved (in flight included). */
  stale: number;
  /** Trials started from the node itself, measured or in flight. */
  ownTries: number;
  /** Whether the node itself may be proposed from (not pruned). */
  expandable: boolean;
  /** Whether the node or a node below it may be proposed from. */
  open: boolean;
}

export function chooseTree(
  trials: readonly TrialSummary[],
  incumbent: string,
  direction: Direction,
  settings: TreeSettings,
  inFlightParents: readonly string[] = [],
): TreeChoice {
  const tree = readTree(trials);
  if (tree.root === undefined) return { parent: incumbent, why: 'no measured node yet' };
  const stats = summarizeSubtrees(tree, direction, settings.prune_after, inFlightParents);
  let at = stats.get(tree.root.commit)!;
  const path = [at.node.trial];
  for (let depth = 0; depth <= tree.order.length; depth++) {
    const next = pickOption(at, openChildren(tree, stats, at), settings);
    if (next === at) break;
    path.push(next.node.trial);
    at = next;
  }
  const since = at.stale > 0 ? `; ${at.stale} since its subtree last improved` : '';
  return { parent: at.node.commit, why: `tree search: trial ${path.join(' → ')} (${at.ownTries} tried from it${since})` };
}

/**
 * One step of the descent: the node itself (unless pruned) or one of its children's subtrees,
 * whichever scores highest; the earlier option wins a tie, the node itself first.
 */
export function pickOption(at: SubtreeStats, children: readonly SubtreeStats[], settings: TreeSettings): SubtreeStats {
  const top = Math.max(at.own, largest(children.map((c) => c.best)));
  const scale = (v: number) => (top === at.own ? 1 : Math.max(0, (v - at.own) / (top - at.own)));
  const bonus = (tries: number) => settings.exploration * Math.sqrt(Math.log(1 + at.tries) / tries);
  let chosen = at;
  let bestScore = at.expandable ? scale(at.own) + bonus(1 + at.ownTries) : -Infinity;
  for (const child of children) {
    const score = scale(child.best) * 0.5 ** (child.stale / settings.prune_after) + bonus(1 + child.tries);
    if (score > bestScore) {
      chosen = child;
      bestScore = score;
    }
  }
  return chosen;
}

/**
 * Every kept node's subtree, read in trial order so that "since its best last improved" is
 * what happened: each measured trial counts for the node it hangs under and every node above.
 */
export function summarizeSubtrees(tree: SearchTree, direction: Direction, pruneAfter: number, inFlightParents: readonly string[] = []): Map<string, SubtreeStats> {
  const orient = (metric: number) => (direction === 'maximize' ? metric : -metric);
  const stats = new Map<string, SubtreeStats>();
  const addNode = (t: TrialSummary) => {
    const own = orient(t.metric!);
    stats.set(t.commit, { node: t, own, best: own, tries: 0, stale: 0, ownTries: 0, expandable: true, open: true });
  };
  // Every node above `commit`, itself first (a guard against a cycle in damaged records).
  const upFrom = function* (commit: string): Generator<SubtreeStats> {
    let at = stats.get(commit);
    for (let steps = 0; at !== undefined && steps <= tree.order.length; steps++) {
      yield at;
      const under = tree.under.get(at.node.trial);
      at = under === undefined ? undefined : stats.get(under);
    }
  };
  const count = (under: string, value: number | null) => {
    const node = stats.get(under);
    if (node === undefined) return;
    node.ownTries++;
    for (const s of upFrom(under)) {
      s.tries++;
      if (value !== null && value > s.best) {
        s.best = value;
        s.stale = 0;
      } else s.stale++;
    }
  };
  if (tree.root !== undefined) addNode(tree.root);
  for (const t of tree.order) {
    const under = tree.under.get(t.trial);
    if (under === undefined || !isMeasuredChild(t)) continue;
    count(under, isExpandable(t) ? orient(t.metric!) : null);
    if (isExpandable(t) && !stats.has(t.commit)) addNode(t);
  }
  // A proposal in flight counts as a trial that has not improved yet (MCTS's virtual loss), so
  // parallel proposals spread out instead of piling onto one node.
  for (const parent of inFlightParents) count(parent, null);
  // Children come after their node in trial order: from the last node up, a node's children
  // are settled before it.
  const nodes = [...stats.values()].sort((a, b) => b.node.trial - a.node.trial);
  for (const s of nodes) {
    s.expandable = s.node === tree.root || !isPruned(tree, s.node, pruneAfter);
    s.open = s.expandable || childrenOf(tree, s.node.commit).some((c) => stats.get(c.commit)?.open === true);
  }
  return stats;
}

/** Whether the last `k` measured children of the node all failed (none was kept). */
export function isPruned(tree: SearchTree, node: TrialSummary, k: number): boolean {
  const last = childrenOf(tree, node.commit).filter(isMeasuredChild).slice(-k);
  return last.length >= k && !last.some(isExpandable);
}

function openChildren(tree: SearchTree, stats: Map<string, SubtreeStats>, at: SubtreeStats): SubtreeStats[] {
  return childrenOf(tree, at.node.commit)
    .map((c) => stats.get(c.commit))
    .filter((s): s is SubtreeStats => s !== undefined && s.open && tree.under.get(s.node.trial) === at.node.commit);
}
