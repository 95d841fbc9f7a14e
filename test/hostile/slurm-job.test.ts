import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type SlurmSettings } from '../../src/config/schema.js';
import { experimentEnv } from '../../src/runner/environment.js';
import { runExperiment } from '../../src/runner/run-experiment.js';
import { createSlurmExecutor } from '../../src/runner/slurm/slurm-executor.js';
import { experimentSandbox, sandboxedExecutor } from '../../src/sandbox/run-sandbox.js';
import { protectedProjectPaths } from '../../src/sandbox/view.js';
import { sandboxSupport } from '../helpers/sandbox.js';
import { slurmSkipReason, startSlurmCluster, type SlurmCluster } from '../helpers/slurm-cluster.js';

/**
 * A Slurm job is the experiment's process on another machine: it must see no more of crucible's
 * secrets than a local experiment, and nothing but its own output may speak for it.
 */
let cluster: SlurmCluster;
let work: string;

const settingsOf = (slurm: Partial<SlurmSettings> = {}): SlurmSettings =>
  configSchema.parse({ name: 'x', files: { editable: ['a'] }, commands: { run: 'true', eval: 'true' }, metric: { name: 'm', direction: 'minimize' }, executor: { type: 'slurm', slurm: { poll_seconds: 0.2, ...slurm } } }).executor.slurm;

describe(`hostile: Slurm jobs${slurmSkipReason}`, () => {
  beforeAll(() => {
    if (slurmSkipReason) return;
    cluster = startSlurmCluster();
    work = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'crucible-slurm-hostile-')));
  }, 90_000);
  afterAll(() => {
    cluster?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it.skipIf(slurmSkipReason !== '')("a job's environment holds none of crucible's secrets", async () => {
    const crucibleEnv = { ...cluster.env, DB_PASSWORD: 'hunter2-db', SBATCH_API_TOKEN: 'hunter2-sbatch', OPENAI_API_KEY: 'hunter2-openai', SLURM_AUTH_TOKEN: 'hunter2-slurm' };
    const executor = createSlurmExecutor({ settings: settingsOf(), projectDir: work, tag: 'h', env: crucibleEnv });
    const env = experimentEnv({ projectDir: work, base: crucibleEnv, passEnv: [] });
    const result = await runExperiment({ runCommand: 'env > job-env.txt', evalCommand: 'echo score: 1', cwd: work, env, timeoutMs: 20_000, metricName: 'score', executor });
    expect(result.metric.ok).toBe(true);
    const seen = readFileSync(path.join(work, 'job-env.txt'), 'utf8');
    expect(seen).toMatch(/^SLURM_JOB_ID=/m);
    expect(seen).not.toContain('hunter2');
  });

  it.skipIf(slurmSkipReason !== '')("an earlier job's output never speaks for a job that did not run", async () => {
    const logPath = path.join(work, 'trial', 'run.log');
    const env = { PATH: process.env['PATH'], SLURM_CONF: cluster.env['SLURM_CONF'], CRUCIBLE_TRIAL: '3' };
    const common = { runCommand: 'echo ok', evalCommand: 'echo score: 42', cwd: work, env, timeoutMs: 20_000, metricName: 'score', logPath };
    // One crucible session measures the trial; the next (same trial folder) gets a job that never runs.
    const first = await runExperiment({ ...common, executor: createSlurmExecutor({ settings: settingsOf(), projectDir: work, tag: 'h', env: cluster.env }) });
    expect(first.metric).toMatchObject({ ok: true, value: 42 });
    const second = await runExperiment({ ...common, executor: createSlurmExecutor({ settings: settingsOf({ setup: ['exit 0'] }), projectDir: work, tag: 'h', env: cluster.env }) });
    expect(second.metric.ok).toBe(false);
    expect(second.infrastructure).toMatch(/without running the experiment/);
  });

  it.skipIf(slurmSkipReason !== '' || !sandboxSupport.ok)("under the sandbox, a job's experiment cannot write its own evidence (the trial folder) nor outside the project", async () => {
    const project = realpathSync(mkdtempSync(path.join('/var/tmp', 'crucible-slurm-sandbox-')));
    const outside = `/var/tmp/crucible-slurm-escape-${process.pid}`;
    try {
      const wrap = experimentSandbox({ on: true, bwrap: sandboxSupport.ok ? sandboxSupport.bwrap : '', why: '' }, { enabled: true, network: false, agent_network: true, writable: [], agent_writable: [] }, { projectDir: project, readonly: protectedProjectPaths(project), env: process.env });
      const executor = sandboxedExecutor(createSlurmExecutor({ settings: settingsOf(), projectDir: project, tag: 'h', env: cluster.env }), wrap);
      const trialDir = path.join(project, '.crucible', 'runs', 'h', 'trials', '1');
      // The run command forges what an eval would print, in every job folder it can find, and escapes.
      const forge = `for d in ${trialDir}/slurm-*; do echo 'score: 999' > "$d/eval.out"; echo '0 0' > "$d/eval.exit"; done; echo x > ${outside}; echo wrote-here > here.txt`;
      const result = await runExperiment({ runCommand: `${forge}; exit 0`, evalCommand: 'echo score: 1', cwd: project, env: { PATH: process.env['PATH'], SLURM_CONF: cluster.env['SLURM_CONF'], CRUCIBLE_TRIAL: '1' }, timeoutMs: 20_000, metricName: 'score', logPath: path.join(trialDir, 'run.log'), executor });
      expect(result.metric).toMatchObject({ ok: true, value: 1 });
      expect(readFileSync(path.join(project, 'here.txt'), 'utf8')).toBe('wrote-here\n');
      expect(() => readFileSync(outside)).toThrow();
    } finally {
      rmSync(project, { recursive: true, force: true });
      rmSync(outside, { force: true });
    }
  });
});
