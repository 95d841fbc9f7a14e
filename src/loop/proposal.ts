import { existsSync, mkdirSync } from 'node:fs';
import { appendEvent } from '../store/ledger-events.js';
import path from 'node:path';
import type { AgentUsage, InFlightTrial, Proposal, TrialView } from '../agents/types.js';
import type { AgentWorktree } from '../workspace/agent-worktree.js';
import { AgentError } from '../errors.js';
import { sortedAgentViews } from '../prompt/agent-views.js';
import { assemblePrompt } from '../prompt/assemble-prompt.js';
import { formatMetric } from '../report/format.js';
import { noiseFloorOf } from '../core/noise-floor.js';
import { lineage, siblingsTried } from '../core/trial-tree.js';
import type { NodeView, StartNode } from '../prompt/start-node-section.js';
import { writeTrialArtifact } from '../store/trial-artifacts.js';
import { checkChanges } from '../workspace/guard.js';
import { diffTrialFiles } from '../workspace/trial-diff.js';
import { compactDiff } from '../workspace/unified-diff.js';
import { guardRunBranch } from './guard-run-branch.js';
import { cleanDescription, describeDiff } from './clean-description.js';
import { checkRecords } from './check-records.js';
import { unrestorableError, type CommittedTrial } from './evaluate-commit.js';
import type { TrialSummary } from './events.js';
import { finishTrial } from './finish-trial.js';
import { propose } from './propose.js';
import type { RunContext, RunState } from './run-context.js';
import { nodeMetric } from './strategy.js';

/** One of the run's agent worktrees, and the commit it is known to be clean at (null: the agent may have touched it). */
export interface AgentLane {
  readonly worktree: AgentWorktree;
  at: string | null;
}

/** Raised when the agent can never work (bad command, bad credentials): the run must stop. */
export class FatalAgentError extends Error {
  constructor(readonly agentError: AgentError, readonly summary: TrialSummary) {
    super(agentError.message);
    this.name = 'FatalAgentError';
  }
}

/** A proposal under way: its trial number, where it starts, its prompt and its lane. */
export interface StartedProposal {
  trial: number;
  parent: string;
  /** The parent's metric (the incumbent's when the proposal started). */
  parentMetric: number | null;
  startedAt: number;
  prompt: string;
  history: readonly TrialView[];
  lane: AgentLane;
}

export type AgentTurn = { ok: true; proposal: Proposal; agentMs: number } | { ok: false; error: AgentError; agentMs: number };

/** What settling a proposal gives: a trial ended without an experiment, or a commit to measure. */
export type SettledProposal = { kind: 'ended'; summary: TrialSummary } | { kind: 'committed'; trial: CommittedTrial };

/**
 * Step 1 of a trial (see design/trial-lifecycle.md): the trial number is given and written when
 * the proposal starts; the lane's worktree is put at the parent; the prompt is written.
 */
export async function beginProposal(
  ctx: RunContext,
  state: RunState,
  lane: AgentLane,
  trial: number,
  inFlight: readonly InFlightTrial[],
  inFlightParents: readonly string[] = [],
): Promise<StartedProposal> {
  const startedAt = ctx.now();
  const choice = ctx.strategy.choose({ incumbent: state.incumbent, trials: state.history, inFlightParents });
  const parent = choice.parent;
  // The node's own metric is the bar its children must beat (greedy: the incumbent's, the best).
  const parentMetric = parent === state.incumbent ? state.best : (nodeMetric(state.history, parent) ?? state.best);
  appendEvent(ctx.ledger, { type: 'trial.start', n: trial, parent });
  ctx.reporter.trialStart?.(trial);
  if (lane.at !== parent) {
    // lane.at, when set: committed there, no agent turn since.
    await lane.worktree.reset(parent, lane.at ?? undefined);
    lane.at = parent;
  } else await lane.worktree.settle();
  // Crash reports and descriptions can quote hidden files: agents get them redacted.
  const history = sortedAgentViews(state.history, ctx.hiddenText.redact);
  mkdirSync(ctx.paths.trialDir(trial), { recursive: true });
  if (ctx.agent.ignoresPrompt === true) return { trial, parent, parentMetric, startedAt, prompt: '', history, lane };
  const prompt = assemblePrompt({
    instructions: ctx.instructions,
    objective: ctx.config.metric,
    branch: ctx.branch,
    trial,
    files: ctx.config.files,
    history,
    includeHistory: ctx.config.agent.context_window.include_history,
    historyLimit: ctx.config.agent.context_window.history_limit,
    includeBest: ctx.config.agent.context_window.include_best,
    formatMetric,
    noise: noiseFloorOf(state.history.find((s) => s.outcome === 'baseline')),
    ...(parent !== state.incumbent ? { startNode: startNodeOf(state.history, parent, ctx.hiddenText.redact) } : {}),
    ...(inFlight.length > 0 ? { inFlight } : {}),
  });
  writeTrialArtifact(ctx.paths, trial, 'prompt.md', prompt);
  return { trial, parent, parentMetric, startedAt, prompt, history, lane };
}

