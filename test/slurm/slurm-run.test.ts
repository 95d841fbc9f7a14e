import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { git } from '../helpers/git-repo.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { checkCliBuilt, createTinyProject, experimentPids, ledgerEvents, resultRows, runCli, setKnob, startCli, waitUntil, type TinyProject } from '../helpers/project.js';
import { slurmSkipReason, startSlurmCluster, type SlurmCluster } from '../helpers/slurm-cluster.js';

/**
 * Whole `crucible run`s with `executor: slurm` against a real single-node cluster (started once
 * for the file): jobs in flight side by side, `status` showing them, and a crucible SIGKILLed with
 * a job in flight whose result the next run adopts.
 */
let cluster: SlurmCluster;
const projects: TinyProject[] = [];

function slurmProject(workers: number): TinyProject {
  const config = [
    'name: tiny',
    'files:',
    '  editable: [solution.js]',
    '  readonly: [package.json]',
    '  hidden: [evaluate.js]',
    'commands:',
    '  run: node evaluate.js > run.log 2>&1',
    '  eval: cat run.log',
    'metric:',
    '  name: score',
    '  direction: maximize',
    'constraints:',
    '  timeout_seconds: 20',
    '  max_retries: 10',
    'agent:',
    '  type: tuner',
    `parallel: { workers: ${workers} }`,
    'executor:',
    '  type: slurm',
    '  slurm:',
    '    poll_seconds: 0.2',
    '    setup: ["export FROM_SETUP=1"]',
    '',
  ].join('\n');
  const project = createTinyProject({ configText: config });
  projects.push(project);
  return project;
}

const env = (): NodeJS.ProcessEnv => ({ SLURM_CONF: cluster.env['SLURM_CONF'] });
const squeue = (): string => execFileSync('squeue', ['-h', '-o', '%i %j %T'], { env: cluster.env, encoding: 'utf8' });

