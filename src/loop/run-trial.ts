import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Proposal } from '../agents/types.js';
import { AgentError, ProjectError } from '../errors.js';
import { assemblePrompt } from '../prompt/assemble-prompt.js';
import { formatMetric } from '../report/format.js';
import { writeTrialArtifact } from '../store/trial-artifacts.js';
import { applyChanges } from '../workspace/apply-changes.js';
import { checkChanges } from '../workspace/guard.js';
import { cleanDescription, describeDiff } from './clean-description.js';
import { evaluateCommit } from './evaluate-commit.js';
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
  const parent = state.head;
  ctx.ledger.append('trial.start', { n: trial, parent });
  ctx.reporter.trialStart?.(trial);
  if (state.worktreeAt !== parent) {
    await ctx.worktree.reset(parent);
    state.worktreeAt = parent;
  }

  const prompt = assemblePrompt({
    instructions: ctx.instructions,
    objective: ctx.config.metric,
    branch: ctx.branch,
    trial,
    files: ctx.config.files,
    history: state.history,
    includeHistory: ctx.config.agent.context_window.include_history,
    historyLimit: ctx.config.agent.context_window.history_limit,
    includeBest: ctx.config.agent.context_window.include_best,
    formatMetric,
  });
  const artifactDir = ctx.paths.trialDir(trial);
  mkdirSync(artifactDir, { recursive: true });
  await writeTrialArtifact(ctx.paths, trial, 'prompt.md', prompt);

  const voidTrial = (outcome: TrialSummary['outcome'], description: string, agentMs: number, detail?: string, costUsd: number | null = null): TrialSummary =>
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
      costUsd,
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
        workspace: { root: ctx.worktree.root, policy: ctx.policy },
        history: state.history.map((t) => ({ trial: t.trial, outcome: t.outcome, metric: t.metric, description: t.description, ...(t.detail ? { detail: t.detail } : {}) })),
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
    if (signals.hard.aborted) return voidTrial('stopped', 'stopped by the user during the agent turn', agentMs);
    const summary = voidTrial('agent-error', `agent error: ${error.message}`, agentMs, error.message);
    if (error.kind === 'fatal') throw new FatalAgentError(error, summary);
    return summary;
  }
  const agentMs = ctx.now() - agentStart;
  const costUsd = proposal.usage?.costUsd ?? null;
  if (signals.hard.aborted) return voidTrial('stopped', 'stopped by the user during the agent turn', agentMs, undefined, costUsd);

  const changes = await ctx.worktree.changes();
  const verdict = checkChanges(changes, ctx.policy);
  const rawDescription = cleanDescription(proposal.description);
  ctx.ledger.append('agent.done', { n: trial, description: rawDescription, files: changes.map((c) => c.path), usage: proposal.usage ?? null, ms: agentMs });
  ctx.reporter.agentDone?.(trial, { description: rawDescription, files: changes.map((c) => c.path), ms: agentMs });
  if (verdict.outcome !== 'ok') {
    ctx.ledger.append('guard', { n: trial, outcome: verdict.outcome, reason: verdict.reason });
    const outcome = verdict.outcome === 'skip' ? 'skip' : 'violation';
    return voidTrial(outcome, rawDescription || (outcome === 'skip' ? 'no edit' : 'forbidden edit'), agentMs, verdict.reason, costUsd);
  }

  const files = verdict.files;
  // An untracked file of the user's, or an edit the user made since crucible last wrote the file,
  // is never overwritten: the trial becomes a violation (new file) or the run stops (edit).
  const previousContent = new Map<string, string | null>();
  for (const file of files) {
    const current = hashFile(path.join(ctx.projectDir, file));
    const known = state.knownContent.get(file);
    const change = changes.find((c) => c.path === file);
    if (known !== undefined && known !== current) {
      throw new ProjectError(`${file} was changed outside crucible while the run was going on; commit or undo that change, then run again`);
    }
    if (known === undefined && change?.kind === 'added' && current !== null) {
      ctx.ledger.append('guard', { n: trial, outcome: 'violation', reason: `${file} exists in the project but not in git` });
      return voidTrial('violation', rawDescription || 'new file', agentMs, `${file} already exists in the project as a file that is not in git; crucible will not overwrite it. Choose another name.`, costUsd);
    }
    previousContent.set(file, current);
  }
  ctx.ledger.append('guard', { n: trial, outcome: 'ok', files });

  const diff = await ctx.worktree.diff(files);
  await writeTrialArtifact(ctx.paths, trial, 'diff.patch', diff);
  const description = rawDescription || describeDiff(files, diff);

  ctx.ledger.append('apply', { n: trial, files, parent });
  ctx.ledger.sync();
  await applyChanges(ctx.projectDir, ctx.worktree.root, changes.filter((c) => files.includes(c.path)));
  const sha = await ctx.git.commitFiles(files, `${description}\n\ncrucible-run: ${ctx.tag}\ncrucible-trial: ${trial}\n`);
  ctx.ledger.append('commit', { n: trial, sha, parent });
  ctx.ledger.sync();
  for (const file of files) state.knownContent.set(file, hashFile(path.join(ctx.projectDir, file)));
  // The worktree holds the committed content; after a keep only its HEAD must move.
  return evaluateCommit(ctx, state, { trial, sha, parent, description, files, agentMs, costUsd, startedAt, previousContent }, signals.hard);
}

export function hashFile(file: string): string | null {
  try {
    return createHash('sha1').update(readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}
