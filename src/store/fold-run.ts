import { findBestKept, type Direction } from '../core/objective.js';
import type { Outcome } from '../core/outcome.js';
import type { AgentUsage, TrialSummary } from '../core/trial-record.js';
import type { ExecutionHandle } from '../runner/types.js';
import type { LedgerEvent } from './ledger.js';
import type { RunEvent } from './ledger-events.js';
import { readRunEvent } from './read-event.js';

/**
 * Where a trial in flight has got to, by its last step in the ledger: the agent is at work (or
 * the guard), its change is committed and applied but not yet measured, its experiment runs,
 * or it is decided but not yet recorded.
 */
export type TrialPhase = 'agent' | 'committed' | 'running' | 'decided';

/** One trial of the run's tree. */
export interface TrialNode {
  trial: number;
  /** The commit the trial started from; null when the ledger lost its `trial.start`. */
  parent: string | null;
  /** The commit its change was measured on top of: its parent until trials are rebased. */
  base: string | null;
  baseline: boolean;
  finished: boolean;
  /** null once finished. */
  phase: TrialPhase | null;
  /** null until finished. */
  outcome: Outcome | null;
  metric: number | null;
  /** Full sha of the commit under test; "" when there is none (yet). */
  commit: string;
  description: string;
  agentMs: number;
  runMs: number;
  totalMs: number;
  costUsd: number | null;
  usage: AgentUsage | null;
  /** `trial.start`'s time; null when the ledger lost that event. */
  startedAt: string | null;
  /** When the trial was recorded (its results.tsv timestamp); null while in flight. */
  endedAt: string | null;
  /** The record as the ledger's `trial.end` holds it; null while in flight. */
  summary: TrialSummary | null;
  /** The handles of the experiment's commands while it runs (what `Executor.cancel` takes). */
  handles: readonly ExecutionHandle[];
}

export interface Session {
  startedAt: string;
  pid: number;
  agent: string;
  head: string;
  /** null for a session that never wrote its end (killed, or still running). */
  endedAt: string | null;
  reason: string | null;
}

/** What the ledger says about a run: a pure function of its events, whatever they are. */
export interface RunView {
  /** From `run.create`; null when the ledger does not have it. */
  created: { tag: string; branch: string; from: string; forkedFrom: { tag: string; commit: string } | null } | null;
  /** Every trial started or recorded, once each, by trial number. */
  trials: TrialNode[];
  /** The finished trials' records, by trial number. */
  history: TrialSummary[];
  /** Trials started and not recorded, by trial number. */
  inFlight: TrialNode[];
  /**
   * The best finished `keep` or `baseline` node (the earliest on a tie), which the run branch
   * points at; null when none is measured or no direction was given.
   */
  incumbent: TrialNode | null;
  sessions: Session[];
  /** The number the next trial gets: one more than any the ledger names. */
  nextTrial: number;
  /** Protected files a baseline found the experiment rewrites itself. */
  volatile: string[];
}

/**
 * The only events the fold reads of a trial that has ended: its start, its record, its volatile
 * files, and the run's own events (which name no trial, though a hand-edited one might). Any other
 * event whose `n` names an ended trial may be dropped before folding: the view is the same.
 */
export const READ_AFTER_END: ReadonlySet<string> = new Set(['trial.start', 'trial.end', 'protected.volatile', 'run.create', 'session.start', 'session.end', 'records.restored']);

/**
 * Folds a run's ledger into its state. Pure: no IO, no clock. Events of a type this crucible does
 * not know, or whose fields it cannot use, are skipped, never fatal; `direction` is needed only
 * for the incumbent.
 */
