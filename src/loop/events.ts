import type { TrialSummary } from '../core/trial-record.js';
import type { StopReason } from './stop-rules.js';

export type { TrialSummary } from '../core/trial-record.js';

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
  /** `slot`: the experiment slot it runs in (0 = the project folder), where the caller knows it. */
  experimentStart?(trial: number, info: { commit: string; slot?: number }): void;
  /** The run command finished and the eval command started: the trial is being measured. */
  measureStart?(trial: number): void;
  trialEnd?(summary: TrialSummary, info: { previousBest: number | null; isNewBest: boolean }): void;
  /** Ctrl+C was pressed once: the current trial finishes, then the run stops. */
  stopRequested?(): void;
  runEnd?(info: { reason: StopReason; trials: number; best: number | null; baseline: number | null }): void;
}
