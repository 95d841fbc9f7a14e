import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import { checkCliBuilt, createTinyProject, experimentPids, findInconsistencies, planAgent, rowOf, runCli, shellSolution, type TinyProject } from '../helpers/project.js';
import { slurmSkipReason, startSlurmCluster, type SlurmCluster } from '../helpers/slurm-cluster.js';

/**
 * A batch job outlives the crucible that submitted it, and keeps running while nobody watches.
 * When the next run adopts its result, the job must be held to what every experiment is held to:
 * one that rewrote the hidden harness in its slot is a violation, never a keep.
 */
let cluster: SlurmCluster;
let project: TinyProject | undefined;

describe(`hostile: an adopted Slurm job that rewrote the harness in its slot${slurmSkipReason}`, () => {
  beforeAll(() => {
    if (slurmSkipReason) return;
    checkCliBuilt();
    cluster = startSlurmCluster();
  }, 90_000);
  afterAll(() => cluster?.stop());
  afterEach(() => {
    if (!slurmSkipReason) execFileSync('scancel', ['--user=root'], { env: cluster.env });
    project?.cleanup();
    project = undefined;
  });

  it.skipIf(slurmSkipReason !== '')('is a violation, and the harness on the branch and in the project is untouched', async () => {
    const p = createTinyProject({ agent: 'command', parallel: '{ workers: 2, agents: 1 }', timeoutSeconds: 30 });
    project = p;
    const config = path.join(p.dir, '.crucible', 'config.yaml');
    writeFileSync(config, `${readFileSync(config, 'utf8')}executor:\n  type: slurm\n  slurm:\n    poll_seconds: 0.2\n`);
    git(p.dir, 'commit', '-qam', 'experiments as Slurm jobs');
    // Trial 1 scores 50 (the baseline 1), and, once crucible is gone, plants a line in the harness.
    planAgent(p, { 1: { write: { 'solution.js': shellSolution(50, "sleep 2; echo '// planted' >> evaluate.js") } }, 2: { x: 30 } });
    const env = { SLURM_CONF: cluster.env['SLURM_CONF'] };

    const killed = await runCli(p, ['run', '--tag', 't', '-n', '1'], { env: { ...env, CRUCIBLE_FAULT_KILL_AFTER: 'run.start:1' }, timeoutMs: 60_000 });
    expect(killed.signal).toBe('SIGKILL');
    const resumed = await runCli(p, ['run', '--tag', 't', '-n', '1'], { env, timeoutMs: 90_000 });
    expect(resumed.code, resumed.stderr).toBe(0);

    // Its result was the job's own (no second run), and the job was judged with the slot's files.
    expect(experimentPids(p).filter((e) => e.trial === '1')).toHaveLength(1);
    expect(rowOf(p.dir, 't', 1)?.['status']).toBe('violation');
    expect(rowOf(p.dir, 't', 2)).toMatchObject({ status: 'keep', metric_value: '30' });
    expect(git(p.dir, 'show', 'crucible/t:evaluate.js')).not.toContain('planted');
    expect(readFileSync(path.join(p.dir, 'evaluate.js'), 'utf8')).not.toContain('planted');
    expect(findInconsistencies(p.dir, 't')).toEqual([]);
  }, 150_000);
});
