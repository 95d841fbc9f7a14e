import { findBestKept, type Direction } from '../core/objective.js';
import { noiseFloorOf, type NoiseFloor } from '../core/noise-floor.js';
import type { Outcome } from '../core/outcome.js';
import type { AgentUsage, TrialSummary } from '../core/trial-record.js';
import type { ExecutionHandle } from '../runner/types.js';
import type { LedgerEvent } from './ledger.js';
import type { RunEvent, TrialStartEvent } from './ledger-events.js';
import { readRunEvent } from './read-event.js';

/**
 * Where a trial in flight has got to, by its last step in the ledger: the agent is at work (or
 * the guard); its change is committed and waits for a slot (the baseline starts here); its
 * experiment runs; or it is decided but not yet recorded. A trial only moves forward: an event
 * that a later step makes stale (an `apply` after the decision, when the incumbent moves) does
 * not take it back.
 */
export type TrialPhase = 'agent' | 'queued' | 'running' | 'decided';
const PHASE_ORDER: Record<TrialPhase, number> = { agent: 0, queued: 1, running: 2, decided: 3 };

/** One trial of the run's tree. */
export interface TrialNode {
  trial: number;
  /** The commit the trial started from; null when the ledger lost its `trial.start`. */
  parent: string | null;
  /**
   * The commit its change sits on (and is measured on top of): its parent, or the incumbent it
   * was rebased onto (`commit.base`, `rebase.onto`, then the record's `base`).
   */
  base: string | null;
  baseline: boolean;
  /** The experiment slot (0 = the project folder); null until its experiment starts. */
  slot: number | null;
  /** The trial whose change this one measures again on a newer incumbent; null for most. */
  remeasureOf: number | null;
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
  /**
   * Its batch job while in flight (Slurm): id, last state, and since when it has had that state;
   * `queuedSince` is when it entered the queue (its submission), null once it runs. null when none.
   */
  job?: { id: string; state: string; since: string; queuedSince: string | null } | null;
  /** While in flight, the steps it has taken (what a recovery reconciles); null once recorded or before any. */
  steps?: TrialSteps | null;
}

/**
 * The steps of a trial in flight as the ledger recorded them: what a run killed at this instant
 * leaves for the next to reconcile (design/trial-lifecycle.md).
 */
export interface TrialSteps {
  /** The files its agent changed (`agent.done`). */
  files: string[];
  /** Its change's own commit: the `commit`, or the `rebase` that moved it onto the incumbent; "" before either. */
  change: string;
  /** The last `apply`: what the project folder was being moved to, and which files. */
  applied: { sha: string; files: string[] } | null;
  /** Every experiment command it started, in order (its own and, while confirming, its base's). */
  runs: { handle: ExecutionHandle | null; slot: number | null }[];
  /** The decision, once made (it is recorded next). */
  decision: { outcome: Outcome; metric: number | null; reason: string; crashReport: string | null } | null;
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
  /** Every trial started or recorded, once each, by trial number (whatever order they ended in). */
  trials: TrialNode[];
  /** The finished trials' records, by trial number. */
  history: TrialSummary[];
  /** Trials started and not recorded (several, interleaved, when trials run in parallel), by trial number. */
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
  /** The spread of the baseline's repeated measurements; null until a baseline with two or more is recorded. */
  noise: NoiseFloor | null;
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
    else if (event.type === 'trial.start') startTrial(node, event);
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
    noise: noiseFloorOf(finished.find((node) => node.outcome === 'baseline')?.summary),
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
    slot: null,
    remeasureOf: null,
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
    job: null,
    steps: null,
  };
}

function stepsOf(node: TrialNode): TrialSteps {
  node.steps ??= { files: [], change: '', applied: null, runs: [], decision: null };
  return node.steps;
}

// Shared by every node without a running experiment: a long run has thousands.
const NONE: readonly ExecutionHandle[] = Object.freeze([]);

