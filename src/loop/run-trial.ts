import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { AgentUsage, Proposal } from '../agents/types.js';
import { AgentError, GitError, ProjectError } from '../errors.js';
import { agentViews } from '../prompt/agent-views.js';
import { assemblePrompt } from '../prompt/assemble-prompt.js';
import { formatMetric } from '../report/format.js';
import { writeTrialArtifact } from '../store/trial-artifacts.js';
import { checkChanges } from '../workspace/guard.js';
import { moveRunBranch } from '../workspace/run-branch.js';
import { diffTrialFiles } from '../workspace/trial-diff.js';
import { compactDiff } from '../workspace/unified-diff.js';
import { guardRunBranch } from './guard-run-branch.js';
import { cleanDescription, describeDiff } from './clean-description.js';
import { checkRecords } from './check-records.js';
import { evaluateCommit, unrestorableError } from './evaluate-commit.js';
import type { TrialSummary } from './events.js';
import { finishTrial } from './finish-trial.js';
import { propose } from './propose.js';
import type { RunContext, RunState } from './run-context.js';

export interface TrialSignals {
  /** Aborts the trial now (Ctrl+C twice, SIGTERM): the agent and the experiment are stopped. */
  hard: AbortSignal;
}

/** Raised when the agent can never work (bad command, bad credentials): the run must stop. */
export class FatalAgentError extends Error {
  constructor(readonly agentError: AgentError, readonly summary: TrialSummary) {
    super(agentError.message);
    this.name = 'FatalAgentError';
  }
}

/**
 * One trial: propose → guard → apply → commit → run → measure → decide → record. Each step's
 * ledger event is written before its side effect (see design/trial-lifecycle.md), so a run killed
 * at any instant can be reconciled by the next one.
 */
