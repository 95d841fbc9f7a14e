import { isKept, type Outcome } from '../core/outcome.js';

/**
 * What a decision leads to, as data (decide → plan → apply): `decide` is pure, this is pure, and
 * one function applies a plan, for a trial that just ran and for one a recovery finishes alike.
 */
export type Plan =
  /**
   * The measured commit becomes the incumbent (a keep, or the baseline): the run branch goes to it
   * (it is there already when the experiment ran in the project folder).
   */
  | { kind: 'advance'; trial: number; to: string; best: number | null; files: readonly string[] }
  /**
   * The change is undone: a failure is tagged, and when the experiment ran in the project folder
   * the run branch goes back to the commit the change was measured on (`move`). An experiment in a
   * slot never moved it.
   */
  | { kind: 'revert'; trial: number; sha: string; to: string; tag: boolean; move: boolean; node?: boolean }
  /** Nothing to move (a baseline that crashed or was stopped: it changed nothing). */
  | { kind: 'none' };

/** The commit measured: a trial's change on top of `base`, or the baseline (sha = base). */
export interface Measured {
  trial: number;
  sha: string;
  /** The commit the change sits on: where the run branch goes back to when it was moved. */
  base: string;
  baseline: boolean;
  /** Measured in the project folder (the run branch was moved to `sha` for it), not in a slot. */
  inProject: boolean;
  files: readonly string[];
  /**
   * Where the run branch belongs when this trial does not become the incumbent: the best node.
   * Absent: `base` (greedy, where a change is always measured on the incumbent).
   */
  home?: string;
}

/** The plan for `outcome` of `m`. A stop after the commit reverts without a `failed/` tag: nothing failed; nor does a stale one. */
export function planFor(m: Measured, outcome: Outcome, metric: number | null, newBest = true): Plan {
  const to = m.home ?? m.base;
  if (isKept(outcome) && (newBest || m.baseline)) return { kind: 'advance', trial: m.trial, to: m.sha, best: metric, files: m.files };
  // Kept, but not the best (restart, beam, tree): a node of the tree, kept reachable by a tag; the
  // run branch stays at (or goes back to) the best node.
  if (isKept(outcome)) return { kind: 'revert', trial: m.trial, sha: m.sha, to, tag: false, move: m.inProject, node: true };
  if (m.baseline) return { kind: 'none' };
  const tag = outcome !== 'stopped' && outcome !== 'interrupted' && outcome !== 'stale';
  return { kind: 'revert', trial: m.trial, sha: m.sha, to, tag, move: m.inProject };
}
