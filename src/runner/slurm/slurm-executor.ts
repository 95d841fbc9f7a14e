import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SlurmSettings } from '../../config/schema.js';
import { ProjectError } from '../../errors.js';
import { isSecretName } from '../environment.js';
import { spawnArgs } from '../spawn-args.js';
import type { ExecutionHandle, ExperimentRun, ExperimentSpec, Executor, RunResult, RunSpec } from '../types.js';
import { buildJobScript, jobName, timeLimit } from './job-script.js';
import { classifyState } from './job-state.js';
import { appendJobLog, readJobOutcome, type JobEnding } from './job-output.js';
import { cancelJob, queryJob, runSlurmCommand } from './slurm-commands.js';

const defaultMaxCapture = 256 * 1024;
// After scancel, how long to wait for Slurm to say the job ended (its processes get KillWait).
const endWaitMs = 60_000;
// sbatch's words for a controller that is busy or restarting, as opposed to a job it refuses.
const transient = /unable to contact slurm controller|socket timed out|temporarily unable|try again|connection refused/i;

export interface SlurmExecutorOptions {
  settings: SlurmSettings;
  projectDir: string;
  tag: string;
  /** crucible's own environment: how the Slurm commands reach the cluster (SLURM_CONF, SBATCH_*). */
  env: NodeJS.ProcessEnv;
}

interface Submission {
  jobId: string;
  name: string;
  dir: string;
}