describe(`crucible run on Slurm${slurmSkipReason}`, () => {
  beforeAll(() => {
    if (slurmSkipReason) return;
    checkCliBuilt();
    cluster = startSlurmCluster();
  }, 90_000);
  afterAll(() => {
    for (const project of projects) project.cleanup();
    cluster?.stop();
  });
  afterEach(() => {
    if (!slurmSkipReason) execFileSync('scancel', ['--user=root'], { env: cluster.env });
  });

  it.skipIf(slurmSkipReason !== '')('runs two jobs in flight, each trial measured from its own job; status shows the jobs', async () => {
    const project = slurmProject(2);
    setKnob(project, 'sleep-ms', 1200);
    const cli = startCli(project, ['run', '--tag', 's', '-n', '4'], { env: env(), timeoutMs: 90_000 });
    await waitUntil(() => ledgerEvents(project.dir, 's').some((e) => e.type === 'job.state' && e['state'] === 'RUNNING' && e.n !== 0), 'a trial job running', 40_000);
    const status = await runCli(project, ['status', '--tag', 's'], { env: env() });
    expect(status.stdout).toMatch(/job \d+ (PENDING|RUNNING|COMPLETED)/);
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(0);

    const rows = resultRows(project.dir, 's');
    // Baseline and four trials, plus any re-measurement of a change measured on an outdated base.
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect(rows.filter((r) => r['status'] === 'crash' || r['status'] === 'interrupted')).toEqual([]);
    const events = ledgerEvents(project.dir, 's');
    const starts = events.filter((e) => e.type === 'run.start');
    expect(starts.every((e) => (e['handle'] as { executor: string }).executor === 'slurm')).toBe(true);
    // Two experiments at once: some job was RUNNING while another trial's job was too.
    let running = 0;
    let most = 0;
    for (const e of events) {
      if (e.type === 'job.state' && e['state'] === 'RUNNING') most = Math.max(most, (running += 1));
      if (e.type === 'run.done') running -= 1;
    }
    expect(most).toBe(2);
    expect(squeue().trim()).toBe('');
  }, 120_000);

  it.skipIf(slurmSkipReason !== '')('validate submits a job that writes into the project folder, then runs the experiment as a job', async () => {
    const project = slurmProject(1);
    const ok = await runCli(project, ['validate'], { env: env(), timeoutMs: 60_000 });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/Slurm.*sinfo answers: partitions debug/);
    expect(ok.stdout).toMatch(/Slurm job.*wrote into the project folder/);
    expect(ok.stdout).toMatch(/score: 1/);
    const noSlurm = await runCli(project, ['validate'], { env: { PATH: '/nonexistent' }, timeoutMs: 60_000 });
    expect(noSlurm.code).not.toBe(0);
    expect(noSlurm.stdout + noSlurm.stderr).toMatch(/sinfo cannot reach the cluster: sinfo not found .*set SLURM_CONF/);
    expect(noSlurm.stdout + noSlurm.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);

  it.skipIf(slurmSkipReason !== '')('a job sbatch refuses stops the run with one line (exit 4), and validate says the same', async () => {
    const project = slurmProject(1);
    const config = `${project.dir}/.crucible/config.yaml`;
    writeFileSync(config, readFileSync(config, 'utf8').replace('    poll_seconds: 0.2', '    poll_seconds: 0.2\n    sbatch_args: ["--partition=nosuchpartition"]'));
    git(project.dir, 'commit', '-qam', 'a partition that does not exist');
    const run = await runCli(project, ['run', '--tag', 'p', '-n', '1'], { env: env(), timeoutMs: 60_000 });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/error: sbatch refused the experiment's job: .*(partition|Invalid)/i);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    const validate = await runCli(project, ['validate'], { env: env(), timeoutMs: 60_000 });
    expect(validate.code).toBe(1);
    expect(validate.stdout + validate.stderr).toMatch(/Slurm job.*sbatch refused/);
  }, 60_000);

  it.skipIf(slurmSkipReason !== '')('SIGTERM (shutdown) cancels the jobs in flight before crucible exits', async () => {
    const project = slurmProject(2);
    const first = await runCli(project, ['run', '--tag', 'q', '-n', '1'], { env: env(), timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    setKnob(project, 'sleep-ms', 30_000);
    const cli = startCli(project, ['run', '--tag', 'q', '-n', '2'], { env: env(), timeoutMs: 60_000 });
    await waitUntil(() => (squeue().match(/RUNNING/g) ?? []).length === 2, 'two jobs running', 30_000);
    cli.child.kill('SIGTERM');
    const result = await cli.done;
    expect(result.code).toBe(130);
    expect(squeue().trim()).toBe('');
    const rows = resultRows(project.dir, 'q').filter((r) => Number(r['trial']) > 1);
    expect(rows.map((r) => r['status']).sort()).toEqual(['stopped', 'stopped']);
  }, 90_000);

  it.skipIf(slurmSkipReason !== '')('after a SIGKILL with a job in flight, the next run adopts its result instead of running it again', async () => {
    const project = slurmProject(1);
    const first = await runCli(project, ['run', '--tag', 'k', '-n', '1'], { env: env(), timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    setKnob(project, 'sleep-ms', 1500);
    const killed = await runCli(project, ['run', '--tag', 'k', '-n', '1'], { env: { ...env(), CRUCIBLE_FAULT_KILL_AFTER: 'run.start:2' }, timeoutMs: 60_000 });
    expect(killed.signal).toBe('SIGKILL');
    // The job outlives crucible.
    expect(squeue()).toMatch(/crucible-k-2-/);

    const resumed = await runCli(project, ['run', '--tag', 'k', '-n', '1'], { env: env(), timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout + resumed.stderr).toMatch(/trial 2.*adopted/);
    const events = ledgerEvents(project.dir, 'k');
    expect(events.filter((e) => e.type === 'run.start' && e.n === 2)).toHaveLength(1);
    const row = resultRows(project.dir, 'k').find((r) => r['trial'] === '2');
    expect(row?.['status']).toMatch(/keep|discard/);
    // Trial 2's experiment ran once: in the job the killed run submitted.
    expect(experimentPids(project).filter((p) => p.trial === '2')).toHaveLength(1);
    expect(squeue().trim()).toBe('');
  }, 120_000);
});
