import { formatCrashReport } from './crash-report.js';
import { formatSeconds, localExecutor } from './execute.js';
import { evalTimeLimit } from './local-process.js';
import { MetricScanner } from './metric-scanner.js';
import { parseMetric, type MetricParse } from './parse-metric.js';
import type { ExecutionHandle, Executor, ExperimentRun, JobStateChange, RunResult } from './types.js';

/** One experiment: the run command, then the eval command, then its metric. */
export interface ExperimentOptions {
  runCommand: string;
  evalCommand: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Covers the run and eval commands together. */
  timeoutMs: number;
  metricName: string;
  /** Both commands' output is appended here. */
  logPath?: string;
  killGraceMs?: number;
  /** Called as each command starts (see RunSpec.onSpawn). */
  onSpawn?: (pgid: number, processTag: string) => void;
  /** Called as each command starts, with its handle (see RunSpec.onStart). */
  onStart?: (handle: ExecutionHandle) => void;
  signal?: AbortSignal;
  executor?: Executor;
  /** Called as a batch job's state changes (see ExperimentSpec.onJobState). */
  onJobState?: (change: JobStateChange) => void;
}

export interface ExperimentResult {
  run: RunResult;
  /** null when the run command failed, timed out or was canceled. */
  eval: RunResult | null;
  /** ok:false with the reason when there is no valid metric. */
  metric: MetricParse;
  durationMs: number;
  /** Why it crashed, for the console and the next prompt; '' when the metric is valid. */
  crashReport: string;
  /**
   * Set when the experiment never got a fair run (a batch job that never left the queue, lost its
   * node twice, or ended without running): an infrastructure failure, not the change's crash.
   */
  infrastructure?: string;
  /** Time a batch job waited in the queue: not part of durationMs. */
  queuedMs?: number;
}

function tooSlow(timeoutMs: number): string {
  return `timed out after ${formatSeconds(timeoutMs)} — the change made the experiment too slow`;
}

function describeFailure(which: 'run' | 'eval', result: RunResult, timeoutMs: number): string {
  if (result.timedOut) return tooSlow(timeoutMs);
  if (result.canceled) return `${which} command canceled`;
  if (result.signal !== null) return `${which} command killed by ${result.signal}`;
  if (result.exitCode !== null) return `${which} command exited with code ${String(result.exitCode)}`;
  return `${which} command failed: ${result.shortMessage}`;
}

function failedRun(result: RunResult): boolean {
  return result.exitCode !== 0 || result.timedOut || result.canceled;
}

/**
 * Runs one experiment and measures it. Never throws for anything the experiment does: a crash,
 * a timeout or a missing metric comes back as `metric.ok === false` with a crash report.
 */
export async function runExperiment(opts: ExperimentOptions): Promise<ExperimentResult> {
  const executor = opts.executor ?? localExecutor;
  const started = performance.now();
  const common = {
    cwd: opts.cwd,
    env: opts.env,
    ...(opts.logPath === undefined ? {} : { logPath: opts.logPath }),
    ...(opts.killGraceMs === undefined ? {} : { killGraceMs: opts.killGraceMs }),
    ...(opts.onSpawn === undefined ? {} : { onSpawn: opts.onSpawn }),
    ...(opts.onStart === undefined ? {} : { onStart: opts.onStart }),
  };
  // The metric is read as the output streams: the first matching line wins however much follows,
  // while the captured stdout is only a tail, kept for the crash report.
  const scanner = new MetricScanner(opts.metricName);

  if (executor.runExperiment) {
    const submitted = await executor.runExperiment(
      {
        ...common,
        runCommand: opts.runCommand,
        evalCommand: opts.evalCommand,
        timeoutMs: opts.timeoutMs,
        onEvalStdout: (chunk) => scanner.push(chunk),
        ...(opts.onJobState ? { onJobState: opts.onJobState } : {}),
      },
      opts.signal,
    );
    // null: not this way here (see runSandboxedExperiment); the commands run one by one below.
    if (submitted !== null) return measureSubmission(opts, submitted, scanner);
  }

  const run = await executor.run({ ...common, command: opts.runCommand, timeoutMs: opts.timeoutMs }, opts.signal);
  if (failedRun(run)) {
    const headline = describeFailure('run', run, opts.timeoutMs);
    return { run, eval: null, metric: { ok: false, reason: headline }, durationMs: performance.now() - started, crashReport: formatCrashReport(headline, run) };
  }

  const evalResult = await executor.run(
    { ...common, command: opts.evalCommand, timeoutMs: evalTimeLimit(opts.timeoutMs, performance.now() - started), onStdout: (chunk) => scanner.push(chunk) },
    opts.signal,
  );
  return judge(opts, run, evalResult, scanner, performance.now() - started);
}

/**
 * An experiment run as one submission (a batch job): judged like a local one, on the output its
 * job wrote. Its experiment time is the job's, without the time it waited in the queue.
 */
export function measureSubmission(opts: Pick<ExperimentOptions, 'timeoutMs' | 'metricName' | 'cwd'>, submitted: ExperimentRun, scanner: MetricScanner): ExperimentResult {
  const durationMs = submitted.run.durationMs + (submitted.eval?.durationMs ?? 0);
  const extra = { ...(submitted.queuedMs !== undefined ? { queuedMs: submitted.queuedMs } : {}) };
  if (submitted.infrastructure !== undefined) {
    const headline = `infrastructure failure: ${submitted.infrastructure}`;
    return { run: submitted.run, eval: submitted.eval, metric: { ok: false, reason: headline }, durationMs, crashReport: formatCrashReport(headline, submitted.run), infrastructure: submitted.infrastructure, ...extra };
  }
  if (failedRun(submitted.run) || submitted.eval === null) {
    const headline = describeFailure('run', submitted.run, opts.timeoutMs);
    return { run: submitted.run, eval: null, metric: { ok: false, reason: headline }, durationMs, crashReport: formatCrashReport(headline, submitted.run), ...extra };
  }
  return { ...judge(opts, submitted.run, submitted.eval, scanner, durationMs), ...extra };
}

/** The metric of a finished eval, or why there is none. */
function judge(opts: Pick<ExperimentOptions, 'timeoutMs' | 'metricName' | 'cwd'>, run: RunResult, evalResult: RunResult, scanner: MetricScanner, durationMs: number): ExperimentResult {
  const finish = (metric: MetricParse, crashReport: string): ExperimentResult => ({ run, eval: evalResult, metric, durationMs, crashReport });
  // The evaluator's output explains its own failure; when it says nothing (a grep that found
  // no line), the run's output does.
  const evidence = {
    cwd: opts.cwd,
    stdout: evalResult.stdout.trim() === '' ? run.stdout : evalResult.stdout,
    stderr: evalResult.stderr.trim() === '' ? run.stderr : evalResult.stderr,
  };
  if (evalResult.timedOut || evalResult.canceled) {
    const headline = describeFailure('eval', evalResult, opts.timeoutMs);
    return finish({ ok: false, reason: headline }, formatCrashReport(headline, evidence));
  }

  // An executor that does not stream leaves its output whole.
  const metric = scanner.bytesSeen > 0 ? scanner.finish() : parseMetric(evalResult.stdout, opts.metricName);
  if (metric.ok) return finish(metric, '');
  // A non-zero exit with a metric line is fine (grep-like evals); without one it is the story.
  const headline =
    evalResult.exitCode === 0 ? metric.reason : `${describeFailure('eval', evalResult, opts.timeoutMs)}: ${metric.reason}`;
  return finish(metric, formatCrashReport(headline, evidence));
}
