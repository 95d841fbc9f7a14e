import type { Config } from '../config/schema.js';
import { isBetter, type Direction } from '../core/objective.js';
import type { TrialSummary } from './events.js';
import { bestNode, childrenOf, isAncestor, isExpandable, isMeasuredChild, readTree, type SearchTree } from '../core/trial-tree.js';
import { chooseTree as searchTree } from './tree-search.js';

export { lineage, siblingsTried } from '../core/trial-tree.js';
import { lineage } from '../core/trial-tree.js';

/**
 * The Strategy port: which node of the run's tree the next proposal starts from, and when the
 * search is over, as a pure function of what has been measured. `greedy` is the loop as it has
 * always been: every proposal starts from the incumbent (the run branch's head, the best measured
 * commit of the chain) and the strategy itself never stops the run.
 *
 * What "keep" means beyond greedy (decisions.md): a trial is kept when it beats the node it was
 * measured on (its `base`), not the run's best; every kept node can be built upon. Under greedy
 * the base is the incumbent, so that is today's rule. The run branch always points at the best
 * node, whatever the strategy.
 */
export interface SearchState {
  /** The incumbent's commit: where the run branch is (the best node). */
  incumbent: string;
  /** Every finished trial of the run, oldest first, the baseline included. */
  trials: readonly TrialSummary[];
  /** The commits the proposals in flight started from, one per proposal (absent: none). */
  inFlightParents?: readonly string[];
}

/** Where the next proposal starts. */
export interface StrategyChoice {
  /** The commit of the node to start from. */
  parent: string;
  /** Under beam: which branch (0 = the best one); absent for the other strategies. */
  branch?: number;
  /** One line for the log and the prompt. */
  why: string;
}

export interface Strategy {
  readonly name: string;
  /** The commit the next proposal starts from. */
  chooseParent(state: SearchState): string;
  /** The same choice, with the branch and the reason. */
  choose(state: SearchState): StrategyChoice;
  /** Why the search has nothing left to try, or null to go on. */
  stopReason(state: SearchState): string | null;
}

/**
 * Greedy grows one chain: a change is measured on top of the incumbent of the moment (rebased when
 * it moved meanwhile) and kept only when it beats it. The other strategies measure a change on
 * the node it was proposed from and keep it when it beats that node.
 */
export function measuresOnIncumbent(strategy: Strategy): boolean {
  return strategy.name === 'greedy';
}

/**
 * Whether a kept trial with `metric` becomes the incumbent (the run branch goes to it): always
 * under greedy, whose keeps beat the incumbent; beyond it only when it beats the best so far.
 */
export function becomesIncumbent(strategy: Strategy, best: number | null, metric: number | null, direction: Direction): boolean {
  return measuresOnIncumbent(strategy) || best === null || (metric !== null && isBetter(metric, best, direction));
}

/** The metric of the kept (or baseline) node at `commit`, if the history has one: the bar its children must beat. */
export function nodeMetric(history: readonly TrialSummary[], commit: string): number | null {
  return history.find((t) => t.commit === commit && (t.outcome === 'keep' || t.outcome === 'baseline'))?.metric ?? null;
}

export const greedy: Strategy = {
  name: 'greedy',
  chooseParent: (state) => state.incumbent,
  choose: (state) => ({ parent: state.incumbent, why: 'the best node (greedy)' }),
  stopReason: () => null,
};

/** `search.*` of the config. */
export type SearchSettings = Config['search'];

export const DEFAULT_SEARCH: SearchSettings = {
  strategy: 'greedy',
  plateau: 5,
  restart_from: 'baseline',
  beam_width: 3,
  prune_after: 6,
  exploration: 0.5,
  stop_when: { target: null, no_improvement: null },
};

/** The strategy the settings name, with `stop_when` applied on top of its own stop rule. */
export function createStrategy(settings: SearchSettings, direction: Direction): Strategy {
  const base = baseStrategy(settings, direction);
  const { target, no_improvement: patience } = settings.stop_when;
  if (target === null && patience === null) return base;
  const stopReason = (state: SearchState): string | null => {
    const reached = stopWhenReached(state.trials, direction, target, patience);
    return reached ?? base.stopReason(state);
  };
  return { ...base, stopReason };
}

function baseStrategy(settings: SearchSettings, direction: Direction): Strategy {
  switch (settings.strategy) {
    case 'greedy':
      return greedy;
    case 'restart':
      return fromChoice('restart', (state) => chooseRestart(state, direction, settings));
    case 'beam':
      return fromChoice('beam', (state) => chooseBeam(state, direction, settings.beam_width));
    case 'tree':
      // The baseline is never pruned, so tree never runs out of nodes: it stops only by stop_when.
      return fromChoice('tree', (state) => chooseTree(state, direction, settings));
  }
}

function fromChoice(name: string, choose: (state: SearchState) => StrategyChoice): Strategy {
  return { name, choose, chooseParent: (state) => choose(state).parent, stopReason: () => null };
}

/**
 * restart: the chain goes on from its latest kept node; after `plateau` measured trials without
 * a keep it goes back to the baseline (or the best node) and grows a new chain from there.
 */
