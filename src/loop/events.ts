import type { AgentUsage } from '../agents/types.js';
import type { Outcome } from './outcome.js';
import type { StopReason } from './stop-rules.js';

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
}

export interface RunStartInfo {
  tag: string;
  branch: string;
  resumed: boolean;
  /** Trials recorded before this session (baseline included). */
  previousTrials: number;
  forkedFrom: { tag: string; commit: string } | null;
  agent: string;
  worktree: string;
  /** The run's measured baseline when a resumed run has one (the bar gains are shown against). */
  baseline?: number | null;
}

/**
 * What a run tells whoever watches it. The loop never prints: the CLI turns these into console
 * lines, tests collect them, a dashboard could stream them.
 */
export interface LoopReporter {
  runStart?(info: RunStartInfo): void;
  /** Something worth knowing that is not an error (recovery of an interrupted trial, setup output). */
  notice?(message: string): void;
  warning?(message: string): void;
  trialStart?(trial: number): void;
  agentDone?(trial: number, info: { description: string; files: string[]; ms: number }): void;
  experimentStart?(trial: number, info: { commit: string }): void;
  trialEnd?(summary: TrialSummary, info: { previousBest: number | null; isNewBest: boolean }): void;
  /** Ctrl+C was pressed once: the current trial finishes, then the run stops. */
  stopRequested?(): void;
  runEnd?(info: { reason: StopReason; trials: number; best: number | null; baseline: number | null }): void;
}
