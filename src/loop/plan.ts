import { isKept, type Outcome } from '../core/outcome.js';

/**
 * What a decision leads to, as data (decide → plan → apply): `decide` is pure, this is pure, and
 * one function applies a plan, for a trial that just ran and for one a recovery finishes alike.
 */
export type Plan =
  /** The measured commit becomes the incumbent (a keep, or the baseline): the run branch stays on it. */
  | { kind: 'advance'; to: string; best: number | null }
  /** The change is undone: the run branch goes back to the commit it was made on; a failure is tagged. */
  | { kind: 'revert'; trial: number; sha: string; to: string; tag: boolean }
  /** Nothing to move (a baseline that crashed or was stopped: it changed nothing). */
  | { kind: 'none' };

/** The commit measured: a trial's change on top of `parent`, or the baseline (sha = parent). */
export interface Measured {
  trial: number;
  sha: string;
  parent: string;
  baseline: boolean;
}

/** The plan for `outcome` of `m`. A stop after the commit reverts without a `failed/` tag: nothing failed. */
export function planFor(m: Measured, outcome: Outcome, metric: number | null): Plan {
  if (isKept(outcome)) return { kind: 'advance', to: m.sha, best: metric };
  if (m.baseline) return { kind: 'none' };
  return { kind: 'revert', trial: m.trial, sha: m.sha, to: m.parent, tag: outcome !== 'stopped' && outcome !== 'interrupted' };
}
