import type { Outcome } from './outcome.js';

/** Tokens and money one proposal cost, as far as the backend knows. */
export interface AgentUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number | null;
}

/** Everything that is known about a finished trial: what the ledger's `trial.end` event holds. */
export interface TrialSummary {
  trial: number;
  outcome: Outcome;
  metric: number | null;
  description: string;
  /** Full sha of the trial's commit, "" when it made none. */
  commit: string;
  /** Project-relative paths the trial changed. */
  files: string[];
  /** Why it failed (crash report, violation, agent error), for the next prompt. */
  detail?: string;
  /** The best metric after this trial. */
  best: number | null;
  agentMs: number;
  runMs: number;
  totalMs: number;
  costUsd: number | null;
  /** What the agent's turn used, when the backend reports it. */
  usage?: AgentUsage | null;
  /** The change, compacted for prompts (see compactDiff). */
  diff?: string;
  /** The commit the agent started from (absent in records of older versions). */
  parent?: string;
  /** The commit the change was measured on top of: `parent`, or the incumbent it was rebased onto. */
  base?: string;
  /** The experiment slot it ran in (0 = the project folder when workers = 1). */
  slot?: number;
  /** A re-measurement of this trial's change on a newer incumbent (rule 2 of the keep rule). */
  remeasureOf?: number;
  /**
   * Every raw metric value of this trial's candidate, in order (repeats, then confirm runs); `metric`
   * is their aggregate. The baseline's are the run's noise floor. Absent in records of older versions.
   */
  samples?: number[];
  /** The incumbent's values measured interleaved with the candidate while it was confirmed. */
  incumbentSamples?: number[];
  /** What the keep rule estimated the gain over the incumbent to be (metric units, positive = better). */
  margin?: number;
  /** The keep rule's one-sided p-value, when it tested confirm pairs. */
  p?: number;
}
