import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import { checkCliBuilt, createTinyProject, experimentPids, findInconsistencies, isProcessAlive, ledgerEvents, planAgent, resultRows, rowOf, runCli, setKnob, waitUntil, type TinyProject } from '../helpers/project.js';
import { slurmSkipReason, startSlurmCluster, type SlurmCluster } from '../helpers/slurm-cluster.js';

/**
 * A crucible killed with jobs in flight in its slots (workers 2): the next run adopts the jobs
 * that finish, decides their trials as if nothing had happened, and cancels the old jobs even when
 * the user switched `executor` back to `local` (or names them when scancel cannot be reached).
 */
let cluster: SlurmCluster;
const projects: TinyProject[] = [];
const tempDirs: string[] = [];

const slurmKeys = ['executor:', '  type: slurm', '  slurm:', '    poll_seconds: 0.2', ''].join('\n');

function slurmProject(options: Parameters<typeof createTinyProject>[0] = {}): TinyProject {
  const project = createTinyProject({ parallel: '{ workers: 2 }', timeoutSeconds: 30, ...options });
  projects.push(project);
  const config = path.join(project.dir, '.crucible', 'config.yaml');
  writeFileSync(config, `${readFileSync(config, 'utf8')}${slurmKeys}`);
  git(project.dir, 'commit', '-qam', 'experiments as Slurm jobs');
  return project;
}

const env = (): NodeJS.ProcessEnv => ({ SLURM_CONF: cluster.env['SLURM_CONF'] });
const squeue = (): string => execFileSync('squeue', ['-h', '-o', '%i %j %T'], { env: cluster.env, encoding: 'utf8' });

/** A baseline and trial 1, then a run SIGKILLed once trials 2 and 3 both have a job in the queue. */
async function killWithTwoJobsInFlight(project: TinyProject): Promise<void> {
  const first = await runCli(project, ['run', '--tag', 'k', '-n', '1'], { env: env(), timeoutMs: 60_000 });
  expect(first.code, first.stderr).toBe(0);
  // Both trials' jobs named in the ledger, whichever was submitted last: killed after run.start:3
  // alone, trial 2's job was once still on its way (submitted, its id not yet written).
  const killed = await runCli(project, ['run', '--tag', 'k', '-n', '2'], { env: { ...env(), CRUCIBLE_FAULT_KILL_AFTER: 'run.start:2+run.start:3' }, timeoutMs: 60_000 });
  expect(killed.signal).toBe('SIGKILL');
  const started = ledgerEvents(project.dir, 'k').filter((e) => e.type === 'run.start').map((e) => e.n);
  expect(started).toEqual(expect.arrayContaining([2, 3]));
  const queued = squeue();
  expect(queued).toMatch(/crucible-k-2-/);
  expect(queued).toMatch(/crucible-k-3-/);
}

/** Once trials 2 and 3's experiments sleep, their changes measured again will not. */
async function sleepOnlyOnce(project: TinyProject): Promise<void> {
  await waitUntil(() => ['2', '3'].every((n) => experimentPids(project).some((p) => p.trial === n)), 'trials 2 and 3 running', 30_000);
  for (const n of [2, 3]) setKnob(project, `sleep-ms.${n}`, null);
}