/** The prompt's view of where a proposal starts that a strategy sent elsewhere than the best node. */
function startNodeOf(history: readonly TrialSummary[], commit: string, redact: (text: string) => string): StartNode {
  const view = (t: TrialSummary): NodeView => ({ trial: t.trial, outcome: t.outcome, metric: t.metric, description: redact(t.description) });
  return { lineage: lineage(history, commit).map(view), siblings: siblingsTried(history, commit).map(view) };
}

/** Step 2, the agent's turn: runs beside experiments and other proposals; touches only its lane. */
export async function runAgentTurn(ctx: RunContext, p: StartedProposal, signal: AbortSignal, inFlight: readonly InFlightTrial[]): Promise<AgentTurn> {
  // From here on its worktree may hold anything.
  p.lane.at = null;
  const agentStart = ctx.now();
  try {
    const proposal = await propose(
      ctx.agent,
      {
        trial: p.trial,
        prompt: p.prompt,
        systemPrompt: ctx.systemPrompt,
        workspace: { root: p.lane.worktree.root, policy: ctx.policy, agentGitDir: p.lane.worktree.agentGitDir },
        history: p.history,
        objective: ctx.config.metric,
        agentConfig: { ...ctx.config.agent, timeout_seconds: ctx.agentTimeoutMs / 1000 },
        artifactDir: ctx.paths.trialDir(p.trial),
        ...(inFlight.length > 0 ? { inFlight } : {}),
      },
      {
        timeoutMs: ctx.agentTimeoutMs,
        signal,
        onRetry: (attempt, error, delayMs) => ctx.reporter.warning?.(`agent: ${error.message}; retry ${attempt} in ${Math.round(delayMs / 1000)}s`),
      },
    );
    return { ok: true, proposal, agentMs: ctx.now() - agentStart };
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    return { ok: false, error, agentMs: ctx.now() - agentStart };
  }
}

/**
 * Steps 3 and 4: what the agent's turn gave is checked (records, protected files, the guard, the
 * run branch) and committed in its worktree. Nothing in the project changes here: the commit
 * reaches a slot (and, with one worker, the project folder) when an experiment starts on it.
 */