export function chooseRestart(state: SearchState, direction: Direction, settings: Pick<SearchSettings, 'plateau' | 'restart_from'>): StrategyChoice {
  const tree = readTree(state.trials);
  let stale = 0;
  let head: TrialSummary | undefined;
  for (let i = tree.order.length - 1; i >= 0; i--) {
    const t = tree.order[i]!;
    if (isExpandable(t)) {
      head = t;
      break;
    }
    if (isMeasuredChild(t)) stale++;
  }
  if (head === undefined) return { parent: state.incumbent, why: 'no measured node yet' };
  if (stale < settings.plateau) return { parent: head.commit, why: `the latest kept node (trial ${head.trial})` };
  const back = settings.restart_from === 'best' ? (bestNode(tree, direction) ?? head) : (tree.root ?? head);
  return { parent: back.commit, why: `${stale} trials without a keep: back to ${settings.restart_from === 'best' ? 'the best node' : 'the baseline'} (trial ${back.trial})` };
}

/**
 * beam: the W best kept nodes of which none is an ancestor of another, each the incumbent of its
 * branch (branch 0 holds the best); the next proposal goes to the branch with the fewest
 * children, measured and in flight, the better branch first on a tie. While there are fewer than
 * W branches, the baseline competes too, with its own children as its load: a change kept there
 * off the chain opens a branch.
 */
export function chooseBeam(state: SearchState, direction: Direction, width: number): StrategyChoice {
  const tree = readTree(state.trials);
  const heads = beamHeads(tree, direction, width);
  if (heads.length === 0) return { parent: state.incumbent, why: 'no measured node yet' };
  // A branch is its head's lineage below the nodes it shares with another branch; its load is
  // every trial tried from its own nodes (in flight included), so a branch that keeps improving
  // does not take every turn.
  const lineages = heads.map((h) => lineage(state.trials, h.commit).map((n) => n.commit));
  const count = new Map<string, number>();
  for (const commits of lineages) for (const c of commits) count.set(c, (count.get(c) ?? 0) + 1);
  const inFlight = state.inFlightParents ?? [];
  const tries = (c: string) => childrenOf(tree, c).length + inFlight.filter((p) => p === c).length;
  const root = tree.root;
  const load = (i: number, withRoot = true) =>
    lineages[i]!.filter((c) => (heads.length === 1 || count.get(c) === 1) && (withRoot || c !== root?.commit)).reduce((sum, c) => sum + tries(c), 0);
  let branch = 0;
  for (let i = 1; i < heads.length; i++) if (load(i) < load(branch)) branch = i;
  // Fewer branches than the width: the baseline opens another, when it has been tried less than
  // the chosen branch. Without this a serial beam is one chain (every keep descends from the
  // head it was proposed from), which is greedy by another name.
  if (heads.length < width && root !== undefined && !heads.includes(root)) {
    if (tries(root.commit) < load(branch, false)) return { parent: root.commit, branch: heads.length, why: `the baseline, opening branch ${heads.length + 1} of ${width} (trial ${root.trial})` };
  }
  const head = heads[branch]!;
  return { parent: head.commit, branch, why: `branch ${branch + 1} of ${heads.length} (trial ${head.trial})` };
}

export function beamHeads(tree: SearchTree, direction: Direction, width: number): TrialSummary[] {
  const ranked = rankNodes(tree, direction);
  const heads: TrialSummary[] = [];
  for (const node of ranked) {
    if (heads.length >= width) break;
    if (heads.some((h) => isAncestor(tree, h, node) || isAncestor(tree, node, h))) continue;
    heads.push(node);
  }
  return heads;
}

/** tree: the selection step of MCTS over the run's tree of trials (see tree-search.ts). */
export function chooseTree(state: SearchState, direction: Direction, settings: Pick<SearchSettings, 'prune_after' | 'exploration'>): StrategyChoice {
  return searchTree(state.trials, state.incumbent, direction, settings, state.inFlightParents);
}

/** Kept nodes with a metric, the best first (the earlier on a tie). */
function rankNodes(tree: SearchTree, direction: Direction): TrialSummary[] {
  const sign = direction === 'maximize' ? -1 : 1;
  return tree.order.filter((t) => isExpandable(t) && t.metric !== null).sort((a, b) => sign * (a.metric! - b.metric!) || a.trial - b.trial);
}

/** `search.stop_when`: the target reached, or no new best in the last `patience` measured trials. */
export function stopWhenReached(trials: readonly TrialSummary[], direction: Direction, target: number | null, patience: number | null): string | null {
  const tree = readTree(trials);
  const best = bestNode(tree, direction);
  if (best === undefined) return null;
  if (target !== null && (direction === 'maximize' ? best.metric! >= target : best.metric! <= target)) {
    return `the target ${target} is reached (${best.metric} at trial ${best.trial})`;
  }
  if (patience !== null) {
    const since = tree.order.filter((t) => t.trial > best.trial && isMeasuredChild(t)).length;
    if (since >= patience) return `no improvement in ${since} trials (the best is trial ${best.trial})`;
  }
  return null;
}