describe(`crucible run on Slurm, after a crash with jobs in slots${slurmSkipReason}`, () => {
  beforeAll(() => {
    if (slurmSkipReason) return;
    checkCliBuilt();
    cluster = startSlurmCluster();
  }, 90_000);
  afterAll(() => {
    for (const project of projects) project.cleanup();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
    cluster?.stop();
  });
  afterEach(() => {
    if (!slurmSkipReason) execFileSync('scancel', ['--user=root'], { env: cluster.env });
  });

  it.skipIf(slurmSkipReason !== '')('adopts both finished jobs: each trial decided from the job the killed run submitted', async () => {
    const project = slurmProject();
    setKnob(project, 'sleep-ms', 1500);
    await killWithTwoJobsInFlight(project);

    const resumed = await runCli(project, ['run', '--tag', 'k', '-n', '1'], { env: env(), timeoutMs: 90_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    const said = resumed.stdout + resumed.stderr;
    expect(said).toMatch(/trial 2's experiment had been submitted as a Slurm job from slot \d when the last run stopped; its finished result was adopted/);
    expect(said).toMatch(/trial 3's experiment had been submitted as a Slurm job from slot \d when the last run stopped; its finished result was adopted/);
    for (const n of [2, 3]) {
      const row = resultRows(project.dir, 'k').find((r) => r['trial'] === String(n));
      expect(row?.['status']).toMatch(/^(keep|discard|stale)$/);
      expect(row?.['metric_value']).toMatch(/^\d+$/);
      // Measured once: by the job the killed run submitted.
      expect(experimentPids(project).filter((p) => p.trial === String(n))).toHaveLength(1);
      expect(ledgerEvents(project.dir, 'k').filter((e) => e.type === 'run.start' && e.n === n)).toHaveLength(1);
    }
    expect(findInconsistencies(project.dir, 'k')).toEqual([]);
    expect(squeue().trim()).toBe('');
  }, 180_000);

  it.skipIf(slurmSkipReason !== '')('confirms an adopted candidate in the slot its job ran in, as an uninterrupted run would', async () => {
    const project = slurmProject({ agent: 'command', parallel: '{ workers: 2, agents: 1 }', evaluation: '{ baseline_repeats: 1, confirm: true }' });
    planAgent(project, { 1: { x: 50 }, 2: { x: 30 } });
    setKnob(project, 'sleep-ms.1', 1500);
    const killed = await runCli(project, ['run', '--tag', 'c', '-n', '1'], { env: { ...env(), CRUCIBLE_FAULT_KILL_AFTER: 'run.start:1' }, timeoutMs: 60_000 });
    expect(killed.signal).toBe('SIGKILL');

    const resumed = await runCli(project, ['run', '--tag', 'c', '-n', '1'], { env: env(), timeoutMs: 120_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout + resumed.stderr).toMatch(/trial 1's experiment had been submitted as a Slurm job from slot \d .*adopted \(keep\)/);
    expect(rowOf(project.dir, 'c', 1)).toMatchObject({ status: 'keep', metric_value: '50' });
    const starts = ledgerEvents(project.dir, 'c').filter((e) => e.type === 'run.start' && e.n === 1);
    // The killed run's job, then the confirmation's runs of the incumbent and the candidate, all in one slot.
    expect(starts.length).toBeGreaterThan(2);
    expect(starts.some((e) => e['role'] === 'incumbent')).toBe(true);
    expect(new Set(starts.map((e) => e['slot'])).size).toBe(1);
    expect(experimentPids(project).filter((p) => p.trial === '1')).toHaveLength(starts.length);
    expect(findInconsistencies(project.dir, 'c')).toEqual([]);
    expect(squeue().trim()).toBe('');
  }, 180_000);

  it.skipIf(slurmSkipReason !== '')('cancels the old jobs after the user switched executor to local', async () => {
    const project = slurmProject();
    for (const n of [2, 3]) setKnob(project, `sleep-ms.${n}`, 120_000);
    await killWithTwoJobsInFlight(project);
    await sleepOnlyOnce(project);
    const config = path.join(project.dir, '.crucible', 'config.yaml');
    // The one key the user changes (left uncommitted: a commit on the run branch would be the user's, not a trial's).
    writeFileSync(config, readFileSync(config, 'utf8').replace('  type: slurm', '  type: local'));

    const resumed = await runCli(project, ['run', '--tag', 'k', '-n', '1'], { env: env(), timeoutMs: 90_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(squeue().trim()).toBe('');
    // Their commits were measured again first, here.
    for (const n of [2, 3]) {
      expect(resultRows(project.dir, 'k').find((r) => r['trial'] === String(n))?.['status']).toMatch(/^(keep|discard|stale)$/);
      const last = ledgerEvents(project.dir, 'k').findLast((e) => e.type === 'run.start' && e.n === n);
      expect((last?.['handle'] as { executor: string } | undefined)?.executor).toBe('local');
    }
    expect(findInconsistencies(project.dir, 'k').filter((line) => !line.includes('.crucible/config.yaml'))).toEqual([]);
  }, 180_000);

  it.skipIf(slurmSkipReason !== '')('ends the old local experiments after the user switched executor to slurm', async () => {
    const project = createTinyProject({ parallel: '{ workers: 2 }', timeoutSeconds: 30 });
    projects.push(project);
    for (const n of [2, 3]) setKnob(project, `sleep-ms.${n}`, 120_000);
    const first = await runCli(project, ['run', '--tag', 'k', '-n', '1'], { timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    const killed = await runCli(project, ['run', '--tag', 'k', '-n', '2'], { env: { CRUCIBLE_FAULT_KILL_AFTER: 'run.start:3' }, timeoutMs: 60_000 });
    expect(killed.signal).toBe('SIGKILL');
    await sleepOnlyOnce(project);
    const config = path.join(project.dir, '.crucible', 'config.yaml');
    writeFileSync(config, `${readFileSync(config, 'utf8')}${slurmKeys}`);

    // The killed run's experiments, before the resumed run measures the same trials again.
    const old = experimentPids(project).filter((p) => p.trial === '2' || p.trial === '3');
    expect(old.length).toBeGreaterThan(0);

    const resumed = await runCli(project, ['run', '--tag', 'k', '-n', '1'], { env: env(), timeoutMs: 90_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const experiment of old) expect(isProcessAlive(experiment)).toBe(false);
    // Their commits were measured again first, as jobs.
    for (const n of [2, 3]) {
      expect(resultRows(project.dir, 'k').find((r) => r['trial'] === String(n))?.['status']).toMatch(/^(keep|discard|stale)$/);
      const last = ledgerEvents(project.dir, 'k').findLast((e) => e.type === 'run.start' && e.n === n);
      expect((last?.['handle'] as { executor: string } | undefined)?.executor).toBe('slurm');
    }
  }, 180_000);

  it.skipIf(slurmSkipReason !== '')('names the old jobs in one warning when scancel cannot be reached', async () => {
    const project = slurmProject();
    for (const n of [2, 3]) setKnob(project, `sleep-ms.${n}`, 120_000);
    await killWithTwoJobsInFlight(project);
    const jobs = squeue()
      .trim()
      .split('\n')
      .map((line) => ({ id: line.split(' ')[0]!, name: line.split(' ')[1]! }));
    await sleepOnlyOnce(project);
    const config = path.join(project.dir, '.crucible', 'config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('  type: slurm', '  type: local'));
    // A machine without Slurm's commands: only node and git on PATH.
    const bin = mkdtempSync(path.join(os.tmpdir(), 'crucible-noslurm-'));
    tempDirs.push(bin);
    for (const tool of ['node', 'git']) symlinkSync(`/usr/bin/${tool}`, path.join(bin, tool));

    const resumed = await runCli(project, ['run', '--tag', 'k', '-n', '1'], { env: { ...env(), PATH: bin }, timeoutMs: 90_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    const warnings = resumed.stderr.split('\n').filter((line) => line.includes('could not be cancelled'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/scancel not found/);
    // By its id where the ledger has it; by its name where the kill came before the id was
    // written (the job was submitted, its id not yet recorded): either cancels exactly that job.
    for (const { id, name } of jobs) expect(warnings[0]).toMatch(new RegExp(`scancel (${id}|--name=${name})(;|$)`));
    // Still there: nobody could cancel them.
    expect(squeue().trim().split('\n')).toHaveLength(2);
  }, 180_000);
});
