import { mkdirSync } from 'node:fs';
import { MetricScanner } from '../runner/metric-scanner.js';
import { measureSubmission, type ExperimentResult } from '../runner/run-experiment.js';
import { withLeftoverJobs, type LeftoverJobs } from '../runner/leftover-jobs.js';
import type { ExecutionHandle } from '../runner/types.js';
import type { TrialNode } from '../store/fold-run.js';
import { sandboxedExecutor, slotSandbox } from '../sandbox/run-sandbox.js';
import { appendEvent } from '../store/ledger-events.js';
import { trialArtifactPath } from '../store/trial-artifacts.js';
import { reopenSlot } from '../workspace/reopen-slot.js';
import type { TrialSummary } from './events.js';
import { evaluateCommit, type CommittedTrial } from './evaluate-commit.js';
import type { ExperimentSlot } from './experiment-slot.js';
import type { RunContext, RunState } from './run-context.js';

/**
 * The result of trial `n`'s batch job, which a killed crucible left running in `slot`: waits for
 * the job to end (cancelling it at the experiment's timeout, as `measure` would), then judges the
 * output the job itself wrote. null when there is nothing trustworthy to adopt: the caller
 * measures the commit again, or records the trial interrupted.
 */
export async function adoptJob(ctx: RunContext, n: number, handle: ExecutionHandle, signal: AbortSignal, slot: ExperimentSlot = ctx.projectSlot): Promise<ExperimentResult | null> {
  const executor = sandboxedExecutor(ctx.executor, slot.sandbox);
  if (!executor.adopt) return null;
  mkdirSync(ctx.paths.trialDir(n), { recursive: true });
  const timeoutMs = ctx.config.constraints.timeout_seconds * 1000;
  const scanner = new MetricScanner(ctx.config.metric.name);
  const adopted = await executor.adopt(
    handle,
    {
      runCommand: ctx.config.commands.run,
      evalCommand: ctx.config.commands.eval,
      cwd: slot.dir,
      env: { ...ctx.experimentEnv, ...slot.env, CRUCIBLE_TRIAL: String(n), CRUCIBLE_TAG: ctx.tag },
      timeoutMs,
      logPath: trialArtifactPath(ctx.paths, n, 'run.log'),
      onEvalStdout: (chunk) => scanner.push(chunk),
      onJobState: (change) => appendEvent(ctx.ledger, { type: 'job.state', n, ...change }),
    },
    signal,
  );
  return adopted === null ? null : measureSubmission({ timeoutMs, metricName: ctx.config.metric.name, cwd: slot.dir }, adopted, scanner);
}

/**
 * Trial `t`'s first measurement was a batch job in slot `index` when crucible was killed. The slot
 * the killed run left (still holding the commit) is where the job ran: its result is adopted and
 * the trial decided there as if the run had never stopped (the protected files checked in that
 * slot, further runs of a repeat or a confirmation made there too). null, having changed nothing,
 * when the slot is gone or moved, or the job left nothing trustworthy: the caller cancels the job.
 */
export async function adoptSlotJob(ctx: RunContext, state: RunState, t: CommittedTrial, index: number, handle: ExecutionHandle, signal: AbortSignal): Promise<TrialSummary | null> {
  const folder = await reopenSlot({ projectDir: ctx.projectDir, index, commit: t.sha, shared: ctx.config.files.shared, env: ctx.experimentEnv });
  if (folder === null) return null;
  // The slot's experiments ran sandboxed exactly when the project's do (the same decision).
  const wrap = ctx.projectSlot.sandbox;
  const sandbox = wrap ? slotSandbox({ on: true, bwrap: wrap.bwrap, why: '' }, ctx.config.sandbox, { projectDir: ctx.projectDir, slotDir: folder.dir, env: ctx.experimentEnv }) : null;
  // CRUCIBLE_SLOT as the slot had it (with Slurm, the job's devices come from its own request).
  const slot: ExperimentSlot = { index, dir: folder.dir, env: { CRUCIBLE_SLOT: String(index) }, sandbox, folder };
  const adopted = await adoptJob(ctx, t.trial, handle, signal, slot);
  if (adopted === null) return null;
  return evaluateCommit(ctx, state, t, signal, slot, adopted);
}

/**
 * A slot trial's job can be adopted while it is its first measurement of the candidate: no run of
 * it was recorded done yet (the fold keeps no metric). After that come the confirmation's runs,
 * the incumbent's among them, whose results the ledger does not keep: their job is cancelled.
 */
export function slotJobAdoptable(node: Pick<TrialNode, 'metric'>): boolean {
  return node.metric === null;
}

/** The executor a recovery cancels through: each handle ended by its own kind, whatever executor.type says now. */
export function leftoverJobs(ctx: RunContext): LeftoverJobs {
  const usedSlurm = ctx.ledger.events().some((e) => e.type === 'run.start' && (e['handle'] as { executor?: unknown } | undefined)?.executor === 'slurm');
  return withLeftoverJobs(ctx.executor, { tag: ctx.tag, projectDir: ctx.projectDir, env: ctx.experimentEnv, usedSlurm });
}
