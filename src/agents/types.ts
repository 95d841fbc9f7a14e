import type { AccessPolicy } from '../workspace/access-policy.js';
import type { Config, Objective } from '../config/schema.js';
import type { Outcome } from '../core/outcome.js';
import type { AgentUsage } from '../core/trial-record.js';

export type { AgentUsage } from '../core/trial-record.js';

/** A past trial of this run, as agents see it. */
export interface TrialView {
  trial: number;
  outcome: Outcome;
  metric: number | null;
  description: string;
  /** Why it failed, for the next prompt: the crash report, the violation, the agent's error. */
  detail?: string;
  /** The change itself, compacted (changed lines only, bounded), when it made one. */
  diff?: string;
}

/**
 * A trial proposed (its agent turn done) and not yet decided: committed, waiting for a slot,
 * running, or being rebased. Texts are redacted of hidden text like `TrialView`'s.
 */
export interface InFlightTrial {
  trial: number;
  description: string;
  /** Project-relative paths the change touches. */
  files: readonly string[];
  /** The change, compacted like `TrialView.diff`, when the caller has it. */
  diff?: string;
}

/** The folder the agent edits: a git worktree of the run branch without the hidden files. */
export interface AgentWorkspace {
  root: string;
  policy: AccessPolicy;
  /** Where a command agent's own git repository goes: crucible's, outside `root` and the project. */
  agentGitDir?: string;
}

export interface ProposalRequest {
  /** Trial number, 1-based (0 is the baseline, which no agent proposes). */
  trial: number;
  prompt: string;
  systemPrompt: string;
  workspace: AgentWorkspace;
  /** This run's finished trials, oldest first (by trial number), the baseline included. */
  history: readonly TrialView[];
  /**
   * Trials proposed and not yet decided, by trial number (absent or empty when none). With several
   * proposals in flight, `propose` may be called again on the same backend before an earlier
   * call has returned; each call has its own workspace.
   */
  inFlight?: readonly InFlightTrial[];
  objective: Objective;
  agentConfig: Config['agent'];
  /** A folder for this trial's agent artefacts (transcript, output). Exists when propose is called. */
  artifactDir: string;
}

export interface Proposal {
  /** One line saying what changed; the loop cleans it and falls back to the diff when empty. */
  description: string;
  usage?: AgentUsage;
  /** Path of a transcript the backend wrote, when it wrote one. */
  transcriptPath?: string;
  /**
   * The files (relative to the workspace root) that crucible's own in-process code wrote and
   * nothing else did: the offline tuner. The loop then skips the worktree scan (one git process
   * per trial) and commits exactly these paths, still checked against the access policy. A
   * backend that runs anything else in the workspace (a command, a model's tool calls) must
   * leave this unset: its changes are read from git, never taken from its word.
   */
  writtenFiles?: readonly string[];
}

/**
 * An agent edits files inside `request.workspace.root` and says in one line what it did. Which
 * files changed is read from git afterwards, never taken from the agent's word. It rejects with
 * `AgentError` when it cannot propose; it must stop promptly when `signal` aborts.
 */
export interface AgentBackend {
  readonly name: string;
  /**
   * True when propose() never reads `request.prompt` (the offline tuner): the loop then neither
   * assembles the prompt nor writes it to the trial's prompt.md, which cost a growing share of a
   * trial as the history grew.
   */
  readonly ignoresPrompt?: boolean;
  propose(request: ProposalRequest, signal: AbortSignal): Promise<Proposal>;
  /**
   * Checked once before the first trial: credentials present, endpoint reachable, SDK installed.
   * Rejects with AgentError('fatal', <what to fix>) when the backend cannot work; a transient
   * problem (rate limit, overload) is not a reason to refuse.
   */
  preflight?(signal: AbortSignal): Promise<void>;
}
