import { loadConfig } from '../../config/load.js';
import type { AgentType } from '../../config/schema.js';
import { ConfigError, ExitCode, ExitError } from '../../errors.js';
import { listForkCandidates } from '../../loop/fork.js';
import { startRun } from '../../loop/start-run.js';
import type { StopReason } from '../../loop/stop-rules.js';
import { checkTag, runPaths } from '../../store/run-paths.js';
import { createGit } from '../../workspace/git.js';
import { isInsideRepo } from '../../workspace/project-git.js';
import { chooseFork } from '../fork-menu.js';
import type { Output } from '../output.js';
import { chooseRunReporter } from '../run-reporter.js';

export interface RunCommandOptions {
  projectDir: string;
  tag: string;
  maxIterations?: number | undefined;
  agent?: AgentType | undefined;
  agentTimeoutSeconds?: number | undefined;
  model?: string | undefined;
  interactive: boolean;
  fork?: string | undefined;
  workers?: number | undefined;
  /** Every event as a JSON line on stdout. */
  json?: boolean;
}

export async function runCommand(options: RunCommandOptions, plainOut: Output): Promise<void> {
  let out = plainOut;
  runPaths(options.projectDir, options.tag); // validates the tag before anything else
  if (options.fork !== undefined) checkTag(options.fork);
  const loaded = loadConfig(options.projectDir);
  if (!loaded.ok) throw new ConfigError(loaded.errors);
  const config = loaded.config;
  let forkFrom: string | null = options.fork ?? null;
  if (forkFrom === null && options.interactive && !(await runExists(options.projectDir, `${config.git.branch_prefix}/${options.tag}`))) {
    const candidates = await listForkCandidates(options.projectDir, config.metric.direction, options.tag);
    if (candidates.length > 0) forkFrom = await chooseFork(candidates, config.metric.name, out);
  }

  // Ctrl+C once: finish the trial in progress, then stop. Twice (or SIGTERM): stop now.
  const stop = new AbortController();
  const abort = new AbortController();
  const shown = chooseRunReporter(out, {
    json: options.json ?? false,
    metricName: config.metric.name,
    direction: config.metric.direction,
    agentTimeoutSeconds: options.agentTimeoutSeconds ?? config.agent.timeout_seconds,
    experimentTimeoutSeconds: config.constraints.timeout_seconds,
    terminal: Boolean(process.stdout.isTTY && process.stderr.isTTY) && process.env['TERM'] !== 'dumb',
  });
  const reporter = shown.reporter;
  out = shown.out;
  const onInterrupt = (): void => {
    if (!stop.signal.aborted) {
      stop.abort();
      reporter.stopRequested?.();
    } else if (!abort.signal.aborted) {
      out.info(out.style.yellow('Stopping now: the trial in progress is reverted and recorded as stopped (Ctrl+C again kills crucible).'));
      abort.abort();
      // A third Ctrl+C gets Node's default: the process dies, and the next run recovers from the ledger.
      process.off('SIGINT', onInterrupt);
    }
  };
  const onTerminate = (): void => {
    stop.abort();
    abort.abort();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onTerminate);
  try {
    const report = await startRun({
      projectDir: options.projectDir,
      tag: options.tag,
      ...(options.agent ? { agentType: options.agent } : {}),
      ...(options.agentTimeoutSeconds ? { agentTimeoutSeconds: options.agentTimeoutSeconds } : {}),
      ...(options.maxIterations ? { maxIterations: options.maxIterations } : {}),
      ...(options.workers ? { workers: options.workers } : {}),
      ...(options.model ? { model: options.model } : {}),
      forkFrom,
      reporter,
      stopSignal: stop.signal,
      abortSignal: abort.signal,
    });
    const code = exitCodeFor(report.reason);
    if (code !== ExitCode.ok) throw new ExitError(code);
  } finally {
    shown.close();
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onTerminate);
  }
}

function exitCodeFor(reason: StopReason): number {
  switch (reason.kind) {
    case 'interrupted':
      return ExitCode.interrupted;
    case 'baseline-failed':
      return ExitCode.failure;
    case 'agent-fatal':
      return ExitCode.agent;
    case 'max-iterations':
    case 'max-retries':
    case 'strategy':
    case 'budget':
      return ExitCode.ok;
  }
}

async function runExists(projectDir: string, branch: string): Promise<boolean> {
  if (!(await isInsideRepo(projectDir))) return false;
  return createGit(projectDir).branchExists(branch);
}
