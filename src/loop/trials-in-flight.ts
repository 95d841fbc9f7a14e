import { aggregate } from '../core/statistics.js';

/**
 * How many trials to keep in flight when `parallel.agents` is not set. Each slot needs a new change
 * every experiment-time E; a proposal takes agent-time A, so about N·A/E proposals must be under
 * way beside the N experiments for no slot to wait (Little's law). Bounded below by N + 1 (the
 * agent prepares the next change while experiments run) and above by 2N: every proposal in flight
 * is made without the results of the others, so more of them means more stale or uninformed ones.
 */
export interface TrialsInFlight {
  /** The limit now. */
  limit(): number;
  /** A proposal took this long, from its start to its change queued (or its end). */
  agentTurn(ms: number): void;
  /** A slot was held this long by one experiment run. */
  experimentRun(ms: number): void;
}

/** Recent turns and runs only: a run's agent or experiment may change pace over hours. */
const WINDOW = 16;

export function fixedTrialsInFlight(limit: number): TrialsInFlight {
  return { limit: () => limit, agentTurn: () => undefined, experimentRun: () => undefined };
}

export function adaptiveTrialsInFlight(slots: number): TrialsInFlight {
  const turns: number[] = [];
  const runs: number[] = [];
  const push = (list: number[], ms: number): void => {
    list.push(ms);
    if (list.length > WINDOW) list.shift();
  };
  return {
    limit: () => trialsInFlightFor(slots, turns, runs),
    agentTurn: (ms) => push(turns, ms),
    experimentRun: (ms) => push(runs, ms),
  };
}

/** N + ⌈N · median(agent turn) / median(experiment run)⌉, within [N + 1, 2N]; N + 1 until both are seen. */
export function trialsInFlightFor(slots: number, agentTurnsMs: readonly number[], experimentRunsMs: readonly number[]): number {
  const min = slots + 1;
  const max = Math.max(min, 2 * slots);
  if (agentTurnsMs.length === 0 || experimentRunsMs.length === 0) return min;
  const experiment = Math.max(1, aggregate(experimentRunsMs, 'median'));
  const proposals = Math.ceil((slots * aggregate(agentTurnsMs, 'median')) / experiment);
  return Math.min(max, Math.max(min, slots + proposals));
}
