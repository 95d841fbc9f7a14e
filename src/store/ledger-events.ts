import type { Outcome } from '../core/outcome.js';
import type { AgentUsage, TrialSummary } from '../core/trial-record.js';
import type { ExecutionHandle } from '../runner/types.js';
import type { Ledger } from './ledger.js';

/**
 * The events the loop writes to `ledger.jsonl`, one definition each (design/trial-lifecycle.md
 * says when). Fields marked optional were added later or are absent from some writers: a ledger
 * of an older crucible, or one edited by hand, must still read.
 */
interface Stamp {
  v: 1;
  ts: string;
}

/** A new run: its branch made from `from` (the commit a fork starts from, else HEAD). */
export interface RunCreateEvent extends Stamp {
  type: 'run.create';
  tag: string;
  branch: string;
  from: string;
  forkedFrom: { tag: string; commit: string } | null;
}
/** A `crucible run` opened the run (first or resumed); `head` is where the branch was. */
export interface SessionStartEvent extends Stamp {
  type: 'session.start';
  pid: number;
  agent: string;
  head: string;
}
/** That `crucible run` stopped: why, and how many trials it counted. */
export interface SessionEndEvent extends Stamp {
  type: 'session.end';
  reason: string;
  trials: number;
}
/**
 * Step 1: trial `n` starts from `parent`; the baseline measures `parent` itself. Numbers are given
 * when a proposal starts, so several trials may be in flight, their events interleaved.
 * `remeasureOf` names the trial whose promising change, measured on an outdated base, this one
 * measures again on the incumbent.
 */
export interface TrialStartEvent extends Stamp {
  type: 'trial.start';
  n: number;
  parent: string;
  baseline?: boolean;
  remeasureOf?: number;
}
export interface AgentDoneEvent extends Stamp {
  type: 'agent.done';
  n: number;
  description: string;
  files: string[];
  usage: AgentUsage | null;
  ms: number;
}
export interface AgentErrorEvent extends Stamp {
  type: 'agent.error';
  n: number;
  kind: string;
  message: string;
  ms: number;
}
/** The guard's verdict on the agent's change: `ok` goes on with `files`; the others end the trial. */
export interface GuardEvent extends Stamp {
  type: 'guard';
  n: number;
  outcome: 'ok' | 'skip' | 'violation';
  reason?: string;
  files?: string[];
}
/**
 * The agent's change committed (in its worktree) as `sha`. `base` is the commit it sits on: its
 * `parent`, unless it was rebased onto a newer incumbent (absent from older ledgers: `parent`).
 */
export interface CommitEvent extends Stamp {
  type: 'commit';
  n: number;
  sha: string;
  parent: string;
  base?: string;
}
/** The incumbent moved while the agent worked: the change was rebased onto `onto`, giving `sha`. */
export interface RebaseEvent extends Stamp {
  type: 'rebase';
  n: number;
  onto: string;
  sha: string;
}
/** Committed, waiting for a free slot (written only when it has to wait). */
export interface QueuedEvent extends Stamp {
  type: 'queued';
  n: number;
}
/** The run branch, and the editable files with it, about to move to `sha`. */
export interface ApplyEvent extends Stamp {
  type: 'apply';
  n: number;
  sha: string;
  files: string[];
  /**
   * Where the move starts when that is not the commit `sha` was made on: a trial not kept, whose
   * way back this move takes with it (decisions 71). Said for whoever reads the ledger; nothing folds it.
   */
  from?: string;
}
/**
 * A command of the experiment started on `sha` (one for run, one for eval), with the handle its
 * executor gave; older ledgers have only a local `pgid` (and `processTag`), read as a local handle.
 * `slot`: 0 is the project folder (one worker), 1..N `.crucible/slots/<k>`; absent before slots.
 */
export interface RunStartEvent extends Stamp {
  type: 'run.start';
  n: number;
  sha: string;
  handle: ExecutionHandle | null;
  slot?: number;
  pgid?: number | null;
  processTag?: string;
  /** Set when the commit measured is not the trial's own: the incumbent, run beside it while confirming. */
  role?: 'incumbent';
}
/**
 * A batch job's state changed (PENDING, RUNNING, ...): `status` shows how long a job has waited
 * in the queue. `jobId` is the one the latest `run.start` names.
 */
export interface JobStateEvent extends Stamp {
  type: 'job.state';
  n: number;
  jobId: string;
  state: string;
}
export interface RunDoneEvent extends Stamp {
  type: 'run.done';
  n: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  metric: number | null;
  reason: string | null;
  ms: number;
  /** Every value of this measurement's runs (evaluation.repeats, baseline_repeats); `metric` is their aggregate. */
  samples?: number[];
  /** The incumbent's run beside the trial while confirming: its value is the incumbent's, not the trial's. */
  role?: 'incumbent';
}
/** The decision, `best` being the best before it. */
export interface DecideEvent extends Stamp {
  type: 'decide';
  n: number;
  outcome: Outcome;
  metric: number | null;
  best: number | null;
  reason: string;
  crashReport?: string;
}
/** A change not kept: the branch (and the agent's worktree) back to `to`. */
export interface ResetEvent extends Stamp {
  type: 'reset';
  n: number;
  to: string;
}
/**
 * The trial's record; `at` is its results.tsv timestamp (absent from older ledgers: `ts` then).
 * Trials end in the order their results arrive, not by number. The summary names `parent`,
 * `base`, `slot` and `remeasureOf` where the writer knew them.
 */
export interface TrialEndEvent extends Stamp {
  type: 'trial.end';
  n: number;
  summary: TrialSummary;
  at?: string;
}
/** Protected files changed during the agent's turn or the experiment, and put back (or not). */
export interface TamperEvent extends Stamp {
  type: 'tamper';
  n: number;
  files: string[];
  unrestored: string[];
  during: string;
}
/** Protected files the unmodified experiment rewrites itself: not watched from then on. */
export interface ProtectedVolatileEvent extends Stamp {
  type: 'protected.volatile';
  n: number;
  files: string[];
}
/** Records (ledger, results.tsv, locks) someone else changed, put back from memory. */
export interface RecordsRestoredEvent extends Stamp {
  type: 'records.restored';
  files: string[];
  during: string;
}

export type RunEvent =
  | RunCreateEvent
  | SessionStartEvent
  | SessionEndEvent
  | TrialStartEvent
  | AgentDoneEvent
  | AgentErrorEvent
  | GuardEvent
  | CommitEvent
  | RebaseEvent
  | QueuedEvent
  | ApplyEvent
  | RunStartEvent
  | JobStateEvent
  | RunDoneEvent
  | DecideEvent
  | ResetEvent
  | TrialEndEvent
  | TamperEvent
  | ProtectedVolatileEvent
  | RecordsRestoredEvent;

export type RunEventType = RunEvent['type'];
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;
/** What a writer gives: the ledger adds `v` and `ts`. */
export type NewRunEvent = RunEvent extends infer E ? (E extends RunEvent ? Omit<E, 'v' | 'ts'> : never) : never;

/** Appends a typed event (the typed twin of `ledger.append`). */
export function appendEvent<E extends NewRunEvent>(ledger: Pick<Ledger, 'append'>, event: E): E & Stamp {
  const { type, ...fields } = event;
  return ledger.append(type, fields) as unknown as E & Stamp;
}
