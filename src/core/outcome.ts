/**
 * How a trial ended. `baseline` is trial 0 (the unmodified code); `interrupted` a trial that a
 * crash or SIGKILL cut short, found and closed by the next run; `agent-error` a trial whose
 * agent failed or timed out before proposing anything; `stale` a proposal whose change no longer
 * applies to the incumbent, which moved while the agent worked (not measured, not a failure).
 */
export const outcomes = ['baseline', 'keep', 'discard', 'crash', 'violation', 'skip', 'agent-error', 'stopped', 'interrupted', 'stale'] as const;
export type Outcome = (typeof outcomes)[number];

export function isOutcome(value: unknown): value is Outcome {
  return typeof value === 'string' && (outcomes as readonly string[]).includes(value);
}

/** Outcomes whose trial produced a measured metric. */
export function isMeasured(outcome: Outcome): boolean {
  return outcome === 'baseline' || outcome === 'keep' || outcome === 'discard';
}

/** Outcomes that leave the run branch at the trial's commit: the only ones that can hold the best. */
export function isKept(outcome: Outcome): boolean {
  return outcome === 'baseline' || outcome === 'keep';
}