export async function runTrial(ctx: RunContext, state: RunState, trial: number, signals: TrialSignals): Promise<TrialSummary> {
  const startedAt = ctx.now();
  const parent = ctx.strategy.chooseParent({ incumbent: state.head, trials: state.history });
  // The run branch is a chain: a change is applied on top of where the branch is. A strategy that
  // starts elsewhere (restart, beam, tree) needs the branch moved there first, which this loop
  // does not do yet.
  if (parent !== state.head) throw new Error(`strategy ${ctx.strategy.name} chose ${parent}, not the incumbent ${state.head}: not supported yet`);
  ctx.ledger.append('trial.start', { n: trial, parent });
  ctx.reporter.trialStart?.(trial);
  if (state.worktreeAt !== parent) {
    await ctx.worktree.reset(parent);
    state.worktreeAt = parent;
  }

  // Crash reports and descriptions can quote hidden files: agents get them redacted.
  const history = agentViews(state.history, ctx.hiddenText.redact);
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
  });
  const artifactDir = ctx.paths.trialDir(trial);
  mkdirSync(artifactDir, { recursive: true });
  await writeTrialArtifact(ctx.paths, trial, 'prompt.md', prompt);

  const voidTrial = (outcome: TrialSummary['outcome'], description: string, agentMs: number, detail?: string, usage: AgentUsage | null = null): TrialSummary =>
    finishTrial(ctx, state, {
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
    });

  // The agent: from here on its worktree may hold anything.
  state.worktreeAt = null;
  const agentStart = ctx.now();
  let proposal: Proposal;
  try {
    proposal = await propose(
      ctx.agent,
      {
        trial,
        prompt,
        systemPrompt: ctx.systemPrompt,
        workspace: { root: ctx.worktree.root, policy: ctx.policy, agentGitDir: ctx.worktree.agentGitDir },
        history,
        objective: ctx.config.metric,
        agentConfig: { ...ctx.config.agent, timeout_seconds: ctx.agentTimeoutMs / 1000 },
        artifactDir,
      },
      {
        timeoutMs: ctx.agentTimeoutMs,
        signal: signals.hard,
        onRetry: (attempt, error, delayMs) => ctx.reporter.warning?.(`agent: ${error.message}; retry ${attempt} in ${Math.round(delayMs / 1000)}s`),
      },
    );
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    const agentMs = ctx.now() - agentStart;
    ctx.ledger.append('agent.error', { n: trial, kind: error.kind, message: error.message, ms: agentMs });
    if (signals.hard.aborted) return voidTrial('stopped', 'stopped by the user during the agent turn', agentMs, undefined, error.usage ?? null);
    const summary = voidTrial('agent-error', `agent error: ${error.message}`, agentMs, error.message, error.usage ?? null);
    if (error.kind === 'fatal') throw new FatalAgentError(error, summary);
    return summary;
  }
  const agentMs = ctx.now() - agentStart;
  const usage = proposal.usage ?? null;
  checkRecords(ctx, `during trial ${trial}'s agent turn`);
  // A shell agent (or anything else on the machine) may have written the harness, the config or
  // the instructions by absolute path: put them back and count the trial as a violation.
  const touched = ctx.protectedFiles.changed();
  if (touched.length > 0) {
    const unrestored = await ctx.protectedFiles.restore(touched);
    ctx.ledger.append('tamper', { n: trial, files: touched, unrestored, during: 'agent' });
    const detail = `${touched.join(', ')} changed during the agent's turn (hidden, read-only or the evaluation's own files); ${unrestored.length === 0 ? 'restored' : `${unrestored.join(', ')} cannot be restored (not in git)`}`;
    const summary = voidTrial('violation', cleanDescription(proposal.description) || 'changed protected files', agentMs, detail, usage);
    if (unrestored.length > 0) throw unrestorableError(trial, unrestored);
    return summary;
  }
  if (signals.hard.aborted) return voidTrial('stopped', 'stopped by the user during the agent turn', agentMs, undefined, usage);

  const changes = await ctx.worktree.changes();
  const verdict = checkChanges(changes, ctx.policy);
  const rawDescription = cleanDescription(proposal.description);
  ctx.ledger.append('agent.done', { n: trial, description: rawDescription, files: changes.map((c) => c.path), usage: proposal.usage ?? null, ms: agentMs });
  ctx.reporter.agentDone?.(trial, { description: rawDescription, files: changes.map((c) => c.path), ms: agentMs });
  if (verdict.outcome !== 'ok') {
    ctx.ledger.append('guard', { n: trial, outcome: verdict.outcome, reason: verdict.reason });
    const outcome = verdict.outcome === 'skip' ? 'skip' : 'violation';
    return voidTrial(outcome, rawDescription || (outcome === 'skip' ? 'no edit' : 'forbidden edit'), agentMs, verdict.reason, usage);
  }

  const files = verdict.files;
  const changeOf = new Map(changes.map((c) => [c.path, c]));
  // A file the agent adds must not land on an untracked file of the user's.
  const clash = files.find((file) => changeOf.get(file)?.kind === 'added' && existsSync(path.join(ctx.projectDir, file)));
  if (clash) {
    const reason = `${clash} already exists in the project as a file that is not in git; crucible will not overwrite it. Choose another name.`;
    ctx.ledger.append('guard', { n: trial, outcome: 'violation', reason });
    return voidTrial('violation', rawDescription || 'new file', agentMs, reason, usage);
  }
  ctx.ledger.append('guard', { n: trial, outcome: 'ok', files });

  const diff = diffTrialFiles(files, ctx.projectDir, ctx.worktree.root);
  await writeTrialArtifact(ctx.paths, trial, 'diff.patch', diff);
  const description = rawDescription || describeDiff(files, diff);
  const shortDiff = compactDiff(diff);

  // The commit is made in the agent's worktree; until the branch points at it the project is
  // untouched. A two-way read-tree then moves the branch and the editable files together, and
  // refuses (changing nothing) if the user has edited one of those files meanwhile.
  const sha = await ctx.worktree.commit(files, `${description}\n\ncrucible-run: ${ctx.tag}\ncrucible-trial: ${trial}\n`);
  state.worktreeAt = sha;
  try {
    // Whatever happened in the project during the agent's turn, crucible moves nothing unless
    // the repository is where it left it.
    await guardRunBranch(ctx, state, `during trial ${trial}`);
  } catch (error) {
    voidTrial('interrupted', description, agentMs, error instanceof Error ? error.message : String(error), usage);
    throw error;
  }
  ctx.ledger.append('commit', { n: trial, sha, parent });
  ctx.ledger.append('apply', { n: trial, sha, files });
  ctx.ledger.sync();
  try {
    await moveRunBranch(ctx.git, ctx.branch, parent, sha);
    state.head = sha;
  } catch (error) {
    if (!(error instanceof GitError)) throw error;
    const reason = error.stderr.trim().split('\n')[0] ?? 'git read-tree failed';
    voidTrial('interrupted', description, agentMs, `could not apply the change to the project: ${reason}`, usage);
    if (error.lockFile !== null) throw error; // a stale index.lock has its own hint
    throw new ProjectError(`cannot apply trial ${trial} to the project: ${reason}`, {
      hints: ['An editable file was probably changed outside crucible during the run. Commit or undo that change, then run again.'],
    });
  }
  return evaluateCommit(ctx, state, { trial, sha, parent, description, files, agentMs, usage, startedAt, diff: shortDiff }, signals.hard);
}