/** Where a job ended up, as crucible watched it. */
interface Watched {
  state: string;
  timedOut: boolean;
  canceled: boolean;
  queueTimedOut: boolean;
  lostNode: boolean;
  queuedMs: number;
  observedMs: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function emptyResult(command: string, cwd: string, shortMessage: string, extra: Partial<RunResult> = {}): RunResult {
  return { command, cwd, exitCode: null, signal: null, timedOut: false, canceled: false, durationMs: 0, stdout: '', stderr: '', shortMessage, pgid: null, processTag: null, ...extra };
}

/** Streams a file to `onChunk` in pieces: the metric scanner reads all of it, however long. */
function streamFile(file: string, onChunk: (chunk: Buffer) => void): void {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return;
  }
  try {
    const buffer = Buffer.alloc(64 * 1024);
    for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) onChunk(Buffer.from(buffer.subarray(0, n)));
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs each experiment as one Slurm batch job (see design/parallel-trials.md, Executors): submitted
 * with sbatch, polled with scontrol, cancelled with scancel at the timeout, on abort and by a later
 * run's recovery. What the experiment did is read from the files its job wrote, never from the state
 * Slurm reports: a job can end COMPLETED without having run.
 */
export function createSlurmExecutor(options: SlurmExecutorOptions): Executor {
  const { settings } = options;
  const pollMs = settings.poll_seconds * 1000;
  const queueTimeoutMs = settings.queue_timeout === null ? null : settings.queue_timeout * 1000;
  const sbatchEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
    // The job gets the experiment's environment (--export=ALL), plus what sbatch itself needs to
    // reach the cluster: SLURM_CONF and the user's SBATCH_* defaults (never a secret-looking name).
    const reach: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(options.env)) {
      if ((name === 'SLURM_CONF' || name.startsWith('SBATCH_')) && !isSecretName(name)) reach[name] = value;
    }
    return { ...reach, ...env };
  };

  async function submit(spec: ExperimentSpec, evalCommand: string | null, attempt: number): Promise<Submission | { problem: string }> {
    const trial = spec.env['CRUCIBLE_TRIAL'] ?? 'x';
    const name = jobName(options.tag, trial, options.projectDir);
    const base = spec.logPath === undefined ? path.join(options.projectDir, '.crucible', 'slurm') : path.dirname(spec.logPath);
    mkdirSync(base, { recursive: true });
    // A folder nobody used before: output left by an earlier job (a resumed run's, a resubmission's)
    // must never be read as this job's.
    const dir = mkdtempSync(path.join(base, `slurm-${String(attempt)}-`));
    const script = buildJobScript({
      name,
      setup: settings.setup,
      cwd: spec.cwd,
      dir,
      run: spawnArgs({ command: spec.runCommand, cwd: spec.cwd, ...(spec.sandbox ? { sandbox: spec.sandbox } : {}) }),
      eval: evalCommand === null ? null : spawnArgs({ command: evalCommand, cwd: spec.cwd, ...(spec.sandbox ? { sandbox: spec.sandbox } : {}) }),
    });
    const scriptPath = path.join(dir, 'job.sh');
    writeFileSync(scriptPath, script, { mode: 0o700 });
    const args = [
      '--parsable',
      `--job-name=${name}`,
      `--chdir=${spec.cwd}`,
      `--output=${path.join(dir, 'slurm.out')}`,
      `--time=${timeLimit(spec.timeoutMs)}`,
      '--export=ALL',
      // crucible resubmits itself (once, into a fresh folder): a job Slurm requeued would write
      // over the output of its first start.
      '--no-requeue',
      ...settings.sbatch_args,
      scriptPath,
    ];
    // A controller that is restarting refuses for a moment: tried again twice before giving up.
    let problem = '';
    for (const pause of [0, 2000, 5000]) {
      if (pause > 0) await sleep(pause);
      const out = await runSlurmCommand('sbatch', args, sbatchEnv(spec.env));
      const jobId = /^(\d+)/.exec(out.stdout.trim())?.[1];
      if (out.ok && jobId !== undefined) return { jobId, name, dir };
      problem = out.ok ? `sbatch printed no job id: ${out.stdout.trim()}` : out.problem;
      if (!transient.test(out.stderr)) break;
    }
    return { problem };
  }

  /** Polls the job until it ends, cancelling it at the queue timeout, the run timeout or on abort. */
  async function watch(job: Submission, spec: ExperimentSpec, signal: AbortSignal | undefined, startedAt: number | null): Promise<Watched> {
    const submitted = performance.now();
    let runningSince: number | null = null;
    let last = '';
    const w: Watched = { state: 'PENDING', timedOut: false, canceled: false, queueTimedOut: false, lostNode: false, queuedMs: 0, observedMs: 0 };
    let cancelAt: number | null = null;
    const cancel = async (): Promise<void> => {
      if (cancelAt !== null) return;
      cancelAt = performance.now();
      await cancelJob({ jobId: job.jobId }, options.env);
    };
    for (;;) {
      if (signal?.aborted && !w.canceled && !w.timedOut && !w.queueTimedOut) {
        w.canceled = true;
        await cancel();
      }
      const q = await queryJob(job.jobId, options.env);
      const now = performance.now();
      const state = q.kind === 'known' ? q.info.state : q.kind === 'gone' ? 'gone' : last || 'PENDING';
      if (state !== last && q.kind !== 'error') {
        last = state;
        spec.onJobState?.({ jobId: job.jobId, state });
      }
      w.state = state;
      const kind = state === 'gone' ? 'ended' : classifyState(state);
      if (kind === 'running' && runningSince === null) {
        // An adopted job may have been running before this crucible started: Slurm knows since when.
        const slurmStart = q.kind === 'known' && startedAt === null ? q.info.startTime : startedAt;
        runningSince = slurmStart !== null && slurmStart <= Date.now() ? now - (Date.now() - slurmStart) : now;
        w.queuedMs = Math.max(0, runningSince - submitted);
      }
      if (kind === 'ended' || kind === 'lost-node') {
        w.lostNode = kind === 'lost-node' && !w.canceled && !w.timedOut;
        if (kind === 'lost-node') await cancel();
        break;
      }
      if (cancelAt !== null && now - cancelAt > endWaitMs) break;
      if (kind === 'waiting' && runningSince === null && queueTimeoutMs !== null && now - submitted > queueTimeoutMs && cancelAt === null) {
        w.queueTimedOut = true;
        await cancel();
      }
      if (runningSince !== null && now - runningSince > spec.timeoutMs && cancelAt === null) {
        w.timedOut = true;
        await cancel();
      }
      const nextCheck = runningSince === null ? pollMs : Math.min(pollMs, Math.max(50, runningSince + spec.timeoutMs - now + 10));
      await sleep(cancelAt !== null ? Math.min(pollMs, 250) : nextCheck, cancelAt === null ? signal : undefined);
    }
    w.observedMs = runningSince === null ? 0 : performance.now() - runningSince;
    return w;
  }

  function settle(job: Submission, spec: ExperimentSpec, evalCommand: string | null, w: Watched): ExperimentRun {
    const ending: JobEnding = { state: w.state, timedOut: w.timedOut, canceled: w.canceled, timeoutMs: spec.timeoutMs, observedMs: w.observedMs };
    const outcome = readJobOutcome(job.dir, { run: spec.runCommand, eval: evalCommand, cwd: spec.cwd }, ending, defaultMaxCapture);
    if (spec.logPath !== undefined) appendJobLog(job.dir, spec.logPath);
    if (outcome.eval !== null && spec.onEvalStdout) streamFile(path.join(job.dir, 'eval.out'), spec.onEvalStdout);
    const queued = { queuedMs: w.queuedMs };
    if (w.queueTimedOut) {
      const waited = queueTimeoutMs === null ? '' : ` (executor.slurm.queue_timeout, ${String(queueTimeoutMs / 1000)}s)`;
      return { ...outcome, ...queued, infrastructure: `the Slurm job ${job.jobId} never left the queue${waited}: cancelled` };
    }
    if (outcome.notRun !== null) return { ...outcome, ...queued, infrastructure: outcome.notRun };
    return { run: outcome.run, eval: outcome.eval, ...queued };
  }

  async function runJob(spec: ExperimentSpec, evalCommand: string | null, signal?: AbortSignal): Promise<ExperimentRun> {
    if (signal?.aborted) return { run: emptyResult(spec.runCommand, spec.cwd, 'canceled', { canceled: true }), eval: null };
    let queuedMs = 0;
    for (let attempt = 1; ; attempt += 1) {
      const job = await submit(spec, evalCommand, attempt);
      if ('problem' in job) {
        // Not the change's failure, and not one that waiting fixes: every trial would fail the
        // same way, uncounted. The run stops with the line (the next run resumes the trial).
        throw new ProjectError(`sbatch refused the experiment's job: ${job.problem}`, {
          hints: ['Check executor.slurm.sbatch_args (partition, account, gres) and that the cluster answers: `crucible validate` submits a test job.'],
        });
      }
      // The job id reaches the ledger (through onStart) before anything waits on the job.
      spec.onStart?.({ executor: 'slurm', jobId: job.jobId, name: job.name, dir: job.dir });
      const w = await watch(job, spec, signal, null);
      queuedMs += w.queuedMs;
      if (w.lostNode && attempt === 1) continue;
      const result = settle(job, spec, evalCommand, { ...w, queuedMs });
      if (w.lostNode) return { ...result, infrastructure: `the Slurm job ${job.jobId} ended ${w.state} twice (node failure or preemption): not the change's failure` };
      return result;
    }
  }

  return {
    async run(spec: RunSpec, signal?: AbortSignal): Promise<RunResult> {
      const result = await runJob({ ...spec, runCommand: spec.command, evalCommand: '' }, null, signal);
      return result.infrastructure !== undefined && result.run.exitCode === null ? { ...result.run, shortMessage: result.infrastructure } : result.run;
    },
    runExperiment: (spec, signal) => runJob(spec, spec.evalCommand, signal),
    async cancel(handle: ExecutionHandle) {
      if (handle.executor !== 'slurm') return;
      if (handle.jobId !== '') await cancelJob({ jobId: handle.jobId }, options.env);
      if (handle.name !== '') await cancelJob({ name: handle.name }, options.env);
    },
    async adopt(handle, spec, signal) {
      if (handle.executor !== 'slurm' || handle.dir === '') return null;
      const job = { jobId: handle.jobId, name: handle.name, dir: handle.dir };
      const q = await queryJob(job.jobId, options.env);
      const startedAt = q.kind === 'known' ? q.info.startTime : null;
      const w = await watch(job, spec, signal, startedAt);
      if (w.lostNode || w.canceled) return null;
      const result = settle(job, spec, spec.evalCommand, w);
      // Only a finished experiment is adopted; anything less is measured again.
      if (result.infrastructure !== undefined) return null;
      return result;
    },
    orphanHandle: (trial) => ({ executor: 'slurm', jobId: '', name: jobName(options.tag, String(trial), options.projectDir), dir: '' }),
  };
}