// A second `trial.start` for one number (a hand-edited ledger) does not move the trial: the first wins.
function startTrial(node: TrialNode, event: TrialStartEvent): void {
  if (node.startedAt !== null) return;
  node.startedAt = event.ts;
  node.parent = event.parent;
  node.baseline = event.baseline === true;
  node.remeasureOf ??= event.remeasureOf ?? null;
  if (node.finished) {
    node.base = node.summary?.base ?? event.parent;
    return;
  }
  node.base = event.parent;
  // The baseline has no agent turn: the commit it measures is its parent, already there.
  if (node.baseline) {
    node.phase = 'queued';
    node.commit = event.parent;
  }
}

// The last `trial.end` of a trial is its record (a recovery may have completed an earlier one).
// Where the node came from (base, slot) is the record's word: the steps that said it in flight
// are not read once the trial has ended (READ_AFTER_END), so they cannot count here either.
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
  node.job = null;
  node.steps = null;
  node.parent ??= summary.parent ?? null;
  node.base = summary.base ?? node.parent;
  node.slot = summary.slot ?? null;
  if (summary.remeasureOf !== undefined) node.remeasureOf = summary.remeasureOf;
}

function advancePhase(node: TrialNode, phase: TrialPhase): void {
  if (node.phase === null || PHASE_ORDER[phase] > PHASE_ORDER[node.phase]) node.phase = phase;
}

/** A step of a trial in flight: what it tells about where the trial is. */
function advanceTrial(node: TrialNode, event: Exclude<RunEvent, { type: 'trial.start' | 'trial.end' } | { n?: undefined }>): void {
  switch (event.type) {
    case 'agent.done':
      node.description = event.description;
      node.agentMs = event.ms;
      node.usage = event.usage;
      node.costUsd = event.usage?.costUsd ?? null;
      stepsOf(node).files = event.files;
      return;
    case 'agent.error':
      node.agentMs = event.ms;
      return;
    case 'commit':
      advancePhase(node, 'queued');
      node.commit = event.sha;
      // An empty base or parent (a hand-edited line) says nothing.
      node.base = event.base || event.parent || node.base;
      stepsOf(node).change = event.sha;
      return;
    case 'rebase':
      advancePhase(node, 'queued');
      node.commit = event.sha;
      node.base = event.onto || node.base;
      stepsOf(node).change = event.sha;
      return;
    case 'queued':
      advancePhase(node, 'queued');
      return;
    case 'apply':
      // In the serial loop the project moves to the change before it is measured; with slots,
      // only a kept change moves it, after the decision: the phase stays where it is.
      advancePhase(node, 'queued');
      if (node.phase === 'queued') node.commit = event.sha;
      stepsOf(node).applied = { sha: event.sha, files: event.files };
      return;
    case 'run.start':
      advancePhase(node, 'running');
      if (event.handle !== null) node.handles = [...node.handles, event.handle];
      // A job is in the queue from its submission: the time until it runs is not experiment time.
      node.job = event.handle?.executor === 'slurm' ? { id: event.handle.jobId, state: 'PENDING', since: event.ts, queuedSince: event.ts } : null;
      if (event.slot !== undefined) node.slot = event.slot;
      stepsOf(node).runs.push({ handle: event.handle, slot: event.slot ?? null });
      return;
    case 'job.state':
      if (node.job && node.job.id === event.jobId && node.job.state !== event.state) {
        const queued = event.state === 'PENDING' || event.state === 'CONFIGURING';
        node.job = { id: event.jobId, state: event.state, since: event.ts, queuedSince: queued ? node.job.queuedSince : null };
      }
      return;
    case 'run.done':
      // The incumbent's runs beside a trial being confirmed say nothing of the trial's own metric.
      if (event.role === 'incumbent') return;
      node.runMs = event.ms;
      node.metric = event.metric;
      return;
    case 'decide':
      advancePhase(node, 'decided');
      node.handles = NONE;
      node.job = null;
      stepsOf(node).decision = { outcome: event.outcome, metric: event.metric, reason: event.reason, crashReport: event.crashReport ?? null };
      return;
    case 'reset':
    case 'guard':
    case 'tamper':
    case 'protected.volatile':
      return;
  }
}
