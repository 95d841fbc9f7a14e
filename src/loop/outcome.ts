/**
 * How a trial ended. `baseline` is trial 0 (the unmodified code); `interrupted` a trial that a
 * crash or SIGKILL cut short, found and closed by the next run; `agent-error` a trial whose
 * agent failed or timed out before proposing anything.
 */
export const outcomes = ['baseline', 'keep', 'discard', 'crash', 'violation', 'skip', 'agent-error', 'stopped', 'interrupted'] as const;
export type Outcome = (typeof outcomes)[number];

/** Outcomes whose trial produced a measured metric. */
export function isMeasured(outcome: Outcome): boolean {
  return outcome === 'baseline' || outcome === 'keep' || outcome === 'discard';
}