export function foldRun(events: readonly LedgerEvent[], options: { direction?: Direction } = {}): RunView {
  const nodes = new Map<number, TrialNode>();
  const sessions: Session[] = [];
  const volatile = new Set<string>();
  let created: RunView['created'] = null;
  let highest = -1;
  const nodeOf = (n: number): TrialNode => {
    let node = nodes.get(n);
    if (node === undefined) {
      node = emptyNode(n);
      nodes.set(n, node);
      if (n > highest) highest = n;
    }
    return node;
  };

  for (const raw of events) {
    const event = readRunEvent(raw);
    if (event === null) continue;
    if (!('n' in event)) {
      applyRunEvent(event);
      continue;
    }
    const node = nodeOf(event.n);
    if (event.type === 'trial.end') endTrial(node, event.summary, event.at ?? event.ts);
    else if (event.type === 'trial.start') startTrial(node, event.parent, event.baseline === true, event.ts);
    else if (!node.finished) advanceTrial(node, event);
    if (event.type === 'protected.volatile') for (const file of event.files) volatile.add(file);
  }

  const trials = [...nodes.values()].sort((a, b) => a.trial - b.trial);
  const finished = trials.filter((node) => node.finished);
  const direction = options.direction;
  return {
    created,
    trials,
    history: finished.map((node) => node.summary!),
    inFlight: trials.filter((node) => !node.finished),
    incumbent: direction === undefined ? null : (findBestKept(finished, direction, (node) => node.outcome) ?? null),
    sessions,
    nextTrial: highest + 1,
    volatile: [...volatile],
  };

  function applyRunEvent(event: Exclude<RunEvent, { n: number }>): void {
    switch (event.type) {
      case 'run.create':
        created ??= { tag: event.tag, branch: event.branch, from: event.from, forkedFrom: event.forkedFrom };
        return;
      case 'session.start':
        sessions.push({ startedAt: event.ts, pid: event.pid, agent: event.agent, head: event.head, endedAt: null, reason: null });
        return;
      case 'session.end': {
        const open = sessions.findLast((session) => session.endedAt === null);
        if (open) Object.assign(open, { endedAt: event.ts, reason: event.reason });
        return;
      }
      case 'records.restored':
        return;
    }
  }
}

function emptyNode(trial: number): TrialNode {
  return {
    trial,
    parent: null,
    base: null,
    baseline: false,
    finished: false,
    phase: 'agent',
    outcome: null,
    metric: null,
    commit: '',
    description: '',
    agentMs: 0,
    runMs: 0,
    totalMs: 0,
    costUsd: null,
    usage: null,
    startedAt: null,
    endedAt: null,
    summary: null,
    handles: NONE,
  };
}

// Shared by every node without a running experiment: a long run has thousands.
const NONE: readonly ExecutionHandle[] = Object.freeze([]);

// A second `trial.start` for one number (a hand-edited ledger) does not move the trial: the first wins.
function startTrial(node: TrialNode, parent: string, baseline: boolean, ts: string): void {
  if (node.startedAt !== null) return;
  node.startedAt = ts;
  node.parent = parent;
  node.base = parent;
  node.baseline = baseline;
  if (node.finished) return;
  // The baseline has no agent turn: the commit it measures is its parent, already there.
  if (baseline) {
    node.phase = 'committed';
    node.commit = parent;
  }
}

// The last `trial.end` of a trial is its record (a recovery may have completed an earlier one).
function endTrial(node: TrialNode, summary: TrialSummary, at: string): void {
  node.finished = true;
  node.phase = null;
  node.outcome = summary.outcome;
  node.metric = summary.metric;
  node.commit = summary.commit;
  node.description = summary.description;
  node.agentMs = summary.agentMs;
  node.runMs = summary.runMs;
  node.totalMs = summary.totalMs;
  node.costUsd = summary.costUsd;
  node.usage = summary.usage ?? null;
  node.endedAt = at;
  node.summary = summary;
  node.handles = NONE;
}

/** A step of a trial in flight: what it tells about where the trial is. */
function advanceTrial(node: TrialNode, event: Exclude<RunEvent, { type: 'trial.start' | 'trial.end' } | { n?: undefined }>): void {
  switch (event.type) {
    case 'agent.done':
      node.description = event.description;
      node.agentMs = event.ms;
      node.usage = event.usage;
      node.costUsd = event.usage?.costUsd ?? null;
      return;
    case 'agent.error':
      node.agentMs = event.ms;
      return;
    case 'commit':
    case 'apply':
      node.phase = 'committed';
      node.commit = event.sha;
      return;
    case 'run.start':
      node.phase = 'running';
      if (event.handle !== null) node.handles = [...node.handles, event.handle];
      return;
    case 'run.done':
      node.runMs = event.ms;
      node.metric = event.metric;
      return;
    case 'decide':
      node.phase = 'decided';
      node.handles = NONE;
      return;
    case 'reset':
    case 'guard':
    case 'tamper':
    case 'protected.volatile':
      return;
  }
}
