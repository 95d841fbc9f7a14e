import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type SlurmSettings } from '../../src/config/schema.js';
import { runExperiment } from '../../src/runner/run-experiment.js';
import { createSlurmExecutor } from '../../src/runner/slurm/slurm-executor.js';
import type { ExecutionHandle, JobStateChange } from '../../src/runner/types.js';
import { slurmSkipReason, startSlurmCluster, type SlurmCluster } from '../helpers/slurm-cluster.js';

/**
 * The Slurm executor against a real single-node cluster (started once for the file): one job per
 * experiment, outputs kept apart, the job's own files as the only evidence, scancel at the
 * timeout, on abort and at the queue timeout.
 */
let cluster: SlurmCluster;
let work: string;

const settingsOf = (slurm: Partial<SlurmSettings> = {}): SlurmSettings =>
  configSchema.parse({ name: 'x', files: { editable: ['a'] }, commands: { run: 'true', eval: 'true' }, metric: { name: 'm', direction: 'minimize' }, constraints: {}, executor: { type: 'slurm', slurm: { poll_seconds: 0.2, ...slurm } } })
    .executor.slurm;

function experiment(run: string, evalCommand: string, opts: { slurm?: Partial<SlurmSettings>; timeoutMs?: number; signal?: AbortSignal; trial?: string } = {}) {
  const handles: ExecutionHandle[] = [];
  const states: JobStateChange[] = [];
  const executor = createSlurmExecutor({ settings: settingsOf(opts.slurm), projectDir: work, tag: 't1', env: cluster.env });
  const result = runExperiment({
    runCommand: run,
    evalCommand,
    cwd: work,
    env: { PATH: process.env['PATH'], SLURM_CONF: cluster.env['SLURM_CONF'], CRUCIBLE_TRIAL: opts.trial ?? '1' },
    timeoutMs: opts.timeoutMs ?? 20_000,
    metricName: 'score',
    logPath: path.join(work, `run-${String(Math.random()).slice(2)}.log`),
    executor,
    onStart: (h) => handles.push(h),
    onJobState: (s) => states.push(s),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { result, handles, states };
}

const squeueIds = (): string[] => execFileSync('squeue', ['-h', '-o', '%i'], { env: cluster.env, encoding: 'utf8' }).split('\n').filter(Boolean);

describe(`the Slurm executor${slurmSkipReason}`, () => {
  beforeAll(() => {
    if (slurmSkipReason) return;
    cluster = startSlurmCluster();
    work = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-slurm-work-')));
  }, 90_000);
  afterAll(() => {
    cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it.skipIf(slurmSkipReason !== '')('runs run and eval in one job, their outputs apart, the metric from the eval output', async () => {
    const { result, handles, states } = experiment('echo score: 99; echo training > train.txt; echo run-err >&2', 'echo "score: $(cat train.txt | wc -c)"');
    const r = await result;
    expect(r.metric).toMatchObject({ ok: true, value: 9 });
    expect(r.run.stdout).toBe('score: 99\n');
    expect(r.run.stderr).toBe('run-err\n');
    expect(r.eval?.stdout).toBe('score: 9\n');
    expect(handles).toHaveLength(1);
    expect(handles[0]).toMatchObject({ executor: 'slurm', jobId: expect.stringMatching(/^\d+$/), name: expect.stringMatching(/^crucible-t1-1-[0-9a-f]{8}$/) });
    expect(states.map((s) => s.state)).toContain('COMPLETED');
  });

  it.skipIf(slurmSkipReason !== '')('a failing job is a crash of the run command with its own output', async () => {
    const r = await experiment('echo boom >&2; exit 3', 'echo score: 1').result;
    expect(r.metric.ok).toBe(false);
    expect(r.run.exitCode).toBe(3);
    expect(r.eval).toBeNull();
    expect(r.infrastructure).toBeUndefined();
    expect(r.crashReport).toContain('run command exited with code 3');
    expect(r.crashReport).toContain('boom');
  });

  it.skipIf(slurmSkipReason !== '')('a job that ends COMPLETED without running the experiment is not trusted', async () => {
    // The cgroup pitfall: Slurm says COMPLETED, exit 0, and nothing ran. A setup line that exits does the same.
    const { result, states } = experiment('echo score: 1', 'echo score: 1', { slurm: { setup: ['exit 0'] } });
    const r = await result;
    expect(states.at(-1)?.state).toBe('COMPLETED');
    expect(r.metric.ok).toBe(false);
    expect(r.infrastructure, JSON.stringify(r)).toMatch(/ended COMPLETED without running the experiment/);
  });

  it.skipIf(slurmSkipReason !== '')('cancels the job at the timeout (scancel), counting only the time it ran', async () => {
    const started = Date.now();
    const { result, handles } = experiment('sleep 60', 'echo score: 1', { timeoutMs: 1500 });
    const r = await result;
    expect(r.run.timedOut).toBe(true);
    expect(r.crashReport).toMatch(/timed out after 1.5s/);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(squeueIds()).not.toContain(handles[0]!.executor === 'slurm' ? handles[0]!.jobId : '');
  });

  it.skipIf(slurmSkipReason !== '')('cancels a job that never leaves the queue: an infrastructure failure, not a crash', async () => {
    const { result, handles, states } = experiment('echo score: 1', 'echo score: 1', { slurm: { sbatch_args: ['--begin=now+1hour'], queue_timeout: 1 } });
    const r = await result;
    expect(r.infrastructure).toMatch(/never left the queue/);
    expect(states[0]?.state).toBe('PENDING');
    expect(r.durationMs).toBe(0);
    expect(squeueIds()).not.toContain(handles[0]!.executor === 'slurm' ? handles[0]!.jobId : '');
  });

  it.skipIf(slurmSkipReason !== '')('Ctrl+C twice (the abort signal) cancels the job', async () => {
    const abort = new AbortController();
    const { result, handles } = experiment('sleep 60', 'echo score: 1', { signal: abort.signal });
    while (handles.length === 0) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 500));
    abort.abort();
    const r = await result;
    expect(r.run.canceled).toBe(true);
    expect(squeueIds()).toEqual([]);
  });

  it.skipIf(slurmSkipReason !== '')('writes the trial log with both commands\' output', async () => {
    const logPath = path.join(work, 'trial.log');
    const executor = createSlurmExecutor({ settings: settingsOf(), projectDir: work, tag: 't1', env: cluster.env });
    await runExperiment({ runCommand: 'echo from-run', evalCommand: 'echo score: 2', cwd: work, env: { PATH: process.env['PATH'], SLURM_CONF: cluster.env['SLURM_CONF'] }, timeoutMs: 20_000, metricName: 'score', logPath, executor });
    const log = readFileSync(logPath, 'utf8');
    expect(log).toContain('from-run');
    expect(log).toContain('score: 2');
  });

  // Last: it takes the node down and brings it back.
  it.skipIf(slurmSkipReason !== '')('a job that loses its node (NODE_FAIL) is submitted again once, into a fresh folder', async () => {
    const { result, handles, states } = experiment('sleep 2; echo ran', 'echo score: 5');
    while (!states.some((s) => s.state === 'RUNNING')) await new Promise((r) => setTimeout(r, 50));
    const scontrol = (...args: string[]) => execFileSync('scontrol', args, { env: cluster.env });
    scontrol('update', 'nodename=node1', 'state=down', 'reason=crucible-test');
    while (handles.length < 2) await new Promise((r) => setTimeout(r, 50));
    try {
      scontrol('update', 'nodename=node1', 'state=resume');
    } catch {
      // back already: slurmd registered again (ReturnToService=2)
    }
    const r = await result;
    expect(states.map((s) => s.state)).toContain('NODE_FAIL');
    expect(handles).toHaveLength(2);
    const dirs = handles.map((h) => (h.executor === 'slurm' ? h.dir : ''));
    expect(dirs[0]).not.toBe(dirs[1]);
    expect(r.metric).toMatchObject({ ok: true, value: 5 });
  }, 40_000);
});