export async function settleProposal(ctx: RunContext, state: RunState, p: StartedProposal, turn: AgentTurn, signal: AbortSignal): Promise<SettledProposal> {
  const { trial, parent, startedAt } = p;
  const voidTrial = (outcome: TrialSummary['outcome'], description: string, agentMs: number, detail?: string, usage: AgentUsage | null = null): SettledProposal => ({
    kind: 'ended',
    summary: finishTrial(ctx, state, {
      trial,
      outcome,
      metric: null,
      description,
      commit: '',
      files: [],
      ...(detail ? { detail } : {}),
      best: state.best,
      agentMs,
      runMs: 0,
      totalMs: ctx.now() - startedAt,
      costUsd: usage?.costUsd ?? null,
      usage,
      parent,
    }),
  });

  if (!turn.ok) {
    const { error, agentMs } = turn;
    appendEvent(ctx.ledger, { type: 'agent.error', n: trial, kind: error.kind, message: error.message, ms: agentMs });
    if (signal.aborted) return voidTrial('stopped', 'stopped by the user during the agent turn', agentMs, undefined, error.usage ?? null);
    const ended = voidTrial('agent-error', `agent error: ${error.message}`, agentMs, error.message, error.usage ?? null);
    if (error.kind === 'fatal' && ended.kind === 'ended') throw new FatalAgentError(error, ended.summary);
    return ended;
  }
  const { proposal, agentMs } = turn;
  const usage = proposal.usage ?? null;
  checkRecords(ctx, `during trial ${trial}'s agent turn`);
  // A shell agent (or anything else on the machine) may have written the harness, the config or
  // the instructions by absolute path: put them back and count the trial as a violation. While an
  // experiment runs in the project folder, its own check after it finishes covers this window
  // (whoever wrote, that experiment's result is not trusted).
  const touched = state.projectBusy ? [] : ctx.protectedFiles.changed();
  if (touched.length > 0) {
    const unrestored = await ctx.protectedFiles.restore(touched);
    appendEvent(ctx.ledger, { type: 'tamper', n: trial, files: touched, unrestored, during: 'agent' });
    const detail = `${touched.join(', ')} changed during the agent's turn (hidden, read-only or the evaluation's own files); ${unrestored.length === 0 ? 'restored' : `${unrestored.join(', ')} cannot be restored (not in git)`}`;
    const ended = voidTrial('violation', cleanDescription(proposal.description) || 'changed protected files', agentMs, detail, usage);
    if (unrestored.length > 0) throw unrestorableError(trial, unrestored);
    return ended;
  }
  if (signal.aborted) return voidTrial('stopped', 'stopped by the user during the agent turn', agentMs, undefined, usage);

  const worktree = p.lane.worktree;
  // The tuner says which files it wrote (nothing else runs in its worktree): no git scan.
  const changes = proposal.writtenFiles !== undefined ? await worktree.declaredChanges(proposal.writtenFiles) : await worktree.changes();
  const verdict = checkChanges(changes, ctx.policy);
  const rawDescription = cleanDescription(proposal.description);
  appendEvent(ctx.ledger, { type: 'agent.done', n: trial, description: rawDescription, files: changes.map((c) => c.path), usage: proposal.usage ?? null, ms: agentMs });
  ctx.reporter.agentDone?.(trial, { description: rawDescription, files: changes.map((c) => c.path), ms: agentMs });
  if (verdict.outcome !== 'ok') {
    appendEvent(ctx.ledger, { type: 'guard', n: trial, outcome: verdict.outcome, reason: verdict.reason });
    const outcome = verdict.outcome === 'skip' ? 'skip' : 'violation';
    return voidTrial(outcome, rawDescription || (outcome === 'skip' ? 'no edit' : 'forbidden edit'), agentMs, verdict.reason, usage);
  }

  const files = verdict.files;
  const changeOf = new Map(changes.map((c) => [c.path, c]));
  // The project folder holds the trial's parent unless an experiment runs there or it holds another
  // commit (trials in flight): then the parent is read from git, and a file there may be crucible's.
  const projectAtParent = state.head === parent && !state.projectBusy;
  // A file the agent adds must not land on an untracked file of the user's.
  const clash = await findAsync(
    files,
    async (file) => changeOf.get(file)?.kind === 'added' && existsSync(path.join(ctx.projectDir, file)) && (projectAtParent || !(await worktree.holds(state.head, file))),
  );
  if (clash) {
    const reason = `${clash} already exists in the project as a file that is not in git; crucible will not overwrite it. Choose another name.`;
    appendEvent(ctx.ledger, { type: 'guard', n: trial, outcome: 'violation', reason });
    return voidTrial('violation', rawDescription || 'new file', agentMs, reason, usage);
  }
  appendEvent(ctx.ledger, { type: 'guard', n: trial, outcome: 'ok', files });

  const before = projectAtParent ? ctx.projectDir : await worktree.filesAt(parent, files);
  const diff = before !== null ? diffTrialFiles(files, before, worktree.root) : await worktree.diff(files);
  const description = rawDescription || describeDiff(files, diff);

  // The commit is made in the agent's worktree; until the branch points at it the project is untouched.
  const committing = worktree.commit(files, `${description}\n\ncrucible-run: ${ctx.tag}\ncrucible-trial: ${trial}\n`);
  // Written while the commit's objects are flushed to disk, which this thread only waits for.
  try {
    writeTrialArtifact(ctx.paths, trial, 'diff.patch', diff);
  } catch (error) {
    await committing.catch(() => undefined);
    throw error;
  }
  const sha = await committing;
  p.lane.at = sha;
  try {
    // Whatever happened in the project during the agent's turn, crucible moves nothing unless
    // the repository is where it left it.
    await guardRunBranch(ctx, state, `during trial ${trial}`);
  } catch (error) {
    voidTrial('interrupted', description, agentMs, error instanceof Error ? error.message : String(error), usage);
    throw error;
  }
  appendEvent(ctx.ledger, { type: 'commit', n: trial, sha, parent, base: parent });
  return {
    kind: 'committed',
    trial: { trial, sha, parent, base: parent, baseMetric: p.parentMetric, description, files, agentMs, usage, startedAt, diff: compactDiff(diff) },
  };
}

/** The first of `items` that `test` holds for, tested one at a time in order. */
async function findAsync<T>(items: readonly T[], test: (item: T) => Promise<boolean>): Promise<T | undefined> {
  for (const item of items) if (await test(item)) return item;
  return undefined;
}
