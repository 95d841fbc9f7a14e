import { mkdirSync } from 'node:fs';
import { MetricScanner } from '../runner/metric-scanner.js';
import { measureSubmission, type ExperimentResult } from '../runner/run-experiment.js';
import type { ExecutionHandle } from '../runner/types.js';
import { sandboxedExecutor } from '../sandbox/run-sandbox.js';
import { appendEvent } from '../store/ledger-events.js';
import { trialArtifactPath } from '../store/trial-artifacts.js';
import type { RunContext } from './run-context.js';

/**
 * The result of trial `n`'s batch job, which a killed crucible left in the project folder: waits
 * for the job to end (cancelling it at the experiment's timeout, as `measure` would), then judges
 * the output the job itself wrote. null when there is nothing trustworthy to adopt: the caller
 * measures the commit again.
 */
export async function adoptJob(ctx: RunContext, n: number, handle: ExecutionHandle, signal: AbortSignal): Promise<ExperimentResult | null> {
  const executor = sandboxedExecutor(ctx.executor, ctx.projectSlot.sandbox);
  if (!executor.adopt) return null;
  mkdirSync(ctx.paths.trialDir(n), { recursive: true });
  const timeoutMs = ctx.config.constraints.timeout_seconds * 1000;
  const scanner = new MetricScanner(ctx.config.metric.name);
  const adopted = await executor.adopt(
    handle,
    {
      runCommand: ctx.config.commands.run,
      evalCommand: ctx.config.commands.eval,
      cwd: ctx.projectSlot.dir,
      env: { ...ctx.experimentEnv, ...ctx.projectSlot.env, CRUCIBLE_TRIAL: String(n), CRUCIBLE_TAG: ctx.tag },
      timeoutMs,
      logPath: trialArtifactPath(ctx.paths, n, 'run.log'),
      onEvalStdout: (chunk) => scanner.push(chunk),
      onJobState: (change) => appendEvent(ctx.ledger, { type: 'job.state', n, ...change }),
    },
    signal,
  );
  return adopted === null ? null : measureSubmission({ timeoutMs, metricName: ctx.config.metric.name, cwd: ctx.projectSlot.dir }, adopted, scanner);
}
