import type { TrialSummary } from './events.js';

/**
 * The Strategy port: which node of the run's tree the next proposal starts from, and when the
 * search is over, as a pure function of what has been measured. `greedy` is the loop as it has
 * always been: every proposal starts from the incumbent (the run branch's head, the best measured
 * commit of the chain) and the strategy itself never stops the run. Restart, beam and tree
 * search plug in here.
 */
export interface SearchState {
  /** The incumbent's commit: where the run branch is. */
  incumbent: string;
  /** Every finished trial of the run, oldest first, the baseline included. */
  trials: readonly TrialSummary[];
}

export interface Strategy {
  readonly name: string;
  /** The commit the next proposal starts from. */
  chooseParent(state: SearchState): string;
  /** Why the search has nothing left to try, or null to go on. */
  stopReason(state: SearchState): string | null;
}

export const greedy: Strategy = {
  name: 'greedy',
  chooseParent: (state) => state.incumbent,
  stopReason: () => null,
};
