import type { TrialSummary } from '../../src/loop/events.js';

/** A trial of a search tree: `base` is the node it hangs under (absent: the baseline or the latest keep). */
export const treeTrial = (n: number, outcome: TrialSummary['outcome'], commit: string, metric: number | null, base?: string): TrialSummary => ({
  trial: n,
  outcome,
  metric,
  description: `t${n}`,
  commit,
  files: [],
  best: null,
  agentMs: 0,
  runMs: 0,
  totalMs: 0,
  costUsd: null,
  ...(base === undefined ? {} : { parent: base, base }),
});
